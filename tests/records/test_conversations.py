"""Conversations, their messages and the business objects they are about."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from engine.db import workspace_session
from engine.identity import identify
from engine.models import (
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    ConversationTag,
    Message,
    MessageStatusEvent,
)
from tests.records.moments import NOW

BUSINESS_NUMBER = "+254700000001"


def test_one_contact_two_orders_two_conversations_each_about_one_order(
    db: Engine, workspace_id: int
) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        orders = [
            BusinessObject(
                kind="order",
                external_ref=ref,
                status="placed",
                amount=Decimal(amount),
                currency="KES",
                contact=contact,
                fields={"items": 3},
            )
            for ref, amount in (("ORD-1001", "1250.50"), ("ORD-1002", "80.00"))
        ]
        first = Conversation(
            contact=contact,
            business_number=BUSINESS_NUMBER,
            opened_at=NOW,
            status="resolved",
            resolved_at=NOW + timedelta(hours=2),
        )
        second = Conversation(
            contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW + timedelta(days=3)
        )
        session.add_all(orders)
        session.add(BusinessObjectLink(conversation=first, business_object=orders[0]))
        session.add(BusinessObjectLink(conversation=second, business_object=orders[1]))
        session.commit()
        contact_id, order_ids = contact.id, [order.id for order in orders]

    with workspace_session(db, workspace_id) as session:
        contact = session.get_one(Contact, contact_id)
        assert sorted(o.external_ref or "" for o in contact.business_objects) == [
            "ORD-1001",
            "ORD-1002",
        ]
        conversations = sorted(contact.conversations, key=lambda c: c.opened_at)
        assert [c.status for c in conversations] == ["resolved", "open"]
        assert [[o.id for o in c.business_objects] for c in conversations] == [
            [order_ids[0]],
            [order_ids[1]],
        ]
        order = session.get_one(BusinessObject, order_ids[0])
        assert order.amount == Decimal("1250.50")
        assert [c.id for c in order.conversations] == [conversations[0].id]


def test_two_open_conversations_for_one_contact_and_number_are_refused(
    db: Engine, workspace_id: int
) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        session.add(Conversation(contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW))
        session.commit()
        session.add(
            Conversation(
                contact=contact,
                business_number=BUSINESS_NUMBER,
                opened_at=NOW,
                status="waiting_on_customer",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_resolving_frees_the_thread_and_other_numbers_are_separate(
    db: Engine, workspace_id: int
) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        first = Conversation(contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW)
        other_line = Conversation(contact=contact, business_number="+254700000002", opened_at=NOW)
        session.add_all([first, other_line])
        session.commit()
        first.status = "resolved"
        first.resolved_at = NOW + timedelta(hours=1)
        session.add(
            Conversation(
                contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW + timedelta(days=1)
            )
        )
        session.commit()
        statuses = session.scalars(
            select(Conversation.status)
            .where(Conversation.contact_id == contact.id)
            .order_by(Conversation.id)
        ).all()
        assert statuses == ["resolved", "open", "open"]


def test_tags_query_the_same_on_both_databases(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        tagged = Conversation(contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW)
        tagged.tags = [ConversationTag(name="vip"), ConversationTag(name="wholesale")]
        plain = Conversation(contact=contact, business_number="+254700000009", opened_at=NOW)
        session.add_all([tagged, plain])
        session.commit()
        vip = session.scalars(
            select(Conversation).join(Conversation.tags).where(ConversationTag.name == "vip")
        ).all()
        assert vip == [tagged]
        assert tagged.tag_names == ["vip", "wholesale"]
        session.add(ConversationTag(conversation=tagged, name="vip"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_provider_message_ids_are_unique_per_workspace_when_present(
    db: Engine, workspace_id: int, make_workspace: object
) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        conversation = Conversation(contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW)
        inbound = Message(
            conversation=conversation,
            direction="inbound",
            type="text",
            body="Habari, is the order ready?",
            provider_message_id="wamid.A",
            author_kind="contact",
            author_contact_id=None,
            provider_timestamp=NOW,
        )
        # Drafts and queued replies have no provider id yet: any number of them.
        drafts = [
            Message(
                conversation=conversation,
                direction="outbound",
                type="text",
                body=f"draft {n}",
                author_kind="rule",
                author_rule="acknowledge",
                delivery_state="queued",
                replied_to=inbound,
            )
            for n in range(2)
        ]
        session.add_all([inbound, *drafts])
        session.commit()
        assert drafts[0].replied_to is inbound
        session.add(
            Message(
                conversation=conversation,
                direction="inbound",
                type="text",
                body="again",
                provider_message_id="wamid.A",
                author_kind="contact",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_every_raw_status_is_kept_beside_the_delivery_state(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        conversation = Conversation(contact=contact, business_number=BUSINESS_NUMBER, opened_at=NOW)
        message = Message(
            conversation=conversation,
            direction="outbound",
            type="template",
            author_kind="teammate",
            provider_message_id="wamid.B",
            delivery_state="read",
        )
        for n, status in enumerate(("sent", "read", "delivered")):
            message.status_events.append(
                MessageStatusEvent(
                    status=status,
                    provider_timestamp=NOW + timedelta(seconds=n),
                    raw={"status": status},
                    recorded_at=NOW + timedelta(seconds=n),
                )
            )
        session.add(message)
        session.commit()
        message_id = message.id

    with workspace_session(db, workspace_id) as session:
        message = session.get_one(Message, message_id)
        assert message.delivery_state == "read"
        assert [e.status for e in message.status_events] == ["sent", "read", "delivered"]
        message.delivery_state = "bounced"
        with pytest.raises(StatementError, match="not among the defined enum values"):
            session.commit()
        session.rollback()
        # The database refuses it too, for writers that bypass the ORM.
        with pytest.raises(IntegrityError):
            session.execute(
                text("UPDATE messages SET delivery_state = 'bounced' WHERE id = :id"),
                {"id": message_id},
            )
