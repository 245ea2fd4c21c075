"""Tables a payment order keeps beside ``payment_orders``.

The order's own row stays as it was; what the whole lifecycle added lives in
child tables: the gross amount and payment method (one row, only for orders
created with them), the withholdings, and every status change with its facts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Date

from adapter.storage.models import Base, PaymentOrder, UtcDateTime

# QueryPaymentOrders pages in (updated_at, id) order.
Index("ix_payment_orders_sync", PaymentOrder.updated_at, PaymentOrder.id)


class PaymentOrderDetail(Base):
    """Gross amount and payment method of an order; the method's data in columns."""

    __tablename__ = "payment_order_details"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("payment_orders.id"), primary_key=True
    )
    gross_amount: Mapped[Decimal | None] = mapped_column(Numeric(17, 2))
    method: Mapped[str | None] = mapped_column(String(20))
    # boleto
    barcode: Mapped[str | None] = mapped_column(String(44))
    digitable_line: Mapped[str | None] = mapped_column(String(47))
    # pix
    pix_key_type: Mapped[str | None] = mapped_column(String(10))
    pix_key: Mapped[str | None] = mapped_column(String(100))
    # transfer
    bank_code: Mapped[str | None] = mapped_column(String(3))
    agency: Mapped[str | None] = mapped_column(String(5))
    agency_digit: Mapped[str | None] = mapped_column(String(1))
    account: Mapped[str | None] = mapped_column(String(20))
    account_digit: Mapped[str | None] = mapped_column(String(1))
    account_type: Mapped[str | None] = mapped_column(String(20))
    holder_tax_id: Mapped[str | None] = mapped_column(String(14))
    # judicial deposit guide
    deposit_bank: Mapped[str | None] = mapped_column(String(3))
    guide_number: Mapped[str | None] = mapped_column(String(30))
    judicial_account: Mapped[str | None] = mapped_column(String(30))
    deposit_cnj_number: Mapped[str | None] = mapped_column(String(20))
    court_unit: Mapped[str | None] = mapped_column(String(120))


class PaymentOrderWithholding(Base):
    """One tax withheld from an order, in the order the caller sent them."""

    __tablename__ = "payment_order_withholdings"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    description: Mapped[str | None] = mapped_column(String(120))


class PaymentOrderChange(Base):
    """One status change of an order, who made it, and the fact it needed."""

    __tablename__ = "payment_order_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(250))
    document_number: Mapped[str | None] = mapped_column(String(100))
    payment_date: Mapped[dt.date | None] = mapped_column(Date)
    receipt: Mapped[str | None] = mapped_column(String(200))
