"""Provisions (CPC 25 / IAS 37): validation and the movements between dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapter.domain.provisions import (
    AccountRole,
    Classification,
    Movement,
    MovementKind,
    ProvisionSnapshot,
    movements,
    revision_movements,
    snapshot_of,
    validate_provision,
    withdrawal_movements,
)
from adapter.errors import ConflictError, ValidationError

MAY, JUNE = dt.date(2026, 5, 31), dt.date(2026, 6, 30)
EXPENSE, PROVISION, REVERSAL = (
    AccountRole.PROVISION_EXPENSE,
    AccountRole.PROVISION,
    AccountRole.PROVISION_REVERSAL,
)


def before(classification: str, amount: str) -> ProvisionSnapshot:
    return ProvisionSnapshot(MAY, Classification(classification), Decimal(amount))


def moves(
    previous: ProvisionSnapshot | None, classification: str, amount: str
) -> list[Movement]:
    new = validate_provision("LS-1", JUNE, classification, amount)
    return movements(previous, new)


# Validation


def test_valid_provision_is_normalized() -> None:
    result = validate_provision("LS-1", "2026-06-30", "PROBABLE", "1000.5", "")
    assert result.classification is Classification.PROBABLE
    assert (result.reporting_date, result.amount, result.currency) == (
        JUNE,
        Decimal("1000.50"),
        "BRL",
    )


def test_zero_amount_is_accepted() -> None:
    assert validate_provision("LS-1", JUNE, "remote", "0").amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", JUNE, "probable", "1"), "lawsuitId: is required"),
        (("LS-1", None, "probable", "1"), "reportingDate: is required"),
        (("LS-1", "30/06/2026", "probable", "1"), "reportingDate: must be a date"),
        (("LS-1", JUNE, "likely", "1"), "classification: must be one of probable"),
        (("LS-1", JUNE, "probable", "-1"), "amount: must not be negative"),
        (("LS-1", JUNE, "probable", "1.005"), "amount: must have at most 2"),
        (("LS-1", JUNE, "probable", ""), "amount: is required"),
    ],
)
def test_bad_provision_names_the_field_and_rule(
    args: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_provision(*args)


def test_provision_currency_must_be_brl() -> None:
    with pytest.raises(ValidationError, match="currency: must be BRL"):
        validate_provision("LS-1", JUNE, "probable", "1", "EUR")


# Movements: probable


def test_first_probable_provision_is_constituted() -> None:
    assert moves(None, "probable", "1000.00") == [
        Movement(MovementKind.CONSTITUTION, Decimal("1000.00"), EXPENSE, PROVISION)
    ]


def test_probable_after_possible_is_constituted_in_full() -> None:
    assert moves(before("possible", "800.00"), "probable", "1000.00") == [
        Movement(MovementKind.CONSTITUTION, Decimal("1000.00"), EXPENSE, PROVISION)
    ]


def test_higher_probable_estimate_increases_by_the_delta() -> None:
    assert moves(before("probable", "1000.00"), "probable", "1250.50") == [
        Movement(MovementKind.INCREASE, Decimal("250.50"), EXPENSE, PROVISION)
    ]


def test_lower_probable_estimate_reverses_the_delta() -> None:
    assert moves(before("probable", "1000.00"), "probable", "600.00") == [
        Movement(MovementKind.REVERSAL, Decimal("400.00"), PROVISION, REVERSAL)
    ]


def test_unchanged_probable_estimate_moves_nothing() -> None:
    assert moves(before("probable", "1000.00"), "probable", "1000.00") == []


def test_probable_with_a_zero_estimate_moves_nothing() -> None:
    assert moves(None, "probable", "0") == []


# Movements: reclassification, possible and remote


def test_probable_reclassified_as_possible_reverses_all_and_discloses() -> None:
    assert moves(before("probable", "1000.00"), "possible", "700.00") == [
        Movement(MovementKind.REVERSAL, Decimal("1000.00"), PROVISION, REVERSAL),
        Movement(MovementKind.DISCLOSURE, Decimal("700.00"), None, None),
    ]


def test_probable_reclassified_as_remote_reverses_all_and_nothing_more() -> None:
    assert moves(before("probable", "1000.00"), "remote", "700.00") == [
        Movement(MovementKind.REVERSAL, Decimal("1000.00"), PROVISION, REVERSAL)
    ]


def test_possible_is_disclosed_without_a_ledger_entry() -> None:
    assert moves(None, "possible", "500.00") == [
        Movement(MovementKind.DISCLOSURE, Decimal("500.00"), None, None)
    ]


def test_possible_is_disclosed_again_at_every_reporting_date() -> None:
    assert moves(before("possible", "500.00"), "possible", "500.00") == [
        Movement(MovementKind.DISCLOSURE, Decimal("500.00"), None, None)
    ]


@pytest.mark.parametrize("previous", [None, "possible", "remote"])
def test_remote_moves_nothing(previous: str | None) -> None:
    snapshot = None if previous is None else before(previous, "300.00")
    assert moves(snapshot, "remote", "300.00") == []


# Movements: order of reporting dates


def test_a_provision_must_follow_the_previous_reporting_date() -> None:
    june = ProvisionSnapshot(JUNE, Classification.PROBABLE, Decimal("1.00"))
    with pytest.raises(ConflictError, match="for 2026-06-30 cannot follow the one"):
        moves(june, "probable", "2.00")


def test_snapshot_of_a_provision_feeds_the_next_reporting_date() -> None:
    june = validate_provision("LS-1", JUNE, "probable", "100.00")
    july = validate_provision("LS-1", dt.date(2026, 7, 31), "probable", "120.00")
    assert movements(snapshot_of(june), july) == [
        Movement(MovementKind.INCREASE, Decimal("20.00"), EXPENSE, PROVISION)
    ]


# Movements: a new figure for the same date, and a withdrawn date


def revise(
    stored: ProvisionSnapshot, classification: str, amount: str
) -> list[Movement]:
    new = validate_provision("LS-1", stored.reporting_date, classification, amount)
    return revision_movements(stored, new)


def test_revision_moves_only_the_difference() -> None:
    assert revise(before("probable", "1000.00"), "probable", "1200.00") == [
        Movement(MovementKind.INCREASE, Decimal("200.00"), EXPENSE, PROVISION)
    ]


def test_revision_to_possible_reverses_and_discloses() -> None:
    assert revise(before("probable", "1000.00"), "possible", "900.00") == [
        Movement(MovementKind.REVERSAL, Decimal("1000.00"), PROVISION, REVERSAL),
        Movement(MovementKind.DISCLOSURE, Decimal("900.00"), None, None),
    ]


def test_revision_for_another_date_is_a_conflict() -> None:
    june = validate_provision("LS-1", JUNE, "probable", "1.00")
    with pytest.raises(ConflictError, match="for 2026-06-30 cannot replace"):
        revision_movements(before("probable", "1.00"), june)


def test_withdrawal_reverses_back_to_the_previous_figure() -> None:
    withdrawn = ProvisionSnapshot(JUNE, Classification.PROBABLE, Decimal("150.00"))
    assert withdrawal_movements(withdrawn, before("probable", "100.00")) == [
        Movement(MovementKind.REVERSAL, Decimal("50.00"), PROVISION, REVERSAL)
    ]


def test_withdrawal_below_the_previous_figure_constitutes_it_again() -> None:
    withdrawn = ProvisionSnapshot(JUNE, Classification.REMOTE, Decimal("0.00"))
    assert withdrawal_movements(withdrawn, before("probable", "100.00")) == [
        Movement(MovementKind.CONSTITUTION, Decimal("100.00"), EXPENSE, PROVISION)
    ]


def test_withdrawal_of_the_first_provision_reverses_it_all() -> None:
    withdrawn = ProvisionSnapshot(JUNE, Classification.PROBABLE, Decimal("80.00"))
    assert withdrawal_movements(withdrawn, None) == [
        Movement(MovementKind.REVERSAL, Decimal("80.00"), PROVISION, REVERSAL)
    ]


def test_withdrawal_brings_back_the_previous_disclosure() -> None:
    withdrawn = ProvisionSnapshot(JUNE, Classification.REMOTE, Decimal("0.00"))
    assert withdrawal_movements(withdrawn, before("possible", "300.00")) == [
        Movement(MovementKind.DISCLOSURE, Decimal("300.00"), None, None)
    ]


def test_withdrawal_needs_an_earlier_previous_provision() -> None:
    withdrawn = ProvisionSnapshot(MAY, Classification.PROBABLE, Decimal("1.00"))
    with pytest.raises(ConflictError, match="does not follow the one for 2026-05-31"):
        withdrawal_movements(withdrawn, before("probable", "1.00"))
