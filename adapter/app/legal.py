"""Payment orders: the use cases behind their inbound operations.

Every status change goes through ``move_order`` (checked against
``payment_order_rules.ORDER_TRANSITIONS``) and leaves a row in
``payment_order_changes`` with who made it and the fact it needed; the
delivery worker moves orders the same way (``adapter.app.reactions``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from adapter.app.context import CallContext
from adapter.app.records import (
    ItemResult,
    apply_bulk,
    check_bulk_size,
    find_by_keys,
    validate_all,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.delivery.outbox import Outbox
from adapter.domain import events
from adapter.domain.events_payment_orders import (
    PaymentOrderRef,
    payment_order_cancelled,
    payment_order_paid,
    payment_order_registered,
)
from adapter.domain.identifiers import mask_tax_id
from adapter.domain.lawsuits import optional_text
from adapter.domain.parties import required_text
from adapter.domain.payment_order_rules import (
    REACHED_ERP,
    OrderStatus,
    PaymentInstruction,
    check_deletable,
    check_order_transition,
    check_payment_date,
)
from adapter.domain.payments import PaymentOrderInput
from adapter.domain.withholdings import Withholding
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.cursor import Prepared, RawTransaction, insert_values
from adapter.storage.db import Database
from adapter.storage.models import Delivery, OutboxEvent, Party, PaymentOrder
from adapter.storage.models_payment_orders import (
    PaymentOrderChange,
    PaymentOrderDetail,
    PaymentOrderWithholding,
)
from adapter.storage.paging import Cursor, keyset, next_cursor
from adapter.storage.payment_order_rows import (
    detail_row,
    instruction_of,
    withholding_of,
    withholding_rows,
)

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
    gross_amount: Decimal | None = None
    withholdings: tuple[Withholding, ...] = ()
    instruction: PaymentInstruction | None = None
    payment_date: dt.date | None = None
    receipt: str | None = None
    status_reason: str | None = None  # why it was rejected or cancelled
    deleted_at: dt.datetime | None = None


@dataclass(frozen=True)
class PaymentOrderFilter:
    status: OrderStatus | None = None
    lawsuit_number: str | None = None
    beneficiary_tax_id: str | None = None
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


@dataclass
class _Children:
    """What an order keeps in its child tables."""

    detail: PaymentOrderDetail | None = None
    withholdings: list[PaymentOrderWithholding] = field(default_factory=list)
    changes: list[PaymentOrderChange] = field(default_factory=list)


def order_view(
    row: PaymentOrder, children: _Children | None = None
) -> PaymentOrderView:
    kept = children or _Children()
    paid = [c for c in kept.changes if c.to_status == OrderStatus.PAID.value]
    last = kept.changes[-1] if kept.changes else None
    reason = last.reason if last is not None and last.to_status == row.status else None
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
        gross_amount=kept.detail.gross_amount if kept.detail else None,
        withholdings=tuple(withholding_of(w) for w in kept.withholdings),
        instruction=instruction_of(kept.detail),
        payment_date=paid[-1].payment_date if paid else None,
        receipt=paid[-1].receipt if paid else None,
        status_reason=reason,
        deleted_at=row.deleted_at,
    )


def record_move(
    session: Session,
    row: PaymentOrder,
    new: OrderStatus,
    now: dt.datetime,
    actor: str,
    **facts: Any,
) -> None:
    """Set the status and keep the change; the caller has checked the move."""
    session.add(
        PaymentOrderChange(
            order_id=row.id,
            from_status=row.status,
            to_status=new.value,
            at=now,
            actor=actor,
            **facts,
        )
    )
    row.status = new.value
    row.updated_at = now


def move_order(
    session: Session,
    row: PaymentOrder,
    new: OrderStatus,
    now: dt.datetime,
    actor: str,
    **facts: Any,
) -> None:
    """Check the move and the facts it needs, then make it.

    ``facts`` are columns of ``payment_order_changes``: ``reason``,
    ``document_number``, ``payment_date`` (checked by the lifecycle) and
    ``receipt`` (only kept). Raises ``ConflictError`` or ``ValidationError``.
    """
    check_order_transition(
        OrderStatus(row.status),
        new,
        reason=facts.get("reason"),
        document_number=facts.get("document_number"),
        payment_date=facts.get("payment_date"),
    )
    record_move(session, row, new, now, actor, **facts)


def business_key(order_id: str) -> str:
    """The key ``events.payment_order_approved`` gives an order's events."""
    return f"payment_order:{order_id}"


