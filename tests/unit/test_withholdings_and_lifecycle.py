"""Withholdings and net amounts, and the full payment-order lifecycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapter.domain.payment_lifecycle import (
    FROM_PAYMENT_STATUS,
    LIFECYCLE_TRANSITIONS,
    LifecycleStatus,
    check_lifecycle,
)
from adapter.domain.payments import TRANSITIONS, PaymentStatus
from adapter.domain.withholdings import (
    Withholding,
    WithholdingKind,
    compute_net,
    validate_withholding,
)
from adapter.errors import ConflictError, ValidationError

S = LifecycleStatus

# Withholdings


@pytest.mark.parametrize("kind", ["irrf", "INSS", "iss", "pis", "cofins", "csll"])
def test_each_tax_kind_is_accepted(kind: str) -> None:
    withholding = validate_withholding(kind, "10.5")
    assert withholding.kind is WithholdingKind(kind.lower())
    assert withholding.amount == Decimal("10.50")


def test_other_withholding_needs_a_description() -> None:
    assert validate_withholding("other", "1", "pensão alimentícia").description
    with pytest.raises(
        ValidationError, match=r"withholdings\[2\]\.description: is required"
    ):
        validate_withholding("other", "1", " ", position=2)


@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        ("vat", "1", r"withholdings\[3\]\.kind: must be one of irrf"),
        ("irrf", "0", r"withholdings\[3\]\.amount: must be greater than zero"),
        ("irrf", "-5", r"withholdings\[3\]\.amount: must be greater than zero"),
        ("irrf", "1.234", r"withholdings\[3\]\.amount: must have at most 2"),
    ],
)
def test_bad_withholding_names_its_position_and_rule(
    kind: str, amount: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_withholding(kind, amount, position=3)


def test_net_is_gross_minus_the_withholdings() -> None:
    withholdings = [
        Withholding(WithholdingKind.IRRF, Decimal("150.00")),
        Withholding(WithholdingKind.INSS, Decimal("110.01")),
    ]
    net = compute_net(Decimal("1000.00"), withholdings)
    assert net == Decimal("739.99")
    assert str(net) == "739.99"


def test_net_without_withholdings_is_the_gross() -> None:
    assert compute_net(Decimal("10.1"), []) == Decimal("10.10")


def test_net_of_one_cent_is_accepted() -> None:
    withheld = [Withholding(WithholdingKind.ISS, Decimal("99.99"))]
    assert compute_net(Decimal("100"), withheld) == Decimal("0.01")


def test_withholdings_that_swallow_the_gross_are_refused() -> None:
    withheld = [Withholding(WithholdingKind.IRRF, Decimal("100.00"))]
    with pytest.raises(
        ValidationError, match=r"withholdings: total 100\.00 must be less than gross"
    ):
        compute_net(Decimal("100.00"), withheld)


@pytest.mark.parametrize(
    ("gross", "rule"),
    [
        (100.0, "never a binary float"),
        (Decimal("0"), "must be greater than zero"),
        (Decimal("1.001"), "at most 2 decimal places"),
    ],
)
def test_bad_gross_amount_is_refused(gross: Decimal, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"grossAmount: .*{rule}"):
        compute_net(gross, [])


# Lifecycle: main path and facts


def test_main_path_from_draft_to_paid_passes_with_its_facts() -> None:
    check_lifecycle(S.DRAFT, S.PENDING_APPROVAL)
    check_lifecycle(S.PENDING_APPROVAL, S.APPROVED)
    check_lifecycle(S.APPROVED, S.SENT_TO_ERP)
    check_lifecycle(S.SENT_TO_ERP, S.ERP_REGISTERED, document_number="5100000123")
    check_lifecycle(S.ERP_REGISTERED, S.PAID, payment_date=dt.date(2026, 12, 19))
    check_lifecycle(S.PAID, S.REVERSED)


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        (S.SENT_TO_ERP, S.ERP_REGISTERED, "documentNumber"),
        (S.ERP_REGISTERED, S.PAID, "paymentDate"),
        (S.PENDING_APPROVAL, S.REJECTED, "reason"),
        (S.SENT_TO_ERP, S.REJECTED, "reason"),
        (S.DRAFT, S.CANCELLED, "reason"),
    ],
)
def test_status_without_its_fact_is_refused(
    current: LifecycleStatus, new: LifecycleStatus, field: str
) -> None:
    with pytest.raises(ValidationError, match=f"{field}: is required to become {new}"):
        check_lifecycle(current, new, document_number=" ", reason="")


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PENDING_APPROVAL, S.REJECTED),
        (S.APPROVED, S.CANCELLED),
        (S.ERP_REGISTERED, S.CANCELLED),
    ],
)
def test_rejection_and_cancellation_with_a_reason_pass(
    current: LifecycleStatus, new: LifecycleStatus
) -> None:
    check_lifecycle(current, new, reason="valor em duplicidade")


# Lifecycle: forbidden transitions


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.DRAFT, S.APPROVED),
        (S.PENDING_APPROVAL, S.SENT_TO_ERP),
        (S.SENT_TO_ERP, S.CANCELLED),
        (S.ERP_REGISTERED, S.REVERSED),
        (S.PAID, S.CANCELLED),
        (S.REJECTED, S.PENDING_APPROVAL),
        (S.CANCELLED, S.DRAFT),
        (S.REVERSED, S.PAID),
        (S.APPROVED, S.APPROVED),
    ],
)
def test_transitions_outside_the_table_conflict(
    current: LifecycleStatus, new: LifecycleStatus
) -> None:
    with pytest.raises(
        ConflictError,
        match=f"a payment order in status {current} cannot become {new}",
    ):
        check_lifecycle(
            current,
            new,
            document_number="1",
            payment_date=dt.date(2026, 1, 1),
            reason="x",
        )


@pytest.mark.parametrize("status", [S.CANCELLED, S.REVERSED])
def test_cancelled_and_reversed_are_final(status: LifecycleStatus) -> None:
    assert LIFECYCLE_TRANSITIONS[status] == frozenset()


def test_only_an_erp_refusal_leaves_rejected() -> None:
    # The ERP refused it: resent once the cause is fixed, or given up. An
    # approver's rejection stays final (the stored table splits the two).
    from adapter.domain.payment_order_rules import ORDER_TRANSITIONS, OrderStatus

    assert LIFECYCLE_TRANSITIONS[S.REJECTED] == {
        S.SENT_TO_ERP,
        S.ERP_REGISTERED,
        S.CANCELLED,
    }
    assert ORDER_TRANSITIONS[OrderStatus.REJECTED] == frozenset()
    assert ORDER_TRANSITIONS[OrderStatus.ERP_REJECTED] == {
        OrderStatus.SENT,
        OrderStatus.REGISTERED,
        OrderStatus.CANCELLED,
    }


# Lifecycle: agreement with payments.PaymentStatus


def test_every_payment_status_has_a_lifecycle_status() -> None:
    assert set(FROM_PAYMENT_STATUS) == set(PaymentStatus)


@pytest.mark.parametrize(
    ("current", "new"),
    [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)],
)
def test_every_payments_transition_is_allowed_in_the_lifecycle(
    current: PaymentStatus, new: PaymentStatus
) -> None:
    check_lifecycle(
        FROM_PAYMENT_STATUS[current],
        FROM_PAYMENT_STATUS[new],
        document_number="5100000123",
        reason="ERP fault",
    )
