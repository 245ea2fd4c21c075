"""Events of a payment order after its approval: cancelled, registered, paid.

Each body starts with the order's identity (``PaymentOrderRef``), the same
fields a target matched the approval by, and then what the change adds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from lxml import etree

from adapter.domain.events import (
    PAYMENT_ORDER_CANCELLED,
    PAYMENT_ORDER_PAID,
    PAYMENT_ORDER_REGISTERED,
    Event,
    Fields,
    add_fields,
    build,
    business_key,
    day,
    iso,
    money,
)


class OrderFacts(Protocol):
    """What an order row offers to name it in an event."""

    @property
    def id(self) -> str: ...
    @property
    def source_system(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def lawsuit_number(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def erp_document(self) -> str | None: ...


@dataclass(frozen=True)
class PaymentOrderRef:
    id: str
    source_system: str
    external_id: str
    lawsuit_number: str
    amount: Decimal
    currency: str
    erp_document: str | None

    @classmethod
    def of(cls, order: OrderFacts) -> PaymentOrderRef:
        return cls(
            order.id,
            order.source_system,
            order.external_id,
            order.lawsuit_number,
            order.amount,
            order.currency,
            order.erp_document,
        )


def _ref_fields(order: PaymentOrderRef) -> Fields:
    return (
        ("id", order.id),
        ("sourceSystem", order.source_system),
        ("externalId", order.external_id),
        ("lawsuitNumber", order.lawsuit_number),
        ("amount", money(order.amount)),
        ("currency", order.currency),
    )


def _event(
    event_type: str, order: PaymentOrderRef, now: dt.datetime, *more: Fields
) -> Event:
    def fill(body: etree._Element) -> None:
        add_fields(body, _ref_fields(order))
        for fields in more:
            add_fields(body, fields)

    return build(event_type, business_key("payment_order", order.id), now, fill)


def payment_order_cancelled(
    order: PaymentOrderRef,
    previous_status: str,
    reason: str | None,  # required by the lifecycle; None only if that changes
    actor: str,
    now: dt.datetime,
) -> Event:
    """The order will not be paid; ``erpDocument`` names what the ERP must undo."""
    return _event(
        PAYMENT_ORDER_CANCELLED,
        order,
        now,
        (
            ("erpDocument", order.erp_document),
            ("previousStatus", previous_status),
            ("reason", reason),
            ("cancelledAt", iso(now)),
            ("cancelledBy", actor),
        ),
    )


def payment_order_registered(
    order: PaymentOrderRef,
    replaced_document: str | None,
    actor: str,
    now: dt.datetime,
) -> Event:
    """The ERP confirmed it registered the order as ``order.erp_document``."""
    return _event(
        PAYMENT_ORDER_REGISTERED,
        order,
        now,
        (
            ("documentNumber", order.erp_document),
            ("replacedDocument", replaced_document),
            ("registeredAt", iso(now)),
            ("confirmedBy", actor),
        ),
    )


def payment_order_paid(
    order: PaymentOrderRef,
    payment_date: dt.date,
    receipt: str | None,
    actor: str,
    now: dt.datetime,
) -> Event:
    """The ERP paid the order on ``payment_date``."""
    return _event(
        PAYMENT_ORDER_PAID,
        order,
        now,
        (
            ("erpDocument", order.erp_document),
            ("paymentDate", day(payment_date)),
            ("receipt", receipt),
            ("confirmedAt", iso(now)),
            ("confirmedBy", actor),
        ),
    )
