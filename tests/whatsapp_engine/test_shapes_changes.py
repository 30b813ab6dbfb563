"""Issue 15: reactions (§5.8), edits and revokes (§5.13) and business-app echoes (§5.14),
from the signed webhook through the worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.payloads import (
    echo_webhook,
    edit,
    message_webhook,
    reaction,
    revoke,
    unsupported,
)
from engine.db import workspace_session
from engine.models import (
    Conversation,
    Message,
    MessageEdit,
    MessageReaction,
    RuleFiring,
    UnmatchedItem,
)
from tests.whatsapp_engine.shapes import EPOCH, NOW, SHOP, Shop, shop

__all__ = ["shop"]

CUSTOMER = "254722000001"


def messages(shop: Shop) -> list[Message]:
    return shop.rows(Message)


def test_a_reaction_attaches_to_its_message_and_a_removal_clears_it(shop: Shop) -> None:
    shop.says("wamid.q1", CUSTOMER, "Mna TV ya inchi 55?")
    [event] = shop.message(reaction("wamid.r1", CUSTOMER, EPOCH + 10, "wamid.q1", "👍"))[-1:]
    assert (event.state, event.last_error) == ("processed", None)
    [message] = messages(shop)  # no new timeline message
    [mark] = shop.rows(MessageReaction)
    assert (mark.message_id, mark.reactor, mark.emoji) == (message.id, "contact", "👍")
    shop.message(reaction("wamid.r2", CUSTOMER, EPOCH + 20, "wamid.q1", ""))
    assert shop.rows(MessageReaction)[0].emoji is None
    shop.message(reaction("wamid.r3", CUSTOMER, EPOCH + 30, "wamid.q1", "😮"))
    shop.message(reaction("wamid.r4", CUSTOMER, EPOCH + 40, "wamid.q1", None))  # no emoji key
    assert shop.rows(MessageReaction)[0].emoji is None
    # A late, older reaction does not bring back what was cleared.
    shop.message(reaction("wamid.r0", CUSTOMER, EPOCH + 5, "wamid.q1", "❤️"))
    assert shop.rows(MessageReaction)[0].emoji is None
    assert len(messages(shop)) == 1


def test_a_reaction_never_fires_message_received_but_keeps_the_window_open(
    shop: Shop,
) -> None:
    shop.says("wamid.q2", CUSTOMER, "Habari, bei ya TV ni ngapi?")
    fired_before = len(shop.rows(RuleFiring))
    assert fired_before > 0  # the retail rules do answer a customer's message
    later = EPOCH + 3600
    shop.message(reaction("wamid.r5", CUSTOMER, later, "wamid.q2", "🙏"))
    assert len(shop.rows(RuleFiring)) == fired_before
    [conversation] = shop.rows(Conversation)
    assert conversation.last_customer_message_at == NOW + timedelta(seconds=3600)


def test_a_reaction_to_an_unknown_message_is_kept_and_applied_when_it_arrives(
    shop: Shop,
) -> None:
    [event] = shop.message(reaction("wamid.r6", CUSTOMER, EPOCH + 5, "wamid.later", "👍"))
    assert event.state == "processed"
    assert shop.rows(Conversation) == [] and shop.rows(MessageReaction) == []
    [kept] = shop.rows(UnmatchedItem)
    assert (kept.kind, kept.summary, kept.state) == ("reaction", "👍", "waiting")
    shop.says("wamid.later", CUSTOMER, "Ile TV bado ipo?", at=EPOCH)
    [message] = messages(shop)
    [mark] = shop.rows(MessageReaction)
    assert (mark.message_id, mark.emoji) == (message.id, "👍")
    assert shop.rows(UnmatchedItem)[0].state == "applied"


def test_an_edit_updates_the_body_and_keeps_the_history(shop: Shop) -> None:
    shop.says("wamid.e1", CUSTOMER, "Bei ya TV mbili ni ngapi?")
    fired = len(shop.rows(RuleFiring))
    assert fired > 0
    shop.message(
        edit("wamid.e1-edit", CUSTOMER, EPOCH + 30, "wamid.e1", "Bei ya TV tatu ni ngapi?")
    )
    [message] = messages(shop)
    assert message.body == "Bei ya TV tatu ni ngapi?"
    assert message.edited_at == NOW + timedelta(seconds=30)
    [history] = shop.rows(MessageEdit)
    assert (history.previous_body, history.body, history.text_known) == (
        "Bei ya TV mbili ni ngapi?",
        "Bei ya TV tatu ni ngapi?",
        True,
    )
    assert len(shop.rows(RuleFiring)) == fired  # not a new message


def test_an_unsupported_edit_marks_the_message_edited_and_keeps_its_text(shop: Shop) -> None:
    shop.says("wamid.e2", CUSTOMER, "Niletee kesho")
    shop.message(unsupported("wamid.e2-edit", CUSTOMER, EPOCH + 30, "edit", "wamid.e2"))
    [message] = messages(shop)
    assert (message.body, message.edited_at) == ("Niletee kesho", NOW + timedelta(seconds=30))
    [history] = shop.rows(MessageEdit)
    assert history.text_known is False


def test_an_unsupported_edit_naming_no_message_is_kept_as_an_orphan(shop: Shop) -> None:
    shop.says("wamid.e3", CUSTOMER, "Niletee kesho")
    [*_, event] = shop.message(unsupported("wamid.e3-edit", CUSTOMER, EPOCH + 30, "edit"))
    assert event.state == "processed"
    assert len(messages(shop)) == 1
    [kept] = shop.rows(UnmatchedItem)
    assert (kept.kind, kept.state) == ("edit", "orphaned")


def test_a_revoke_marks_the_message_deleted_and_keeps_it(shop: Shop) -> None:
    shop.says("wamid.d1", CUSTOMER, "Bei ya TV? Namba yangu ya siri ni 1234")
    fired = len(shop.rows(RuleFiring))
    assert fired > 0
    shop.message(revoke("wamid.d1-revoke", CUSTOMER, EPOCH + 30, "wamid.d1"))
    [message] = messages(shop)
    assert message.deleted_at == NOW + timedelta(seconds=30)
    assert message.body == "Bei ya TV? Namba yangu ya siri ni 1234"  # kept for the audit
    assert len(shop.rows(RuleFiring)) == fired


def test_a_revoke_before_its_message_is_applied_when_the_message_comes(shop: Shop) -> None:
    shop.message(revoke("wamid.d2-revoke", CUSTOMER, EPOCH + 30, "wamid.d2"))
    assert shop.rows(Message) == []
    shop.says("wamid.d2", CUSTOMER, "oops")
    [message] = messages(shop)
    assert message.deleted_at is not None


def echo_text(wamid: str, text: str, at: int) -> dict[str, object]:
    return {"id": wamid, "timestamp": str(at), "type": "text", "text": {"body": text}}


def test_an_echo_is_an_outbound_reply_from_the_phone_app(shop: Shop) -> None:
    shop.says("wamid.c1", CUSTOMER, "Mko wazi leo?")
    [before] = shop.rows(Conversation)
    assert before.waiting_on == "us" and before.first_response_due_at is not None
    fired = len(shop.rows(RuleFiring))
    [*_, event] = shop.deliver(
        echo_webhook(SHOP, CUSTOMER, echo_text("wamid.c1-echo", "Ndio, hadi saa kumi", EPOCH + 60))
    )
    assert (event.state, event.last_error) == ("processed", None)
    _, echoed = messages(shop)
    assert (echoed.direction, echoed.sent_via, echoed.author_kind) == (
        "outbound",
        "business_app",
        "teammate",
    )
    assert echoed.body == "Ndio, hadi saa kumi"
    [after] = shop.rows(Conversation)
    assert after.id == before.id
    assert (after.waiting_on, after.status) == ("customer", "waiting_on_customer")
    assert after.first_response_due_at is None  # answered: the SLA clock is met
    # Our own messages never move the 24-hour window, and no inbound rule ran.
    assert after.last_customer_message_at == before.last_customer_message_at
    assert len(shop.rows(RuleFiring)) == fired


def test_an_echoed_reaction_is_the_business_reaction(shop: Shop) -> None:
    shop.says("wamid.c2", CUSTOMER, "Asante sana")
    shop.deliver(
        echo_webhook(SHOP, CUSTOMER, reaction("wamid.c2-r", "", EPOCH + 5, "wamid.c2", "❤️"))
    )
    [mark] = shop.rows(MessageReaction)
    assert (mark.reactor, mark.emoji) == ("business", "❤️")
    with workspace_session(shop.db, shop.workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_reaction_kept_while_its_message_was_being_stored_is_mended_next_event(
    shop: Shop,
) -> None:
    # Two workers crossed: the reaction was kept as waiting although its message got
    # stored by another transaction at the same moment.
    shop.says("wamid.x1", CUSTOMER, "Habari")
    [item] = parse_envelope(
        message_webhook(
            SHOP, CUSTOMER, "Achieng", reaction("wamid.x2", CUSTOMER, EPOCH, "wamid.x1", "👌")
        )
    )
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            UnmatchedItem(
                target_provider_message_id="wamid.x1",
                kind="reaction",
                summary="👌",
                payload=item.envelope,
                received_at=NOW,
            )
        )
        session.commit()
    shop.says("wamid.x3", CUSTOMER, "Uko?", at=EPOCH + 5)
    [mark] = shop.rows(MessageReaction)
    assert mark.emoji == "👌"
    assert [i.state for i in shop.rows(UnmatchedItem)] == ["applied"]
