"""The conversation page's payments panel: state, amount, receipt, meaning and flag, escaped."""

from __future__ import annotations

from decimal import Decimal

from engine.db import workspace_session
from engine.models import Payment
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
