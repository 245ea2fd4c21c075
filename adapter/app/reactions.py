"""What a delivery's progress means for the record it carries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from adapter.domain.events import PAYMENT_ORDER_APPROVED
from adapter.domain.payments import PaymentStatus, check_transition
from adapter.storage.models import Delivery, PaymentOrder


def _order(session: Session, delivery: Delivery) -> PaymentOrder | None:
    if delivery.event.type != PAYMENT_ORDER_APPROVED:
        return None
    order_id = delivery.event.business_key.split(":", 1)[1]
    return session.get(PaymentOrder, order_id)


def _move(order: PaymentOrder | None, status: PaymentStatus, now: dt.datetime) -> None:
    if order is None or order.status == status.value:
        return
    check_transition(PaymentStatus(order.status), status)
    order.status = status.value
    order.updated_at = now


def attempt_started(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    order = _order(session, delivery)
    if order is not None and order.status == PaymentStatus.APPROVED.value:
        _move(order, PaymentStatus.SENT, now)


def delivered(
    session: Session, delivery: Delivery, key: str | None, now: dt.datetime
) -> None:
    order = _order(session, delivery)
    _move(order, PaymentStatus.REGISTERED, now)
    if order is not None:
        order.erp_document = key


def parked(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    _move(_order(session, delivery), PaymentStatus.ERP_REJECTED, now)
