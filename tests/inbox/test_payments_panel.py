"""The conversation page's payments panel: state, amount, receipt, meaning and flag, escaped."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from engine.db import workspace_session
from engine.models import AuditLog, OutboxRow, Payment
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def test_the_page_lists_the_conversations_payments(web: Web) -> None:
    conversation = web.world.conversation("Paying buyer", owner="agent")
    other = web.world.conversation("Someone else", owner="agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        session.add_all(
            [
                Payment(
                    provider="mpesa",
                    integration="mpesa",
                    source="stk",
                    conversation_id=conversation,
                    amount=Decimal("23500"),
                    paid_amount=Decimal("23499"),
                    currency="KES",
                    state="paid",
                    receipt="SGH7K2L9QX",
                    result_code="0",
                    result_meaning="Paid.",
                    account_reference="DUKADB1042",
                    flag="Paid 23499 where 23500 was requested. <script>alert(1)</script>",
                    requested_at=NOW,
                ),
                Payment(
                    provider="mpesa",
                    integration="mpesa",
                    source="stk",
                    conversation_id=conversation,
                    amount=Decimal("500"),
                    currency="KES",
                    state="cancelled",
                    result_code="1032",
                    result_meaning="The customer cancelled the M-Pesa prompt.",
                    requested_at=NOW,
                ),
                Payment(
                    provider="mpesa",
                    integration="mpesa",
                    source="stk",
                    conversation_id=other,
                    amount=Decimal("999"),
                    state="pending",
                    requested_at=NOW,
                ),
            ]
        )
        session.commit()
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    panel = page[page.index('id="payments"') : page.index("<h2>Tasks</h2>")]
    assert "SGH7K2L9QX" in panel and "KES 23499" in panel and "paid" in panel
    assert "Needs a look:" in panel and "&lt;script&gt;" in panel and "<script>alert" not in panel
    assert "cancelled by the customer" in panel
    assert "The customer cancelled the M-Pesa prompt." in panel
    assert "999" not in panel
    assert 'class="payments" hx-disable' in panel


def test_managers_see_every_payment_and_ask_mpesa_again(web: Web) -> None:
    conversation = web.world.conversation("Waiting buyer", owner="agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        pending = Payment(
            provider="mpesa",
            integration="mpesa",
            source="stk",
            conversation_id=conversation,
            amount=Decimal("1500"),
            currency="KES",
            state="pending",
            checkout_request_id="ws_CO_page",
            requested_at=NOW,
        )
        unmatched = Payment(
            provider="mpesa",
            integration="mpesa",
            source="c2b",
            paid_amount=Decimal("700"),
            currency="KES",
            state="pending",
            receipt="RKTQDM7W6S",
            account_reference="<b>who knows</b>",
            flag="Unmatched: 700 paid with account 'who knows' matches no open request.",
            requested_at=NOW,
        )
        paid = Payment(
            provider="mpesa",
            integration="mpesa",
            source="stk",
            conversation_id=conversation,
            amount=Decimal("10"),
            state="paid",
            receipt="PAIDPAID01",
            requested_at=NOW,
        )
        session.add_all([pending, unmatched, paid])
        session.commit()
        pending_id, paid_id = pending.id, paid.id
    web.sign_in("agent")
    assert web.client.get("/payments").status_code == 403
    web.client.cookies.clear()
    web.sign_in("manager")
    page = web.client.get("/payments").text
    assert "unmatched (c2b)" in page and "RKTQDM7W6S" in page and "PAIDPAID01" in page
    assert "&lt;b&gt;who knows&lt;/b&gt;" in page and "<b>who knows" not in page
    assert f'action="/payments/{paid_id}/query"' not in page  # paid is final
    answer = web.post(f"/payments/{pending_id}/query")
    assert answer.status_code in (200, 303)
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.kind == "payment.confirm")).all()
        assert [r.payload["payment_id"] for r in rows] == [pending_id]
        assert session.scalars(
            select(AuditLog.action).where(AuditLog.subject_kind == "payment")
        ).all() == ["payment_query"]
    marked = web.post(f"/payments/{pending_id}/paid", {"reason": "Seen on the statement"})
    assert marked.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        payment = session.get(Payment, pending_id)
        assert payment is not None and payment.state == "paid"
        assert "Seen on the statement" in (payment.flag or "")
