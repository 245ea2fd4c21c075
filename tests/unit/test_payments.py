"""Payment-order rules: amounts, types and the status lifecycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapter.domain.payments import (
    PaymentStatus,
    check_transition,
    validate_amount,
    validate_payment_order,
)
from adapter.errors import ConflictError, ValidationError

GOOD = {
    "source_system": "SAP",
    "external_id": "PO-1",
    "lawsuit_number": "1234567-13.2024.8.26.0100",
    "type": "condemnation",
    "beneficiary_tax_id": "123.456.789-09",
    "amount": "1500.5",
    "due_date": dt.date(2026, 12, 20),
    "cost_center": "CC01",
    "description": "Condenação",
}


def test_valid_order_is_normalized() -> None:
    order = validate_payment_order(**GOOD)
    assert order.amount == Decimal("1500.50")
    assert order.lawsuit_number == "12345671320248260100"
    assert order.beneficiary_tax_id == "12345678909"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("-1", "greater than zero"),
        ("0", "greater than zero"),
        ("10.005", "at most 2 decimal places"),
        ("NaN", "decimal number"),
        ("abc", "decimal number"),
        ("1000000000000000.00", "at most"),
        ("10000000000000.00", "must be at most 9999999999999.99"),
        ("90071992547409.99", "must be at most 9999999999999.99"),
    ],
)
def test_bad_amount_names_field_and_rule(value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"amount: .*{rule}"):
        validate_amount(value)


def test_trailing_zero_decimals_are_not_extra_places() -> None:
    assert validate_amount("10.500") == Decimal("10.50")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "bribe", "type: must be one of"),
        ("beneficiary_tax_id", "123", "beneficiaryTaxId"),
        ("due_date", None, "dueDate: is required"),
        ("cost_center", "  ", "costCenter: is required"),
    ],
)
def test_each_field_rule_is_reported(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_payment_order(**{**GOOD, field: value})


def test_only_created_orders_can_be_approved() -> None:
    check_transition(PaymentStatus.CREATED, PaymentStatus.APPROVED)
    with pytest.raises(ConflictError, match="approved cannot become approved"):
        check_transition(PaymentStatus.APPROVED, PaymentStatus.APPROVED)
    with pytest.raises(ConflictError, match="registered cannot become"):
        check_transition(PaymentStatus.REGISTERED, PaymentStatus.SENT)
