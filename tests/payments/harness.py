"""A retail workspace, Kazi's web app and the Daraja simulator on real ports, for payment tests.

The worker is played by the test: it dispatches outbox rows and processes inbound
events itself, so every step is visible and nothing races.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine, select

from connectors.mpesa.simulator import DarajaWorld
from engine.automation.inbound import automations_for
from engine.composition import Runtime
from engine.conversations.events import ConversationEvent
from engine.core.clock import FrozenClock
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import workspace_session
from engine.inbound.processing import process_inbound_event
from engine.models import (
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    Identity,
    InboundEvent,
    OutboxRow,
    Payment,
)
from engine.outbox.dispatch import dispatch_outbox_row

PHONE = "+254712345678"
TOKEN_VARIABLE = "KAZI_RETAIL_MPESA_CALLBACK_TOKEN"
SECRETS = {
    "KAZI_RETAIL_MPESA_CONSUMER_KEY": "kazi-sim-key",
    "KAZI_RETAIL_MPESA_CONSUMER_SECRET": "kazi-sim-secret",
    "KAZI_RETAIL_MPESA_PASSKEY": "retail-passkey",
}


@dataclass
class Shop:
    db: Engine
    runtime: Runtime
    world: DarajaWorld
    clock: FrozenClock
    slug: str
    workspace_id: int
    token: str
    kazi_url: str
    simulator_url: str

    # ----- the record --------------------------------------------------------------------
    def customer(
        self, amount: Decimal | None = Decimal("23500"), phone: str = PHONE
    ) -> tuple[int, int]:
        """A customer with an order on a conversation in the quote stage: (conversation, order)."""
        now = self.clock.now()
        with workspace_session(self.db, self.workspace_id) as session:
            contact = Contact(name="Achieng Odhiambo", fields={"first_name": "Achieng"})
            session.add(contact)
            session.flush()
            session.add(
                Identity(contact_id=contact.id, channel="whatsapp", address=phone, valid_from=now)
            )
            conversation = Conversation(
                contact_id=contact.id,
                business_number="+254711502300",
                opened_at=now,
                pipeline="sales",
                stage="quote",
            )
            session.add(conversation)
            session.flush()
            order = BusinessObject(
                kind="order",
                external_ref=f"DB-{uuid.uuid4().hex[:4].upper()}",
                status="open",
                amount=amount,
                currency="KES",
                contact_id=contact.id,
                fields={"items": "Samsung A15 128GB"},
            )
            session.add(order)
            session.flush()
            session.add(
                BusinessObjectLink(business_object_id=order.id, conversation_id=conversation.id)
            )
            session.commit()
            return conversation.id, order.id

    def accept_quote(self, conversation_id: int) -> None:
        """The customer taps "Pay with M-Pesa": the rules move to payment and request it."""
        event = DomainEvent(
            TriggerKind.MESSAGE_RECEIVED.value,
            f"msg-{uuid.uuid4().hex}",
            self.clock.now(),
            data={"message": {"text": "", "button": "Pay with M-Pesa"}},
        )
        with workspace_session(self.db, self.workspace_id) as session:
            automations_for(self.runtime.configs)(
                session,
                self.workspace_id,
                [ConversationEvent(conversation_id, event)],
                self.clock.now(),
            )
            session.commit()

    def conversation(self, conversation_id: int) -> Conversation:
        with workspace_session(self.db, self.workspace_id) as session:
            row = session.get(Conversation, conversation_id)
            assert row is not None
            session.expunge(row)
            return row

    def order(self, order_id: int) -> BusinessObject:
        with workspace_session(self.db, self.workspace_id) as session:
            row = session.get(BusinessObject, order_id)
            assert row is not None
            session.expunge(row)
            return row

    def payments(self) -> list[Payment]:
        with workspace_session(self.db, self.workspace_id) as session:
            rows = list(session.scalars(select(Payment).order_by(Payment.id)))
            session.expunge_all()
            return rows

    def events(self) -> list[InboundEvent]:
        with workspace_session(self.db, self.workspace_id) as session:
            rows = list(
                session.scalars(
                    select(InboundEvent)
                    .where(InboundEvent.provider == "mpesa")
                    .order_by(InboundEvent.id)
                )
            )
            session.expunge_all()
            return rows

    def outbox(self, kind: str | None = None) -> list[OutboxRow]:
        with workspace_session(self.db, self.workspace_id) as session:
            query = select(OutboxRow).order_by(OutboxRow.id)
            if kind:
                query = query.where(OutboxRow.kind == kind)
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    # ----- the worker, by hand -----------------------------------------------------------
    def dispatch(self, kind: str) -> list[OutboxRow]:
        """Carry out every queued row of `kind`; the rows afterwards."""
        for row in self.outbox(kind):
            if row.state == "queued":
                dispatch_outbox_row(
                    row_id=row.id, db=self.db, clock=self.clock, executors=self.runtime.executors
                )
        return self.outbox(kind)

    def process(self) -> None:
        for event in self.events():
            if event.state == "received":
                process_inbound_event(
                    event_id=event.id,
                    db=self.db,
                    clock=self.clock,
                    handlers=self.runtime.inbound_handlers,
                    automations=automations_for(self.runtime.configs),
                )

    def wait_for_callbacks(self, count: int, timeout: float = 5.0) -> None:
        """Until the simulator has posted `count` callbacks (whatever Kazi answered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = httpx.get(f"{self.simulator_url}/_sim/state").json()
            if len(state["callbacks"]) >= count:
                return
            time.sleep(0.02)
        raise AssertionError(f"the simulator posted fewer than {count} callbacks")

    def outcomes(self, *outcomes: str) -> None:
        httpx.post(
            f"{self.simulator_url}/_sim/outcomes", json={"outcomes": list(outcomes)}
        ).raise_for_status()

    def callback_url(self, kind: str, token: str | None = None, slug: str | None = None) -> str:
        return f"{self.kazi_url}/webhooks/payments/{slug or self.slug}/{token or self.token}/{kind}"

    def later(self, minutes: float) -> datetime:
        return self.clock.advance(timedelta(minutes=minutes))
