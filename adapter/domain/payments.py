"""Payment orders for court sentences, settlements, deposits, costs and fees."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from adapter.domain.identifiers import normalize_cnj
from adapter.domain.parties import normalize_any_tax_id, required_text
from adapter.errors import ConflictError, ValidationError

if TYPE_CHECKING:  # both modules build on this one
    from adapter.domain.payment_order_rules import PaymentInstruction
    from adapter.domain.withholdings import Withholding

# 15 significant digits: SQLite keeps a NUMERIC column as a binary double,
# which holds every amount up to here exactly to the cent (and no more: from
# about 9e13 a cent is lost). The same cap on every database, so a record
# PostgreSQL accepts is one SQLite keeps. The columns are decimal(17, 2).
MAX_AMOUNT = Decimal("9999999999999.99")


class PaymentType(enum.StrEnum):
    CONDEMNATION = "condemnation"  # condenação
    SETTLEMENT = "settlement"  # acordo
    JUDICIAL_DEPOSIT = "judicial_deposit"  # depósito judicial
    APPEAL_DEPOSIT = "appeal_deposit"  # depósito recursal
    COURT_COSTS = "court_costs"  # custas
    ATTORNEY_FEES = "attorney_fees"  # honorários advocatícios
    EXPERT_FEES = "expert_fees"  # honorários periciais
    FINE = "fine"  # multa


class PaymentStatus(enum.StrEnum):
    """The statuses of the first version; ``payment_lifecycle`` maps each one.

    The ``status`` column now holds the whole lifecycle: the full list and its
    table are ``payment_order_rules.OrderStatus`` and ``ORDER_TRANSITIONS``,
    which allow every move allowed here.
    """

    CREATED = "created"
    APPROVED = "approved"  # the event for the finance system is in the outbox
    SENT = "sent"  # a delivery attempt has started
    REGISTERED = "registered"  # the ERP returned its document key
    ERP_REJECTED = "erp_rejected"  # the ERP refused it; an operator must look


# Which of these five may follow which (the first version's table).
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.CREATED: frozenset({PaymentStatus.APPROVED}),
    PaymentStatus.APPROVED: frozenset(
        {PaymentStatus.SENT, PaymentStatus.REGISTERED, PaymentStatus.ERP_REJECTED}
    ),
    PaymentStatus.SENT: frozenset(
        {PaymentStatus.REGISTERED, PaymentStatus.ERP_REJECTED}
    ),
    PaymentStatus.REGISTERED: frozenset(),
    PaymentStatus.ERP_REJECTED: frozenset(),
}


@dataclass(frozen=True)
class PaymentOrderInput:
    """A validated new order.

    ``gross_amount``, ``withholdings`` and ``instruction`` are optional; they
    are added and checked by ``payment_order_rules.complete_payment_order``.
    """

    source_system: str
    external_id: str
    lawsuit_number: str
    type: PaymentType
    beneficiary_tax_id: str
    amount: Decimal
    due_date: dt.date
    cost_center: str
    description: str
    gross_amount: Decimal | None = None
    withholdings: tuple[Withholding, ...] = ()
    instruction: PaymentInstruction | None = None


def check_transition(current: PaymentStatus, new: PaymentStatus) -> None:
    """Raise ``ConflictError`` unless ``new`` may follow ``current``."""
    if new not in TRANSITIONS[current]:
        raise ConflictError(
            f"a payment order in status {current.value} cannot become {new.value}"
        )


def validate_amount(value: Decimal | str | None, field: str = "amount") -> Decimal:
    """A positive BRL amount with at most two decimal places."""
    if value is None or value == "":
        raise ValidationError(field, "is required")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(field, "must be a decimal number") from None
    if not amount.is_finite():
        raise ValidationError(field, "must be a decimal number")
    if amount <= 0:
        raise ValidationError(field, "must be greater than zero")
    if amount > MAX_AMOUNT:
        raise ValidationError(field, f"must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(field, "must have at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def parse_payment_type(value: str | None) -> PaymentType:
    try:
        return PaymentType((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(t.value for t in PaymentType)
        raise ValidationError("type", f"must be one of {allowed}") from None


def validate_payment_order(
    *,
    source_system: str | None,
    external_id: str | None,
    lawsuit_number: str | None,
    type: str | None,
    beneficiary_tax_id: str | None,
    amount: Decimal | str | None,
    due_date: dt.date | None,
    cost_center: str | None,
    description: str | None,
) -> PaymentOrderInput:
    """Check every field of a new payment order; raise on the first rule broken."""
    if due_date is None:
        raise ValidationError("dueDate", "is required")
    return PaymentOrderInput(
        source_system=required_text(source_system, "sourceSystem", 40),
        external_id=required_text(external_id, "externalId", 80),
        lawsuit_number=normalize_cnj(
            required_text(lawsuit_number, "lawsuitNumber", 30), "lawsuitNumber"
        ),
        type=parse_payment_type(type),
        beneficiary_tax_id=normalize_any_tax_id(
            required_text(beneficiary_tax_id, "beneficiaryTaxId", 20),
            "beneficiaryTaxId",
        ),
        amount=validate_amount(amount),
        due_date=due_date,
        cost_center=required_text(cost_center, "costCenter", 25),
        description=required_text(description, "description", 250),
    )
