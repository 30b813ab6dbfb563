"""Payment requests and the payments that answer them (DESIGN rule 8).

One row per request Kazi made (an STK push), and one per payment that came in
without a request (a C2B paybill payment that matched nothing). Idempotent by
construction: one row per outbox request, per CheckoutRequestID and per M-Pesa
receipt in a workspace, so a duplicate callback or a receipt seen through STK and
again through C2B can never be a second payment.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.payments import PaymentState
from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import values


class Payment(WorkspaceScoped, Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("workspace_id", "request_key"),
        UniqueConstraint("workspace_id", "checkout_request_id"),
        UniqueConstraint("workspace_id", "receipt"),
        Index(None, "workspace_id", "state", "updated_at"),
        Index(None, "workspace_id", "phone", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))  # "mpesa"
    integration: Mapped[str] = mapped_column(String(64))  # its name in integrations.yaml
    source: Mapped[str] = mapped_column(String(16))  # "stk" (we asked) or "c2b" (they paid)
    # The outbox row's idempotency key: one request per rule action, whatever retries.
    request_key: Mapped[str | None] = mapped_column(String(255))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    business_object_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_objects.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    account_reference: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # requested
    paid_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # what came in
    currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(
        choice("payment_state", values(PaymentState)), default=PaymentState.REQUESTED
    )
    checkout_request_id: Mapped[str | None] = mapped_column(String(128))
    merchant_request_id: Mapped[str | None] = mapped_column(String(128))
    receipt: Mapped[str | None] = mapped_column(String(64))
    result_code: Mapped[str | None] = mapped_column(String(32))
    result_meaning: Mapped[str | None] = mapped_column(Text)
    flag: Mapped[str | None] = mapped_column(Text)  # for staff: mismatch, late, unmatched ...
    raw_callback: Mapped[dict[str, Any] | None]
    queries: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime]
    pushed_at: Mapped[datetime | None]
    last_queried_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
