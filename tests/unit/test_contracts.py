"""Contract rules: fields, parties, renewal, status lifecycle and amendments."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from adapter.domain.contracts import (
    AmendmentType,
    ContractPartyRole,
    ContractStatus,
    ContractTerms,
    apply_amendment,
    check_contract_transition,
    notice_deadline,
    terms_of,
    validate_amendment,
    validate_contract,
)
from adapter.errors import ConflictError, ValidationError

GOOD: dict[str, Any] = {
    "number": "CT-2026-001",
    "type": "serviço",
    "object": "Manutenção predial",
    "parties": [
        ("company", "11.222.333/0001-81"),
        ("counterparty", "12.ABC.345/01DE-35"),
    ],
    "value": "120000.00",
    "currency": "BRL",
    "start_date": dt.date(2026, 1, 1),
    "end_date": dt.date(2026, 12, 31),
    "auto_renewal": "true",
    "renewal_months": "12",
    "notice_days": "30",
}
TERMS = ContractTerms(
    version=2,
    status=ContractStatus.ACTIVE,
    object="Manutenção predial",
    value=Decimal("120000.00"),
    start_date=dt.date(2026, 1, 1),
    end_date=dt.date(2026, 12, 31),
)


def contract(**changes: Any) -> Any:
    return validate_contract(**{**GOOD, **changes})


def amendment(kind: str, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "number": 3,
        "type": kind,
        "effective_date": dt.date(2026, 6, 1),
    }
    return validate_amendment(TERMS, **{**values, **changes})


# Contract fields


def test_valid_contract_is_normalized() -> None:
    result = contract()
    assert result.parties[1].role is ContractPartyRole.COUNTERPARTY
    assert result.parties[1].tax_id == "12ABC34501DE35"
    assert result.value == Decimal("120000.00")
    assert (result.auto_renewal, result.renewal_months, result.notice_days) == (
        True,
        12,
        30,
    )


@pytest.mark.parametrize(
    ("field", "name"), [("number", "number"), ("type", "type"), ("object", "object")]
)
def test_number_type_and_object_are_required(field: str, name: str) -> None:
    with pytest.raises(ValidationError, match=f"{name}: is required"):
        contract(**{field: ""})


def test_a_cpf_is_accepted_as_a_party_tax_id() -> None:
    result = contract(parties=[("counterparty", "123.456.789-09")])
    assert result.parties[0].tax_id == "12345678909"


@pytest.mark.parametrize(
    ("parties", "message"),
    [
        ([("company", "11.222.333/0001-81")], "parties: must include at least one"),
        ([], "parties: must include at least one counterparty"),
        ([("counterparty", "11.222.333/0001-82")], r"parties\[1\]\.taxId: .*mod 11"),
        ([("counterparty", "123")], r"parties\[1\]\.taxId: must be a CPF"),
        ([("buyer", "11.222.333/0001-81")], r"parties\[1\]\.role: must be one of"),
        (
            [("counterparty", "11.222.333/0001-81"), ("guarantor", "11222333000181")],
            r"parties\[2\]\.taxId: appears twice",
        ),
    ],
)
def test_bad_parties_name_the_position_and_rule(
    parties: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        contract(parties=parties)


@pytest.mark.parametrize(
    ("value", "rule"), [("0", "greater than zero"), ("1.001", "2 decimal places")]
)
def test_contract_value_must_be_positive_with_two_decimals(
    value: str, rule: str
) -> None:
    with pytest.raises(ValidationError, match=f"value: .*{rule}"):
        contract(value=value)


def test_absent_currency_means_brl_and_others_are_refused() -> None:
    assert contract(currency="").currency == "BRL"
    with pytest.raises(ValidationError, match="currency: must be BRL"):
        contract(currency="USD")


def test_end_date_may_equal_start_date_or_be_absent() -> None:
    assert contract(end_date=dt.date(2026, 1, 1)).end_date == dt.date(2026, 1, 1)
    no_end = contract(end_date=None, auto_renewal=False, renewal_months=None)
    assert no_end.end_date is None


def test_end_date_before_start_date_is_refused() -> None:
    with pytest.raises(ValidationError, match="endDate: must not be before startDate"):
        contract(end_date=dt.date(2025, 12, 31))


def test_start_date_is_required() -> None:
    with pytest.raises(ValidationError, match="startDate: is required"):
        contract(start_date="")


# Renewal and notice


@pytest.mark.parametrize("months", ["1", "120"])
def test_renewal_months_from_1_to_120_are_accepted(months: str) -> None:
    assert contract(renewal_months=months).renewal_months == int(months)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"renewal_months": "0"}, "renewalMonths: must be from 1 to 120"),
        ({"renewal_months": "121"}, "renewalMonths: must be from 1 to 120"),
        ({"renewal_months": "twelve"}, "renewalMonths: must be a whole number"),
        ({"renewal_months": None}, "renewalMonths: is required when autoRenewal"),
        ({"end_date": None}, "endDate: is required when autoRenewal is true"),
        ({"auto_renewal": "maybe"}, "autoRenewal: must be true or false"),
        (
            {"auto_renewal": False},
            "renewalMonths: is only allowed when autoRenewal is true",
        ),
    ],
)
def test_renewal_rules_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        contract(**changes)


def test_contract_without_auto_renewal_needs_no_renewal_months() -> None:
    result = contract(auto_renewal="", renewal_months="")
    assert (result.auto_renewal, result.renewal_months) == (False, None)
    assert notice_deadline(result) is None


@pytest.mark.parametrize("days", ["0", "365"])
def test_notice_days_from_0_to_365_are_accepted(days: str) -> None:
    assert contract(notice_days=days).notice_days == int(days)


@pytest.mark.parametrize("days", ["-1", "366"])
def test_notice_days_outside_0_to_365_are_refused(days: str) -> None:
    with pytest.raises(ValidationError, match="noticeDays: must be from 0 to 365"):
        contract(notice_days=days)


def test_notice_deadline_is_end_date_minus_notice_days() -> None:
    assert notice_deadline(contract()) == dt.date(2026, 12, 1)


# Status lifecycle


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("draft", "signing"),
        ("signing", "draft"),
        ("signing", "active"),
        ("signing", "pending"),
        ("active", "pending"),
        ("pending", "active"),
        ("active", "ended"),
        ("active", "terminated"),
        ("pending", "terminated"),
    ],
)
def test_allowed_contract_transitions_pass(current: str, new: str) -> None:
    check_contract_transition(ContractStatus(current), ContractStatus(new))


@pytest.mark.parametrize(
    ("current", "new"),
    [("draft", "active"), ("ended", "active"), ("terminated", "active")],
)
def test_other_contract_transitions_conflict(current: str, new: str) -> None:
    with pytest.raises(ConflictError, match=f"in status {current} cannot become {new}"):
        check_contract_transition(ContractStatus(current), ContractStatus(new))


# Amendments: numbering and period


def test_amendment_number_is_the_last_plus_one() -> None:
    assert amendment("scope", new_object="Manutenção e limpeza").number == 3


@pytest.mark.parametrize("number", [2, 4, ""])
def test_other_amendment_numbers_are_refused(number: object) -> None:
    with pytest.raises(ValidationError, match="number: "):
        amendment("scope", number=number, new_object="Limpeza")


def test_amendment_number_error_says_which_number_is_expected() -> None:
    with pytest.raises(ValidationError, match="number: must be 3, one after the last"):
        amendment("scope", number=4, new_object="Limpeza")


@pytest.mark.parametrize("day", [dt.date(2026, 1, 1), dt.date(2026, 12, 31)])
def test_effective_date_on_the_period_edges_is_accepted(day: dt.date) -> None:
    assert amendment("value", new_value="1", effective_date=day).effective_date == day


@pytest.mark.parametrize(
    ("day", "rule"),
    [
        (dt.date(2025, 12, 31), "before the contract start"),
        (dt.date(2027, 1, 1), "after"),
    ],
)
def test_effective_date_outside_the_period_is_refused(day: dt.date, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"effectiveDate: must not be {rule}"):
        amendment("value", new_value="1", effective_date=day)


@pytest.mark.parametrize("status", ["draft", "ended", "terminated"])
def test_only_active_or_pending_contracts_can_be_amended(status: str) -> None:
    terms = replace(TERMS, status=ContractStatus(status))
    with pytest.raises(ConflictError, match=f"status {status} cannot be amended"):
        validate_amendment(
            terms, number=3, type="scope", effective_date="2026-06-01", new_object="X"
        )


# Amendments: by type


@pytest.mark.parametrize("kind", ["term", "renewal"])
def test_term_and_renewal_amendments_move_the_end_date_forward(kind: str) -> None:
    result = amendment(kind, new_end_date="2027-12-31")
    assert result.type is AmendmentType(kind)
    assert result.new_end_date == dt.date(2027, 12, 31)


@pytest.mark.parametrize(
    ("new_end", "message"),
    [
        (dt.date(2026, 12, 31), "newEndDate: must be after the current end date"),
        (dt.date(2026, 11, 30), "newEndDate: must be after the current end date"),
        (None, "newEndDate: is required in a term amendment"),
    ],
)
def test_term_amendment_that_does_not_extend_is_refused(
    new_end: dt.date | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        amendment("term", new_end_date=new_end)


def test_term_amendment_of_an_open_ended_contract_is_refused() -> None:
    terms = replace(TERMS, end_date=None)
    with pytest.raises(ValidationError, match="type: a contract with no end date"):
        validate_amendment(
            terms,
            number=3,
            type="term",
            effective_date="2026-06-01",
            new_end_date="2027-01-01",
        )


def test_value_amendment_gives_a_new_positive_value() -> None:
    assert amendment("value", new_value="150000").new_value == Decimal("150000.00")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("120000.00", "must differ from the current value"),
        ("0", "must be greater than zero"),
        ("", "is required"),
    ],
)
def test_bad_new_value_is_refused(value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"newValue: {rule}"):
        amendment("value", new_value=value)


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        (
            "value",
            {"new_value": "1", "new_end_date": "2027-01-01"},
            "newEndDate: is only",
        ),
        ("term", {"new_end_date": "2027-01-01", "new_value": "1"}, "newValue: is only"),
        ("value", {"new_value": "1", "new_object": "X"}, "newObject: is only"),
    ],
)
def test_fields_of_another_amendment_type_are_refused(
    kind: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        amendment(kind, **changes)


def test_scope_amendment_needs_the_new_object() -> None:
    with pytest.raises(ValidationError, match="newObject: is required"):
        amendment("scope")


def test_unknown_amendment_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="type: must be one of term, value"):
        amendment("price")


# Applying amendments


def test_applying_an_amendment_returns_a_new_version_and_keeps_the_old() -> None:
    extended = apply_amendment(TERMS, amendment("term", new_end_date="2027-12-31"))
    assert (extended.version, extended.end_date) == (3, dt.date(2027, 12, 31))
    assert extended.value == TERMS.value
    assert (TERMS.version, TERMS.end_date) == (2, dt.date(2026, 12, 31))


def test_value_and_scope_amendments_change_only_their_term() -> None:
    repriced = apply_amendment(TERMS, amendment("value", new_value="99.90"))
    assert (repriced.value, repriced.end_date) == (Decimal("99.90"), TERMS.end_date)
    rescoped = apply_amendment(TERMS, amendment("scope", new_object="Limpeza"))
    assert (rescoped.object, rescoped.value) == ("Limpeza", TERMS.value)


def test_amendments_apply_in_sequence_from_the_signed_contract() -> None:
    signed = terms_of(contract(), ContractStatus.ACTIVE)
    first = validate_amendment(
        signed, number=1, type="value", effective_date="2026-02-01", new_value="1"
    )
    version_1 = apply_amendment(signed, first)
    second = validate_amendment(
        version_1,
        number=2,
        type="renewal",
        effective_date="2026-12-01",
        new_end_date="2027-12-31",
    )
    version_2 = apply_amendment(version_1, second)
    assert (version_2.version, version_2.value, version_2.end_date) == (
        2,
        Decimal("1.00"),
        dt.date(2027, 12, 31),
    )


def test_an_amendment_checked_against_another_version_cannot_be_applied() -> None:
    checked = amendment("value", new_value="1")
    stale = replace(TERMS, version=3)
    with pytest.raises(ConflictError, match="amendment 3 cannot follow version 3"):
        apply_amendment(stale, checked)
