"""Webhooks through the real route and the real simulator: every type, duplicates,
shuffled statuses and refused signatures (issue 4, item 6)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import message_webhook, status_webhook
from engine.db import workspace_session
from engine.models import (
    Contact,
    Conversation,
    Identity,
    InboundEvent,
    Message,
    MessageReaction,
)
from engine.outbox.sends import queue_template, queue_text
from tests.reliability.harness import SHOP, Stack, encode
from tests.reliability.history import check_history, simulator_sends

pytestmark = pytest.mark.services

FIRST_STEPS: list[dict[str, object]] = [
    {"text": "Habari! Do you deliver to Westlands?"},
    {"image": {"caption": "This one, please"}},
    {"audio": {}},
    {"video": {"caption": "How it looks"}},
    {"document": {"caption": "My order", "filename": "order.pdf"}},
    {"sticker": {}},
    {"location": {"latitude": -1.2676, "longitude": 36.8108, "name": "Westlands"}},
    {"contacts": {"name": "Amina Wanjiru", "phone": "+254 712 345 678"}},
    {"order": {"items": [{"id": "sku-7", "quantity": 2, "price": 450}], "text": "these"}},
    {"unsupported": "poll"},
    {"text": "Look at this", "forwarded": True},
    {
        "text": "I saw your advert",
        "referral": {
            "source_url": "https://fb.me/kazi-ad",
            "source_type": "ad",
            "source_id": "1203948",
            "headline": "Free delivery",
            "ctwa_clid": "ARAkLkA8r",
        },
    },
]
AFTER_REPLY_STEPS: list[dict[str, object]] = [
    {"button_reply": {"id": "yes", "title": "Yes"}},
    {"list_reply": {"id": "westlands", "title": "Westlands", "description": "Same day"}},
    {"button": {"text": "Track order", "payload": "track"}},
    {"reaction": "👍"},
    {"text": "Thanks!", "reply_to_last": True},
]


def _conversation_of(stack: Stack, wa_id: str) -> int:
    with workspace_session(stack.db, stack.workspace_id) as session:
        return session.scalars(
            select(Conversation.id)
            .join(Identity, Identity.contact_id == Conversation.contact_id)
            .where(Identity.address == f"+{wa_id}")
        ).one()


def _inbound_count(stack: Stack) -> int:
    with workspace_session(stack.db, stack.workspace_id) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "inbound")
            )
            or 0
        )


def _events(stack: Stack) -> int:
    with workspace_session(stack.db, stack.workspace_id) as session:
        return int(session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


def test_every_message_type_and_status_through_the_webhook_route(stack: Stack) -> None:
    wa_id = "254722100001"
    for step in FIRST_STEPS:
        stack.customer_says(wa_id, step)
    stack.drain(lambda: _inbound_count(stack) == len(FIRST_STEPS) and stack.settled())
    conversation_id = _conversation_of(stack, wa_id)

    # Replies: a text that is read, a template that fails after `sent`.
    with workspace_session(stack.db, stack.workspace_id) as session:
        now = stack.clock.now()
        read_id = queue_text(
            session,
            conversation_id=conversation_id,
            body="Yes, today",
            author_teammate_id=None,
            now=now,
        ).id
        session.commit()
    stack.drain(lambda: stack.settled() and _state(stack, read_id) == "read")
    stack.faults("failed-after-sent:1")
    with workspace_session(stack.db, stack.workspace_id) as session:
        failed_id = queue_template(
            session,
            conversation_id=conversation_id,
            template_name="order_update",
            language="en",
            parameters=["Amina", "KD-1001"],
            author_teammate_id=None,
            now=stack.clock.now(),
        ).id
        session.commit()
    stack.drain(lambda: stack.settled() and _state(stack, failed_id) == "failed")

    for step in AFTER_REPLY_STEPS:
        stack.customer_says(wa_id, step)
    # A reaction is not a timeline message: it is shown on the message it reacts to.
    expected = len(FIRST_STEPS) + len(AFTER_REPLY_STEPS) - 1
    stack.drain(lambda: _inbound_count(stack) == expected and stack.settled())
    stack.customer_says(wa_id, {"change_number": "254722100099"})
    stack.customer_says("254722100099", {"text": "New number, same me"})
    stack.drain(lambda: _inbound_count(stack) == expected + 1 and stack.settled())

    with workspace_session(stack.db, stack.workspace_id) as session:
        inbound = list(
            session.scalars(
                select(Message).where(Message.direction == "inbound").order_by(Message.id)
            )
        )
        types = {m.type for m in inbound}
        assert {
            "text",
            "image",
            "audio",
            "video",
            "document",
            "sticker",
            "location",
            "contacts",
            "interactive",
            "button",
            "unsupported",
        } <= types
        assert "reaction" not in types
        [reaction] = session.scalars(select(MessageReaction)).all()
        assert (reaction.reactor, reaction.emoji) == ("contact", "👍")
        replied = [m for m in inbound if m.replied_to_provider_message_id]
        assert replied, "replies with context keep what they answer"
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
        failed = session.get(Message, failed_id)
        assert failed is not None and failed.failure_code == "131026"
        current = session.scalars(
            select(Identity.address).where(Identity.is_current.is_(True))
        ).all()
        assert current == ["+254722100099"]
    check_history(stack.db, stack.workspace_id, simulator_sends(stack.simulator.sends))


def _state(stack: Stack, message_id: int) -> str | None:
    with workspace_session(stack.db, stack.workspace_id) as session:
        message = session.get(Message, message_id)
        return message.delivery_state if message else None


def test_the_same_webhook_five_times_at_once_is_one_message(stack: Stack) -> None:
    body = encode(
        message_webhook(
            SHOP,
            "254722100002",
            "Otieno",
            {
                "from": "254722100002",
                "id": "wamid.five-at-once",
                "type": "text",
                "timestamp": str(int(datetime.now(UTC).timestamp())),
                "text": {"body": "Niko na swali"},
            },
        )
    )
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: stack.post(body), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sum(int(a.json()["stored"]) for a in answers) == 1
    assert sum(int(a.json()["duplicates"]) for a in answers) == 4
    stack.drain(stack.settled)
    assert _inbound_count(stack) == 1
    assert _events(stack) == 1
    check_history(stack.db, stack.workspace_id, [], delivered_wamids=["wamid.five-at-once"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_statuses_in_any_order_end_in_the_right_state(stack: Stack, seed: int) -> None:
    wa_id = f"25472210010{seed}"
    stack.customer_says(wa_id, {"text": "Order status?"})
    stack.drain(lambda: _inbound_count(stack) == 1 and stack.settled())
    conversation_id = _conversation_of(stack, wa_id)
    # Two sends whose real statuses are withheld; shuffled copies are posted instead.
    stack.simulator.config.send_statuses = False
    with workspace_session(stack.db, stack.workspace_id) as session:
        ids = [
            queue_text(
                session,
                conversation_id=conversation_id,
                body=f"Reply {n}",
                author_teammate_id=None,
                now=stack.clock.now(),
            ).id
            for n in range(2)
        ]
        session.commit()
    stack.drain(lambda: stack.settled() and all(_state(stack, i) == "accepted" for i in ids))
    sends = {s.callback_data: s for s in stack.simulator.sends}
    now = int(datetime.now(UTC).timestamp())
    bodies = []
    endings = {ids[0]: ["sent", "delivered", "read"], ids[1]: ["sent", "delivered", "failed"]}
    for message_id, statuses in endings.items():
        send = sends[f"message:{message_id}"]
        for offset, status in enumerate(statuses):
            bodies.append(
                status_webhook(
                    SHOP,
                    wamid=send.wamid,
                    status=status,
                    recipient=wa_id,
                    timestamp=now + offset,
                    callback_data=send.callback_data,
                    category="service",
                    errors=[{"code": 131026, "title": "Message undeliverable"}]
                    if status == "failed"
                    else None,
                )
            )
    random.Random(seed).shuffle(bodies)
    bodies.append(bodies[0])  # and one late duplicate
    for body in bodies:
        assert stack.post(body).status_code == 200
    stack.drain(stack.settled)
    assert _state(stack, ids[0]) == "read"
    assert _state(stack, ids[1]) == "failed"
    check_history(stack.db, stack.workspace_id, simulator_sends(stack.simulator.sends))


def test_forged_missing_or_wrong_body_signatures_are_refused(stack: Stack) -> None:
    document = message_webhook(
        SHOP,
        "254722100003",
        "Mallory",
        {
            "from": "254722100003",
            "id": "wamid.forged",
            "type": "text",
            "timestamp": str(int(datetime.now(UTC).timestamp())),
            "text": {"body": "pay me"},
        },
    )
    body = encode(document)
    assert stack.post(body, secret=None).status_code == 401  # missing
    assert stack.post(body, secret="not-the-app-secret").status_code == 401  # forged
    signed_other = sign(body + b" ", "reliability-app-secret")
    wrong_body = httpx.post(
        stack.webhook_url,
        content=body,
        headers={SIGNATURE_HEADER: signed_other, "Content-Type": "application/json"},
        timeout=5,
    )
    assert wrong_body.status_code == 401
    malformed = httpx.post(
        stack.webhook_url,
        content=body,
        headers={SIGNATURE_HEADER: "sha256=zz", "Content-Type": "application/json"},
        timeout=5,
    )
    assert malformed.status_code == 401
    assert _events(stack) == 0
