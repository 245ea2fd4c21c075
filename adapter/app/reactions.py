"""What a delivery's progress means for the record it carries.

The worker moves an order only along ``ORDER_TRANSITIONS``. An order that an
operator or an ERP callback has moved on meanwhile (registered, paid or
cancelled through SOAP) keeps its status: the delivery's outcome is recorded
on the delivery, and a warning names the order.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from adapter.app.legal import record_move
from adapter.delivery.outbox import Outbox
from adapter.domain.events import PAYMENT_ORDER_APPROVED
from adapter.domain.events_payment_orders import (
    PaymentOrderRef,
    payment_order_registered,
)
from adapter.domain.payment_order_rules import OrderStatus, may_become
from adapter.storage.models import Delivery, PaymentOrder

log = logging.getLogger("ponte.delivery")

WORKER = "ponte-worker"


def _order(session: Session, delivery: Delivery) -> PaymentOrder | None:
    if delivery.event.type != PAYMENT_ORDER_APPROVED:
        return None
    order_id = delivery.event.business_key.split(":", 1)[1]
    return session.get(PaymentOrder, order_id)


def _move(
    session: Session,
    order: PaymentOrder,
    status: OrderStatus,
    now: dt.datetime,
    delivery: Delivery,
    **facts: str | None,
) -> bool:
    """Move ``order`` to ``status``; False (and a warning) if it moved on."""
    if order.status == status.value:
        return True
    if not may_become(OrderStatus(order.status), status):
        log.warning(
            "order %s is %s; delivery %s (%s) leaves it so instead of %s",
            order.id,
            order.status,
            delivery.id,
            delivery.target,
            status.value,
        )
        return False
    record_move(session, order, status, now, WORKER, **facts)
    return True


def attempt_started(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    order = _order(session, delivery)
    resent = (OrderStatus.APPROVED.value, OrderStatus.ERP_REJECTED.value)
    if order is not None and order.status in resent:
        _move(session, order, OrderStatus.SENT, now, delivery)


def delivered(
    session: Session,
    delivery: Delivery,
    key: str | None,
    now: dt.datetime,
    outbox: Outbox,
) -> None:
    """The target accepted the order; ``key`` is its document key, if it gave one.

    A document number the ERP already confirmed through
    ``ConfirmPaymentOrderRegistered`` is kept. An order that becomes
    registered here emits ``payment_order.registered``, as a confirmation
    through SOAP does.
    """
    order = _order(session, delivery)
    if order is None:
        return
    before = order.status
    moved = _move(
        session, order, OrderStatus.REGISTERED, now, delivery, document_number=key
    )
    if moved and order.erp_document is None:
        order.erp_document = key
    if moved and before != OrderStatus.REGISTERED.value:
        event = payment_order_registered(PaymentOrderRef.of(order), None, WORKER, now)
        outbox.enqueue(session, event)


def parked(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    order = _order(session, delivery)
    if order is None:
        return
    # The partner's own words stay on the delivery: they are not for SOAP clients.
    reason = f"target {delivery.target} refused the delivery"
    _move(session, order, OrderStatus.ERP_REJECTED, now, delivery, reason=reason)