class LegalService:
    """Payment orders; each method is one transaction."""

    def __init__(
        self,
        db: Database,
        audit: AuditSink,
        outbox: Outbox,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._audit = audit
        self._outbox = outbox
        self._clock = clock

    # Create

    def create_payment_order(
        self, call: CallContext, data: PaymentOrderInput
    ) -> tuple[PaymentOrderView, str]:
        """Create a payment order; repeating the same request returns the first.

        Returns the order and ``created`` or ``unchanged``. The same key with
        different content (withholdings and payment method included), or the
        key of a deleted order, is a ``ConflictError``.
        """
        with self._db.cursor() as tx:
            created = self._create_new(tx, call, data)
        if created is not None:
            return created, "created"
        # The key is taken: compare with the stored order, through the ORM.
        with self._db.transaction() as session:
            beneficiary = self._beneficiary(session, data.beneficiary_tax_id)
            existing = find_by_keys(session, PaymentOrder, [_key(data)]).get(_key(data))
            kept = (
                _load_children(session, [existing.id])[existing.id]
                if existing
                else None
            )
            view, outcome, entry = self._create_one(
                session, call, data, beneficiary, existing, kept
            )
            self._audit.record(session, entry)
            return view, outcome

    def _create_new(
        self, tx: RawTransaction, call: CallContext, data: PaymentOrderInput
    ) -> PaymentOrderView | None:
        """Insert the order when its key is new; None when the key is taken.

        Prepared statements on the DBAPI cursor, no ORM unit of work: this is
        the call ERPs make most, one order at a time (``_create_one`` does the
        same through the ORM for the bulk call and for repeats).
        """
        found = _BENEFICIARY_BY_TAX_ID.first(tx, {"tax_id": data.beneficiary_tax_id})
        if found is None:
            raise _no_beneficiary(data.beneficiary_tax_id)
        key = {"source_system": data.source_system, "external_id": data.external_id}
        if _ORDER_ID_BY_KEY.first(tx, key) is not None:
            return None
        beneficiary_id, tax_id = found
        row, children = _new_order(
            call, data, Party(id=beneficiary_id, tax_id=tax_id), self._clock()
        )
        _INSERT_ORDER.execute(tx, _columns(row))
        if children.detail is not None:
            _INSERT_DETAIL.execute(tx, _columns(children.detail))
        if children.withholdings:
            _INSERT_WITHHOLDING.execute_many(
                tx, [_columns(w) for w in children.withholdings]
            )
        self._audit.record(tx, self._entry(call, row.id, _created_detail(data)))
        return order_view(row, children)

    def create_payment_orders(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], PaymentOrderInput],
    ) -> list[ItemResult]:
        """Create up to 10,000 orders; one bad item does not stop the others.

        Each item follows ``create_payment_order``: a repeat is ``unchanged``,
        the same key with other content (or a deleted order's key) is refused.
        """
        check_bulk_size(items, "paymentOrders")
        good, results = validate_all(items, validate, _key)
        entries: list[AuditRecord] = []
        with self._db.transaction() as session:
            existing = find_by_keys(session, PaymentOrder, (_key(d) for _, d in good))
            kept = _load_children(session, [r.id for r in existing.values()])
            parties: dict[str, Party] = {}

            def apply(data: PaymentOrderInput) -> tuple[str, str]:
                tax_id = data.beneficiary_tax_id
                if tax_id not in parties:
                    parties[tax_id] = self._beneficiary(session, tax_id)
                row = existing.get(_key(data))
                view, outcome, entry = self._create_one(
                    session,
                    call,
                    data,
                    parties[tax_id],
                    row,
                    kept[row.id] if row is not None else None,
                )
                entries.append(entry)
                return view.id, outcome

            apply_bulk(good, results, lambda d: d.external_id, apply)
            self._audit.record_many(session, entries)
        return [results[i] for i in range(len(items))]

    def _create_one(
        self,
        session: Session,
        call: CallContext,
        data: PaymentOrderInput,
        beneficiary: Party,
        existing: PaymentOrder | None,
        kept: _Children | None,
    ) -> tuple[PaymentOrderView, str, AuditRecord]:
        """Create one order, or find its repeat; every rule is checked first."""
        if existing is not None:
            _check_key_unspent(existing)
            view = order_view(existing, kept)
            _check_same_order(view, data, beneficiary.id)
            return (
                view,
                "unchanged",
                self._entry(call, existing.id, {"result": "unchanged"}),
            )
        row, children = _new_order(call, data, beneficiary, self._clock())
        session.add(row)
        session.flush()  # the children's foreign keys need the order first
        if children.detail is not None:
            session.add(children.detail)
        session.add_all(children.withholdings)
        entry = self._entry(call, row.id, _created_detail(data))
        return order_view(row, children), "created", entry

    def _beneficiary(self, session: Session, tax_id: str) -> Party:
        beneficiary = session.scalars(
            select(Party).where(Party.tax_id == tax_id, Party.deleted_at.is_(None))
        ).first()
        if beneficiary is None:
            raise _no_beneficiary(tax_id)
        return beneficiary

    # Approval

    def submit_payment_order(
        self, call: CallContext, order_id: str
    ) -> PaymentOrderView:
        """Put a created order up for approval (an optional step)."""
        return self._change(call, order_id, OrderStatus.PENDING_APPROVAL)

    def approve_payment_order(
        self, call: CallContext, order_id: str
    ) -> PaymentOrderView:
        """Approve the order and put its event in the outbox, in one transaction."""
        with self._db.transaction() as session:
            row = _lock_order(session, order_id)
            now = self._clock()
            before = row.status
            move_order(session, row, OrderStatus.APPROVED, now, call.actor)
            row.approved_by = call.actor
            row.approved_at = now
            event = events.payment_order_approved(_snapshot(row), now)
            targets = self._outbox.enqueue(session, event)
            detail = {
                "from": before,
                "status": row.status,
                "event": event.id,
                "targets": list(targets),
            }
            self._record(session, call, row.id, detail)
            return self._view(session, row)

    def reject_payment_order(
        self, call: CallContext, order_id: str, reason: str | None
    ) -> PaymentOrderView:
        """An approver refuses an order that awaits approval; final."""
        text = optional_text(reason, "reason", 250)
        return self._change(call, order_id, OrderStatus.REJECTED, reason=text)

    def cancel_payment_order(
        self, call: CallContext, order_id: str, reason: str | None
    ) -> PaymentOrderView:
        """Cancel an order not yet sent, or registered but unpaid; final.

        Deliveries of its event that have not started are cancelled with it.
        They are updated before the order is locked, in the order the worker
        takes the same rows, so a claim that wins the race makes the order
        ``sent`` first and the cancellation is refused. The
        ``payment_order.cancelled`` event is written after them, so its own
        deliveries stay pending.
        """
        text = optional_text(reason, "reason", 250)
        with self._db.transaction() as session:
            now = self._clock()
            stopped = _cancel_deliveries(session, order_id, now)
            row = _lock_order(session, order_id)
            before = row.status
            move_order(
                session, row, OrderStatus.CANCELLED, now, call.actor, reason=text
            )
            ref = PaymentOrderRef.of(row)
            event = payment_order_cancelled(ref, before, text, call.actor, now)
            targets = self._outbox.enqueue(session, event)
            detail = {
                "from": before,
                "status": row.status,
                "reason": text,
                "deliveries_cancelled": stopped,
                "event": event.id,
                "targets": list(targets),
            }
            self._record(session, call, row.id, detail)
            return self._view(session, row)

    # ERP callbacks

    def confirm_payment_order_registered(
        self, call: CallContext, order_id: str, document_number: str | None
    ) -> PaymentOrderView:
        """The ERP has registered the order as ``document_number``.

        A repeat with the same number changes nothing. On an order the worker
        already registered, the ERP's number replaces the delivery's key.
        """
        number = required_text(document_number, "documentNumber", 100)
        with self._db.transaction() as session:
            row = _lock_order(session, order_id)
            if row.erp_document == number:
                self._record(session, call, row.id, {"result": "unchanged"})
                return self._view(session, row)
            now = self._clock()
            detail: dict[str, Any] = {"from": row.status, "document": number}
            replaced = None
            if row.status == OrderStatus.REGISTERED.value:
                replaced = row.erp_document
                detail["replaced_document"] = replaced
                row.updated_at = now
            else:
                move_order(
                    session,
                    row,
                    OrderStatus.REGISTERED,
                    now,
                    call.actor,
                    document_number=number,
                )
            row.erp_document = number
            ref = PaymentOrderRef.of(row)
            event = payment_order_registered(ref, replaced, call.actor, now)
            detail["status"] = row.status
            detail["event"] = event.id
            detail["targets"] = list(self._outbox.enqueue(session, event))
            self._record(session, call, row.id, detail)
            return self._view(session, row)

    def confirm_payment_order_paid(
        self,
        call: CallContext,
        order_id: str,
        payment_date: dt.date | None,
        receipt: str | None = None,
    ) -> PaymentOrderView:
        """The ERP has paid the registered order on ``payment_date``.

        A repeat with the same date (and receipt, when given) changes nothing.
        """
        kept_receipt = optional_text(receipt, "receipt", 200)
        with self._db.transaction() as session:
            now = self._clock()
            check_payment_date(payment_date, now)
            row = _lock_order(session, order_id)
            if row.status == OrderStatus.PAID.value:
                view = self._view(session, row)
                if _repeats_payment(view, payment_date, kept_receipt):
                    self._record(session, call, row.id, {"result": "unchanged"})
                    return view
            before = row.status
            move_order(
                session,
                row,
                OrderStatus.PAID,
                now,
                call.actor,
                payment_date=payment_date,
                receipt=kept_receipt,
            )
            assert payment_date is not None  # move_order requires it to be paid
            ref = PaymentOrderRef.of(row)
            event = payment_order_paid(ref, payment_date, kept_receipt, call.actor, now)
            targets = self._outbox.enqueue(session, event)
            detail = {
                "from": before,
                "status": row.status,
                "payment_date": str(payment_date),
                "event": event.id,
                "targets": list(targets),
            }
            self._record(session, call, row.id, detail)
            return self._view(session, row)

    # Delete

    def delete_payment_order(
        self,
        call: CallContext,
        order_id: str | None = None,
        *,
        key: tuple[str, str] | None = None,
    ) -> PaymentOrderView:
        """Soft-delete an order that never reached the ERP; a repeat is a no-op.

        ``ConflictError`` naming the status otherwise (``check_deletable``).
        The order stays readable by Get, and its key stays spent.
        """
        with self._db.transaction() as session:
            found = _find_order(session, order_id, key)
            row = _lock_order(session, found.id, deleted_too=True)
            kept = _load_children(session, [row.id])[row.id]
            if row.deleted_at is not None:
                self._record(session, call, row.id, {"result": "unchanged"})
                return order_view(row, kept)
            reached = row.erp_document is not None or any(
                change.to_status in REACHED_ERP for change in kept.changes
            )
            check_deletable(OrderStatus(row.status), reached_erp=reached)
            now = self._clock()
            row.deleted_at = now
            row.updated_at = now
            detail = {"result": "deleted", "status": row.status}
            self._record(session, call, row.id, detail)
            return order_view(row, kept)

    # Reading

    def get_payment_order(
        self,
        call: CallContext,
        order_id: str | None = None,
        *,
        key: tuple[str, str] | None = None,
    ) -> PaymentOrderView:
        """The order with Ponte's ``order_id``, or with the ERP's ``key``."""
        with self._db.transaction() as session:
            row = _find_order(session, order_id, key)
            self._record(session, call, row.id, {})
            return self._view(session, row)

    def query_payment_orders(
        self,
        call: CallContext,
        where: PaymentOrderFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[PaymentOrderView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        query = select(PaymentOrder)
        if where.status is not None:
            query = query.where(PaymentOrder.status == where.status.value)
        if where.lawsuit_number is not None:
            query = query.where(PaymentOrder.lawsuit_number == where.lawsuit_number)
        if where.beneficiary_tax_id is not None:
            paid_to = select(Party.id).where(Party.tax_id == where.beneficiary_tax_id)
            query = query.where(PaymentOrder.beneficiary_id.in_(paid_to))
        if where.modified_since is not None:
            query = query.where(PaymentOrder.updated_at >= where.modified_since)
        if not where.include_deleted:
            query = query.where(PaymentOrder.deleted_at.is_(None))
        with self._db.transaction() as session:
            rows = list(session.scalars(keyset(query, PaymentOrder, cursor, size)))
            following = next_cursor(rows, size)
            children = _load_children(session, [r.id for r in rows])
            self._record(session, call, None, {"returned": len(rows)})
            return [order_view(r, children[r.id]) for r in rows], following

    # Shared steps

    def _change(
        self,
        call: CallContext,
        order_id: str,
        new: OrderStatus,
        reason: str | None = None,
    ) -> PaymentOrderView:
        with self._db.transaction() as session:
            row = _lock_order(session, order_id)
            before = row.status
            move_order(session, row, new, self._clock(), call.actor, reason=reason)
            detail = {"from": before, "status": row.status}
            if reason is not None:
                detail["reason"] = reason
            self._record(session, call, row.id, detail)
            return self._view(session, row)

    def _view(self, session: Session, row: PaymentOrder) -> PaymentOrderView:
        return order_view(row, _load_children(session, [row.id])[row.id])

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        self._audit.record(session, self._entry(call, record_id, detail))

    def _entry(
        self, call: CallContext, record_id: str | None, detail: dict[str, Any]
    ) -> AuditRecord:
        return call.audit_record(
            "ok", record_type="payment_order", record_id=record_id, detail=detail
        )


_BENEFICIARY_BY_TAX_ID = Prepared(
    select(Party.id, Party.tax_id)
    .where(Party.tax_id == bindparam("tax_id"), Party.deleted_at.is_(None))
    .limit(1)
)
_ORDER_ID_BY_KEY = Prepared(
    select(PaymentOrder.id).where(
        PaymentOrder.source_system == bindparam("source_system"),
        PaymentOrder.external_id == bindparam("external_id"),
    )
)
_INSERT_ORDER = Prepared(insert_values(cast(Table, PaymentOrder.__table__)))
_INSERT_DETAIL = Prepared(insert_values(cast(Table, PaymentOrderDetail.__table__)))
_INSERT_WITHHOLDING = Prepared(
    insert_values(cast(Table, PaymentOrderWithholding.__table__), skip=("id",))
)


def _new_order(
    call: CallContext, data: PaymentOrderInput, beneficiary: Party, now: dt.datetime
) -> tuple[PaymentOrder, _Children]:
    """A new order and its child rows, not yet stored; it has no changes yet."""
    row = PaymentOrder(
        id=str(uuid.uuid4()),
        source_system=data.source_system,
        external_id=data.external_id,
        lawsuit_number=data.lawsuit_number,
        type=data.type.value,
        beneficiary_id=beneficiary.id,
        beneficiary=beneficiary,
        amount=data.amount,
        currency="BRL",
        due_date=data.due_date,
        cost_center=data.cost_center,
        description=data.description,
        status=OrderStatus.CREATED.value,
        created_by=call.actor,
        created_at=now,
        updated_at=now,
    )
    children = _Children(
        detail=detail_row(row.id, data.gross_amount, data.instruction),
        withholdings=withholding_rows(row.id, data.withholdings),
    )
    return row, children


def _columns(row: Any) -> dict[str, Any]:
    """The column values of a row object that is not in a session.

    A key the database assigns (an integer id left unset) is left out.
    """
    values = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if value is not None or not column.primary_key:
            values[column.key] = value
    return values


def _created_detail(data: PaymentOrderInput) -> dict[str, Any]:
    detail = {"result": "created", "amount": str(data.amount), "type": data.type.value}
    if data.instruction is not None:
        detail["method"] = data.instruction.method.value
    return detail


def _no_beneficiary(tax_id: str) -> NotFoundError:
    return NotFoundError("beneficiaryTaxId", "party", f"taxId {mask_tax_id(tax_id)}")


def _key(data: PaymentOrderInput) -> tuple[str, str]:
    return data.source_system, data.external_id


def _load_order(session: Session, order_id: str) -> PaymentOrder:
    row = session.get(PaymentOrder, order_id)
    if row is None:
        raise NotFoundError("id", "payment order", f"id {order_id}")
    return row


def _find_order(
    session: Session, order_id: str | None, key: tuple[str, str] | None
) -> PaymentOrder:
    if order_id:
        return _load_order(session, order_id)
    assert key is not None
    row: PaymentOrder | None = find_by_keys(session, PaymentOrder, [key]).get(key)
    if row is None:
        described = f"sourceSystem {key[0]} and externalId {key[1]}"
        raise NotFoundError("id", "payment order", described)
    return row


def _lock_order(
    session: Session, order_id: str, *, deleted_too: bool = False
) -> PaymentOrder:
    """The order, locked until the transaction ends.

    ``FOR UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already
    serialises writers. A deleted order is a ``ConflictError`` unless
    ``deleted_too``: it moves no more.
    """
    row = session.scalars(
        select(PaymentOrder)
        .where(PaymentOrder.id == order_id)
        .with_for_update(of=PaymentOrder)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFoundError("id", "payment order", f"id {order_id}")
    if row.deleted_at is not None and not deleted_too:
        raise ConflictError(f"payment order {order_id} was deleted")
    return row


def _cancel_deliveries(session: Session, order_id: str, now: dt.datetime) -> int:
    """Cancel the order's deliveries that no attempt has claimed; how many."""
    event_ids = select(OutboxEvent.id).where(
        OutboxEvent.business_key == business_key(order_id)
    )
    result = session.execute(
        update(Delivery)
        .where(Delivery.event_id.in_(event_ids), Delivery.status == "pending")
        .values(
            status="cancelled",
            next_attempt_at=None,
            last_error="the payment order was cancelled",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _load_children(session: Session, order_ids: Iterable[str]) -> dict[str, _Children]:
    """The child rows of each order, three queries per 500 orders."""
    found: dict[str, _Children] = defaultdict(_Children)
    every = list(order_ids)
    for start in range(0, len(every), 500):
        _load_some_children(session, every[start : start + 500], found)
    return found


def _load_some_children(
    session: Session, ids: list[str], found: dict[str, _Children]
) -> None:
    for detail in session.scalars(
        select(PaymentOrderDetail).where(PaymentOrderDetail.order_id.in_(ids))
    ):
        found[detail.order_id].detail = detail
    for withholding in session.scalars(
        select(PaymentOrderWithholding)
        .where(PaymentOrderWithholding.order_id.in_(ids))
        .order_by(PaymentOrderWithholding.order_id, PaymentOrderWithholding.position)
    ):
        found[withholding.order_id].withholdings.append(withholding)
    for change in session.scalars(
        select(PaymentOrderChange)
        .where(PaymentOrderChange.order_id.in_(ids))
        .order_by(PaymentOrderChange.id)
    ):
        found[change.order_id].changes.append(change)


def _repeats_payment(
    view: PaymentOrderView, payment_date: dt.date | None, receipt: str | None
) -> bool:
    """True when a paid order already has this date (and this receipt, if given)."""
    return view.payment_date == payment_date and receipt in (None, view.receipt)


def _check_key_unspent(row: PaymentOrder) -> None:
    """A deleted order keeps its key: it cannot name a new order."""
    if row.deleted_at is not None:
        raise ConflictError(
            f"externalId {row.external_id} of {row.source_system} names a payment "
            f"order deleted at {row.deleted_at.isoformat()}; its key is spent"
        )


def _check_same_order(
    view: PaymentOrderView, data: PaymentOrderInput, party_id: str
) -> None:
    same = (
        view.lawsuit_number == data.lawsuit_number
        and view.type == data.type.value
        and view.beneficiary_id == party_id
        and view.amount == data.amount
        and view.due_date == data.due_date
        and view.cost_center == data.cost_center
        and view.description == data.description
        and view.gross_amount == data.gross_amount
        and view.withholdings == data.withholdings
        and view.instruction == data.instruction
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
