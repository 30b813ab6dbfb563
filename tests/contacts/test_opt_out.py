"""Opt-out keywords (consent.yaml): a customer who sends STOP or ACHA is opted out at once,
told so in their language, left out of every opted-in segment, and only their own START
opts them back in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.automation.inbound import automations_for
from engine.contacts import ConsentRefused, ConsentSource, Segment, record_consent
from engine.contacts.keywords import with_consent_keywords
from engine.contacts.segments import segment_query
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import process_inbound_event
from engine.models import (
    ConsentEvent,
    ConsentState,
    ContactConsent,
    Conversation,
    Direction,
    InboundEvent,
    Message,
)
from engine.whatsapp.apply import apply_whatsapp_event
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder

SHOP = Business("1020", "104729384756101", "254711502300")
START = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


class Shop:
    def __init__(self, db: Engine, config_dir: Path, slug: str) -> None:
        self.db = db
        self.configs = ConfigDirectory(config_dir)
        self.workspace_id = load_folder(db, config_dir / slug, START)
        self.clock = FrozenClock(START)
        self.sequence = 0

    def customer_says(self, wa_id: str, text: str) -> None:
        self.sequence += 1
        self.clock.advance(timedelta(minutes=1))
        body = json.dumps(
            message_webhook(
                SHOP,
                wa_id,
                "Achieng",
                {
                    "from": wa_id,
                    "id": f"wamid.consent-{wa_id}-{self.sequence}",
                    "timestamp": str(int(self.clock.now().timestamp())),
                    "type": "text",
                    "text": {"body": text},
                },
            )
        ).encode()
        with workspace_session(self.db, self.workspace_id) as session:
            stored = store_inbound(
                session,
                workspace_id=self.workspace_id,
                provider="whatsapp",
                items=[
                    RawItem(dedup_key=e.dedup_key, payload=e.envelope) for e in parse_webhook(body)
                ],
                signature_ok=True,
                now=self.clock.now(),
            )
            session.commit()
        for event_id in stored.new_event_ids:
            process_inbound_event(
                event_id=event_id,
                db=self.db,
                clock=self.clock,
                handlers={"whatsapp": apply_whatsapp_event},
                automations=with_consent_keywords(self.configs, automations_for(self.configs)),
            )
            with workspace_session(self.db, self.workspace_id) as session:
                event = session.get(InboundEvent, event_id)
                assert event is not None and (event.state, event.last_error) == ("processed", None)

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def opted_in_ids(shop: Shop) -> list[int]:
    with workspace_session(shop.db, shop.workspace_id) as session:
        return list(session.scalars(segment_query(Segment(opted_in=True))))


def test_acha_opts_the_customer_out_at_once_and_they_are_told_in_swahili(shop: Shop) -> None:
    shop.customer_says("254722300001", "Habari, nataka kujua bei")
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        record_consent(
            session,
            conversation.contact_id,
            ConsentState.OPTED_IN,
            source=ConsentSource.MANUAL,
            detail="at the counter",
            now=shop.clock.now(),
        )
        session.commit()
    assert opted_in_ids(shop) == [conversation.contact_id]

    shop.customer_says("254722300001", " Acha. ")
    [consent] = shop.rows(ContactConsent)
    assert (consent.state, consent.source, consent.by_customer) == ("opted_out", "keyword", True)
    assert consent.changed_at == shop.clock.now()
    stop = shop.rows(Message, Message.body == " Acha. ")[0]
    [event] = shop.rows(ConsentEvent, ConsentEvent.state == "opted_out")
    assert event.message_id == stop.id
    [told] = shop.rows(Message, Message.direction == Direction.OUTBOUND)
    assert told.body is not None and told.body.startswith("Hutapokea matangazo zaidi")
    assert opted_in_ids(shop) == []

    with (
        workspace_session(shop.db, shop.workspace_id) as session,
        pytest.raises(ConsentRefused, match="only a message from them"),
    ):
        record_consent(
            session,
            conversation.contact_id,
            ConsentState.OPTED_IN,
            source=ConsentSource.MANUAL,
            detail="staff thinks so",
            now=shop.clock.now(),
        )

    shop.customer_says("254722300001", "START")
    [consent] = shop.rows(ContactConsent)
    assert (consent.state, consent.by_customer) == ("opted_in", True)
    assert opted_in_ids(shop) == [conversation.contact_id]
    replies = shop.rows(Message, Message.direction == Direction.OUTBOUND)
    assert replies[-1].body is not None and replies[-1].body.startswith("Welcome back")


def test_a_message_that_only_mentions_stop_is_not_an_opt_out(shop: Shop) -> None:
    shop.customer_says("254722300002", "please don't stop the delivery")
    shop.customer_says("254722300002", "STOP!")
    states = [e.state for e in shop.rows(ConsentEvent)]
    assert states == ["opted_out"]
