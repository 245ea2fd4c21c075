"""Use cases on a real database: idempotent upserts and the transactional outbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from adapter.app.context import CallContext
from adapter.audit.writer import AuditRecord, AuditWriter, Executor
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.errors import ConflictError, NotFoundError
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry, Delivery, OutboxEvent, PaymentOrder

CALL = CallContext(actor="erp", channel="soap", operation="test")
PARTY = validate_party("SAP", "V-1", "individual", "Maria", "123.456.789-09")


def order_input(external_id: str = "PO-1", amount: str = "10.00"):  # type: ignore[no-untyped-def]
    return validate_payment_order(
        source_system="SAP",
        external_id=external_id,
        lawsuit_number="1234567-13.2024.8.26.0100",
        type="settlement",
        beneficiary_tax_id="12345678909",
        amount=amount,
        due_date=dt.date(2026, 12, 31),
        cost_center="CC",
        description="Acordo",
    )


def count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_upsert_is_idempotent_on_source_and_external_id(runtime: Runtime) -> None:
    first, outcome1 = runtime.parties.upsert(CALL, PARTY)
    again, outcome2 = runtime.parties.upsert(CALL, PARTY)
    renamed = validate_party("SAP", "V-1", "individual", "Maria S.", "12345678909")
    changed, outcome3 = runtime.parties.upsert(CALL, renamed)
    assert (outcome1, outcome2, outcome3) == ("created", "unchanged", "updated")
    assert first.id == again.id == changed.id
    assert changed.name == "Maria S."


def test_party_change_is_audited_with_the_cpf_masked(runtime: Runtime) -> None:
    runtime.parties.upsert(CALL, PARTY)
    with runtime.db.transaction() as session:
        detail = session.scalars(select(AuditEntry.detail)).one()
    assert "***.456.789-**" in (detail or "")
    assert "12345678909" not in (detail or "")


def test_unknown_beneficiary_writes_nothing(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError, match="beneficiaryTaxId: no party"):
        runtime.legal.create_payment_order(CALL, order_input())
    assert count(runtime, PaymentOrder) == 0
    assert count(runtime, AuditEntry) == 0


def test_repeated_create_returns_the_first_order(runtime: Runtime) -> None:
    runtime.parties.upsert(CALL, PARTY)
    first, _ = runtime.legal.create_payment_order(CALL, order_input())
    again, outcome = runtime.legal.create_payment_order(CALL, order_input())
    assert outcome == "unchanged" and again.id == first.id
    with pytest.raises(ConflictError, match="already names a different payment order"):
        runtime.legal.create_payment_order(CALL, order_input(amount="11.00"))
    assert count(runtime, PaymentOrder) == 1


@pytest.mark.parametrize(
    "amount", ["9999999999999.99", "9999999999999.98", "1234567890123.45", "0.01"]
)
def test_the_largest_amounts_come_back_to_the_cent(
    runtime: Runtime, amount: str
) -> None:
    # SQLite keeps NUMERIC as a binary double: amounts are capped where a
    # double still holds every cent (a cent was lost above about 9e13, and a
    # repeat of the same order then looked like a different one).
    runtime.parties.upsert(CALL, PARTY)
    created, _ = runtime.legal.create_payment_order(CALL, order_input(amount=amount))
    again, outcome = runtime.legal.create_payment_order(
        CALL, order_input(amount=amount)
    )
    stored = runtime.legal.get_payment_order(CALL, created.id)

    assert created.amount == stored.amount == Decimal(amount)
    assert outcome == "unchanged" and again.id == created.id


def test_approval_writes_the_event_and_one_delivery_per_target(
    runtime: Runtime,
) -> None:
    runtime.parties.upsert(CALL, PARTY)
    order, _ = runtime.legal.create_payment_order(CALL, order_input())
    approved = runtime.legal.approve_payment_order(CALL, order.id)
    assert approved.status == "approved"
    with runtime.db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
        delivery = session.scalars(select(Delivery)).one()
    assert event.business_key == f"payment_order:{order.id}"
    assert b"<ev:amount>10.00</ev:amount>" in event.body
    assert delivery.target == "rm-finance" and delivery.status == "pending"
    assert delivery.message_id == f"urn:uuid:{delivery.id}"


class FailingAudit(AuditWriter):
    """The shipped audit writer, but failing on approvals, to force a rollback."""

    def record(self, session: Executor, entry: AuditRecord) -> None:
        if entry.action == "approve":
            raise RuntimeError("disk full")
        super().record(session, entry)


def test_rolled_back_approval_leaves_no_event(runtime: Runtime) -> None:
    runtime.parties.upsert(CALL, PARTY)
    order, _ = runtime.legal.create_payment_order(CALL, order_input())
    runtime.legal._audit = FailingAudit()
    with pytest.raises(RuntimeError, match="disk full"):
        runtime.legal.approve_payment_order(
            CallContext(actor="erp", channel="soap", operation="approve"), order.id
        )
    assert count(runtime, OutboxEvent) == 0
    assert count(runtime, Delivery) == 0
    assert runtime.legal.get_payment_order(CALL, order.id).status == "created"


def test_approving_twice_is_a_conflict_and_adds_no_event(runtime: Runtime) -> None:
    runtime.parties.upsert(CALL, PARTY)
    order, _ = runtime.legal.create_payment_order(CALL, order_input())
    runtime.legal.approve_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match="approved cannot become approved"):
        runtime.legal.approve_payment_order(CALL, order.id)
    assert count(runtime, OutboxEvent) == 1
