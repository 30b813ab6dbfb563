"""Benchmark: M-Pesa callbacks processed with confirmation, against the Daraja simulator.

    python bench/payments.py [--payments 200]

On a fresh SQLite database (or PostgreSQL with KAZI_BENCH_DATABASE_URL): loads the retail
sample, opens N conversations with an order each, and has the rules request payment.
Kazi's web app and the Daraja simulator run on local ports; every push is paid and the
simulator posts its callback to Kazi, which stores it. Then, timed separately:
  1. pushes: the payment.request executor (OAuth once, STK push each);
  2. processing: each stored callback applied (correlated, receipt recorded, confirmation
     queued) — callbacks/s;
  3. confirmation: each payment.confirm row (STK Query, settle, `payment confirmed` runs the
     rules and moves the order to fulfilment) — confirmed payments/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.mpesa.simulator import DarajaWorld, SimulatorConfig, create_app  # noqa: E402
from connectors.whatsapp.simulator import ServerThread  # noqa: E402
from engine.automation.inbound import automations_for  # noqa: E402
from engine.composition import build_runtime  # noqa: E402
from engine.conversations.events import ConversationEvent  # noqa: E402
from engine.core.clock import FrozenClock  # noqa: E402
from engine.core.rules.events import DomainEvent, TriggerKind  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.inbound.processing import process_inbound_event  # noqa: E402
from engine.models import (  # noqa: E402
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    Identity,
    InboundEvent,
    OutboxRow,
    Payment,
)
from engine.outbox.dispatch import dispatch_outbox_row  # noqa: E402
from engine.payments.callbacks import CONFIRM_KIND  # noqa: E402
from engine.payments.request import REQUEST_KIND  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.workspaces.load import load_folder  # noqa: E402
from ui.app import create_app as create_kazi  # noqa: E402

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SECRETS = {
    "KAZI_RETAIL_MPESA_CONSUMER_KEY": "bench-key",
    "KAZI_RETAIL_MPESA_CONSUMER_SECRET": "bench-secret",
    "KAZI_RETAIL_MPESA_PASSKEY": "bench-passkey",
    "KAZI_RETAIL_MPESA_CALLBACK_TOKEN": uuid.uuid4().hex,
}


def seed(db_url: str, workspace_id: int, count: int) -> list[int]:
    db = make_engine(db_url)
    ids = []
    with workspace_session(db, workspace_id) as session:
        for n in range(count):
            contact = Contact(name=f"Customer {n}", fields={"first_name": f"C{n}"})
            session.add(contact)
            session.flush()
            session.add(
                Identity(
                    contact_id=contact.id,
                    channel="whatsapp",
                    address=f"+2547{n:08d}",
                    valid_from=NOW,
                )
            )
            conversation = Conversation(
                contact_id=contact.id,
                business_number="+254711502300",
                opened_at=NOW,
                pipeline="sales",
                stage="quote",
            )
            session.add(conversation)
            session.flush()
            order = BusinessObject(
                kind="order",
                external_ref=f"DB-{n}",
                status="open",
                amount=Decimal("1500"),
                currency="KES",
                contact_id=contact.id,
                fields={},
            )
            session.add(order)
            session.flush()
            session.add(
                BusinessObjectLink(business_object_id=order.id, conversation_id=conversation.id)
            )
            ids.append(conversation.id)
        session.commit()
    db.dispose()
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=200)
    arguments = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kazi-bench-payments-"))
    db_url = os.environ.get("KAZI_BENCH_DATABASE_URL") or f"sqlite:///{scratch / 'bench.db'}"
    os.environ.update(SECRETS)
    migrate(db_url)
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": db_url,
            "KAZI_VAR_DIR": str(scratch / "var"),
            "KAZI_CONFIG_DIR": str(ROOT / "configs"),
            "KAZI_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        }
    )
    clock = FrozenClock(NOW)
    runtime = build_runtime(settings, clock=clock)
    workspace_id = load_folder(runtime.db, ROOT / "configs" / "retail", NOW)
    conversations = seed(db_url, workspace_id, arguments.payments)
    world = DarajaWorld(
        SimulatorConfig(
            consumer_key=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_KEY"],
            consumer_secret=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_SECRET"],
            callback_delay=0.0,
        )
    )
    with ServerThread(create_kazi(runtime)) as kazi, ServerThread(create_app(world)) as daraja:
        os.environ["KAZI_PUBLIC_URL"] = kazi.url
        os.environ["KAZI_MPESA_API_URL"] = daraja.url
        automations = automations_for(runtime.configs)
        with workspace_session(runtime.db, workspace_id) as session:
            events = [
                ConversationEvent(
                    c,
                    DomainEvent(
                        TriggerKind.MESSAGE_RECEIVED.value,
                        f"bench-{c}",
                        NOW,
                        data={"message": {"text": "", "button": "Pay with M-Pesa"}},
                    ),
                )
                for c in conversations
            ]
            automations(session, workspace_id, events, NOW)
            session.commit()

        def rows(kind: str) -> list[int]:
            with workspace_session(runtime.db, workspace_id) as session:
                return list(
                    session.scalars(
                        select(OutboxRow.id).where(
                            OutboxRow.kind == kind, OutboxRow.state == "queued"
                        )
                    )
                )

        def dispatch(kind: str) -> float:
            started = time.perf_counter()
            for row_id in rows(kind):
                dispatch_outbox_row(
                    row_id=row_id, db=runtime.db, clock=clock, executors=runtime.executors
                )
            return time.perf_counter() - started

        push_seconds = dispatch(REQUEST_KIND)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            posted = len(httpx.get(f"{daraja.url}/_sim/state").json()["callbacks"])
            if posted >= arguments.payments:
                break
            time.sleep(0.1)
        with workspace_session(runtime.db, workspace_id) as session:
            stored = list(
                session.scalars(select(InboundEvent.id).where(InboundEvent.provider == "mpesa"))
            )
        started = time.perf_counter()
        for event_id in stored:
            process_inbound_event(
                event_id=event_id,
                db=runtime.db,
                clock=clock,
                handlers=runtime.inbound_handlers,
                automations=automations,
            )
        process_seconds = time.perf_counter() - started
        confirm_seconds = dispatch(CONFIRM_KIND)
        with workspace_session(runtime.db, workspace_id) as session:
            paid = session.scalar(
                select(func.count()).select_from(Payment).where(Payment.state == "paid")
            )
            moved = session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.stage == "fulfilment")
            )
    runtime.close()
    n = arguments.payments
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    print(f"payments bench on {backend}, {n} payments")
    print(f"  pushes:        {n / push_seconds:8.1f}/s  ({push_seconds:.2f} s)")
    print(
        f"  callbacks:     {len(stored) / process_seconds:8.1f}/s processed ({len(stored)} stored)"
    )
    print(f"  confirmations: {n / confirm_seconds:8.1f}/s  (STK Query, settle, rules)")
    print(f"  paid: {paid}, moved to fulfilment: {moved}")
    return 0 if paid == n == moved else 1


if __name__ == "__main__":
    sys.exit(main())
