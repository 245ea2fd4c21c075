"""Payment orders: the use cases behind their inbound operations."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.app.context import CallContext
from adapter.audit.writer import AuditSink
from adapter.domain import events
from adapter.domain.identifiers import mask_tax_id
from adapter.domain.payments import (
    PaymentOrderInput,
    PaymentStatus,
    check_transition,
)
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.db import Database
from adapter.storage.models import Delivery, OutboxEvent, Party, PaymentOrder

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PaymentOrderView:
    id: str
    source_system: str
    external_id: str
    lawsuit_number: str
    type: str
    beneficiary_id: str
    beneficiary_tax_id: str | None
    amount: Decimal
    currency: str
    due_date: dt.date
    cost_center: str
    description: str
    status: str
    erp_document: str | None
    approved_by: str | None
    approved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


def order_view(row: PaymentOrder) -> PaymentOrderView:
    return PaymentOrderView(
        id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        lawsuit_number=row.lawsuit_number,
        type=row.type,
        beneficiary_id=row.beneficiary_id,
        beneficiary_tax_id=row.beneficiary.tax_id,
        amount=row.amount,
        currency=row.currency,
        due_date=row.due_date,
        cost_center=row.cost_center,
        description=row.description,
        status=row.status,
        erp_document=row.erp_document,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class LegalService:
    """Payment orders; each method is one transaction."""

    def __init__(
        self,
        db: Database,
        audit: AuditSink,
        subscriptions: Callable[[str], Sequence[str]],
        clock: Clock = utc_now,
    ) -> None:
        """``subscriptions(event_type)`` names the targets that want the event."""
        self._db = db
        self._audit = audit
        self._subscriptions = subscriptions
        self._clock = clock

    # Payment orders

    def create_payment_order(
        self, call: CallContext, data: PaymentOrderInput
    ) -> tuple[PaymentOrderView, str]:
        """Create a payment order; repeating the same request returns the first.

        Returns the order and ``created`` or ``unchanged``. The same key with
        different content is a ``ConflictError``.
        """
        with self._db.transaction() as session:
            beneficiary = session.scalars(
                select(Party).where(
                    Party.tax_id == data.beneficiary_tax_id, Party.deleted_at.is_(None)
                )
            ).first()
            if beneficiary is None:
                raise NotFoundError(
                    "beneficiaryTaxId",
                    "party",
                    f"taxId {mask_tax_id(data.beneficiary_tax_id)}",
                )
            existing = session.scalars(
                select(PaymentOrder).where(
                    PaymentOrder.source_system == data.source_system,
                    PaymentOrder.external_id == data.external_id,
                )
            ).one_or_none()
            if existing is not None:
                _check_same_order(existing, data, beneficiary.id)
                self._record(
                    session, call, "payment_order", existing.id, {"result": "unchanged"}
                )
                return order_view(existing), "unchanged"
            now = self._clock()
            row = PaymentOrder(
                id=str(uuid.uuid4()),
                source_system=data.source_system,
                external_id=data.external_id,
                lawsuit_number=data.lawsuit_number,
                type=data.type.value,
                beneficiary=beneficiary,
                amount=data.amount,
                currency="BRL",
                due_date=data.due_date,
                cost_center=data.cost_center,
                description=data.description,
                status=PaymentStatus.CREATED.value,
                created_by=call.actor,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            detail = {
                "result": "created",
                "amount": str(data.amount),
                "type": data.type.value,
            }
            self._record(session, call, "payment_order", row.id, detail)
            return order_view(row), "created"

    def approve_payment_order(
        self, call: CallContext, order_id: str
    ) -> PaymentOrderView:
        """Approve the order and put its event in the outbox, in one transaction."""
        with self._db.transaction() as session:
            row = _load_order(session, order_id)
            check_transition(PaymentStatus(row.status), PaymentStatus.APPROVED)
            now = self._clock()
            row.status = PaymentStatus.APPROVED.value
            row.approved_by = call.actor
            row.approved_at = now
            row.updated_at = now
            event = events.payment_order_approved(_snapshot(row), now)
            targets = self._enqueue(session, event)
            detail = {"status": row.status, "event": event.id, "targets": list(targets)}
            self._record(session, call, "payment_order", row.id, detail)
            return order_view(row)

    def get_payment_order(self, call: CallContext, order_id: str) -> PaymentOrderView:
        with self._db.transaction() as session:
            row = _load_order(session, order_id)
            self._record(session, call, "payment_order", row.id, {})
            return order_view(row)

    # Shared steps

    def _enqueue(self, session: Session, event: events.Event) -> Sequence[str]:
        """Store the event and one delivery per subscribed target (the outbox)."""
        session.add(
            OutboxEvent(
                id=event.id,
                type=event.type,
                version=event.version,
                business_key=event.business_key,
                body=event.body,
                occurred_at=event.occurred_at,
            )
        )
        targets = self._subscriptions(event.type)
        for target in targets:
            delivery_id = str(uuid.uuid4())
            session.add(
                Delivery(
                    id=delivery_id,
                    event_id=event.id,
                    target=target,
                    message_id=f"urn:uuid:{delivery_id}",
                    status="pending",
                    attempt_count=0,
                    next_attempt_at=event.occurred_at,
                    created_at=event.occurred_at,
                    updated_at=event.occurred_at,
                )
            )
        return targets

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_type: str,
        record_id: str,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type=record_type, record_id=record_id, detail=detail
        )
        self._audit.record(session, entry)


def _masked(name: str, value: Any) -> Any:
    return mask_tax_id(value) if name == "tax_id" and value else value


def _load_order(session: Session, order_id: str) -> PaymentOrder:
    row = session.get(PaymentOrder, order_id)
    if row is None:
        raise NotFoundError("id", "payment order", f"id {order_id}")
    return row


def _check_same_order(
    row: PaymentOrder, data: PaymentOrderInput, party_id: str
) -> None:
    same = (
        row.lawsuit_number == data.lawsuit_number
        and row.type == data.type.value
        and row.beneficiary_id == party_id
        and row.amount == data.amount
        and row.due_date == data.due_date
        and row.cost_center == data.cost_center
        and row.description == data.description
    )
    if not same:
        raise ConflictError(
            f"externalId {data.external_id} of {data.source_system} already names "
            "a different payment order"
        )


def _snapshot(row: PaymentOrder) -> events.PaymentOrderSnapshot:
    b = row.beneficiary
    assert row.approved_at is not None and row.approved_by is not None
    return events.PaymentOrderSnapshot(
        id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        lawsuit_number=row.lawsuit_number,
        type=row.type,
        amount=row.amount,
        due_date=row.due_date,
        cost_center=row.cost_center,
        description=row.description,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        beneficiary=events.BeneficiarySnapshot(
            b.source_system, b.external_id, b.kind, b.name, b.tax_id
        ),
    )
