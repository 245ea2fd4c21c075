"""Lawsuit rules: CNJ parts, kinds, amounts, dates and the status lifecycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from adapter.domain.identifiers import cnj_check_digits, format_cnj
from adapter.domain.lawsuits import (
    LawsuitKind,
    LawsuitStatus,
    check_lawsuit_transition,
    parse_cnj,
    validate_lawsuit,
)
from adapter.errors import ConflictError, ValidationError

TODAY = dt.date(2026, 6, 1)
GOOD: dict[str, Any] = {
    "source_system": "SAP",
    "external_id": "LS-1",
    "kind": "judicial",
    "cnj_number": "0058967-77.2016.8.19.0000",
    "area": "civil",
    "company_role": "defendant",
    "claim_value": "15000.5",
    "risk": "possible",
    "status": "active",
    "filing_date": dt.date(2016, 3, 10),
    "today": TODAY,
}


def lawsuit(**changes: Any) -> Any:
    return validate_lawsuit(**{**GOOD, **changes})


# CNJ parts


@pytest.mark.parametrize(
    ("number", "parts", "segment_name"),
    [
        (
            "0058967-77.2016.8.19.0000",
            ("0058967", "77", 2016, 8, "19", "0000"),
            "Justiça Estadual",
        ),
        (
            "0002582-62.2020.8.17.8201",
            ("0002582", "62", 2020, 8, "17", "8201"),
            "Justiça Estadual",
        ),
        (
            "0000002-65.2005.4.05.8100",
            ("0000002", "65", 2005, 4, "05", "8100"),
            "Justiça Federal",
        ),
        (
            "0084500-31.2009.5.09.0091",
            ("0084500", "31", 2009, 5, "09", "0091"),
            "Justiça do Trabalho",
        ),
        (
            "1234567-13.2024.8.26.0100",
            ("1234567", "13", 2024, 8, "26", "0100"),
            "Justiça Estadual",
        ),
    ],
)
def test_real_cnj_numbers_split_into_their_parts(
    number: str, parts: tuple[object, ...], segment_name: str
) -> None:
    cnj = parse_cnj(number)
    assert (cnj.sequence, cnj.check, cnj.year, cnj.segment, cnj.court, cnj.origin) == (
        parts
    )
    assert cnj.segment_name == segment_name
    assert cnj.digits == number.replace("-", "").replace(".", "")


def test_cnj_with_leading_zeros_omitted_is_padded() -> None:
    assert parse_cnj("2-65.2005.4.05.8100").sequence == "0000002"


def test_every_segment_from_1_to_9_has_a_name() -> None:
    names = {
        1: "STF",
        2: "CNJ",
        3: "STJ",
        4: "Justiça Federal",
        5: "Justiça do Trabalho",
        6: "Justiça Eleitoral",
        7: "Justiça Militar da União",
        8: "Justiça Estadual",
        9: "Justiça Militar Estadual",
    }
    for segment, name in names.items():
        dd = cnj_check_digits("1", "2024", str(segment), "00", "0000")
        digits = f"0000001{dd}2024{segment}000000"
        assert parse_cnj(format_cnj(digits)).segment_name == name


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("0058967-78.2016.8.19.0000", "check digits"),
        ("0058967-77.2016.8.19", "NNNNNNN-DD"),
    ],
)
def test_bad_cnj_names_the_field_and_rule(number: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"cnjNumber: .*{rule}"):
        parse_cnj(number)


# Kind and CNJ


def test_valid_judicial_lawsuit_is_normalized() -> None:
    result = lawsuit()
    assert result.kind is LawsuitKind.JUDICIAL
    assert result.cnj_number == "00589677720168190000"
    assert result.cnj is not None and result.cnj.court == "19"
    assert result.claim_value == Decimal("15000.50")
    assert result.warnings == ()


def test_judicial_lawsuit_requires_a_cnj_number() -> None:
    with pytest.raises(ValidationError, match="cnjNumber: is required for a judicial"):
        lawsuit(cnj_number="")


@pytest.mark.parametrize("kind", ["administrative", "extrajudicial"])
def test_non_judicial_lawsuit_may_lack_a_cnj_number(kind: str) -> None:
    result = lawsuit(kind=kind, cnj_number=None)
    assert result.cnj_number is None and result.cnj is None


def test_non_judicial_lawsuit_with_a_cnj_number_still_checks_it() -> None:
    with pytest.raises(ValidationError, match=r"cnjNumber: .*check digits"):
        lawsuit(kind="administrative", cnj_number="0058967-78.2016.8.19.0000")


def test_filing_year_other_than_cnj_year_is_a_warning_not_an_error() -> None:
    result = lawsuit(filing_date=dt.date(2017, 1, 5))
    assert result.warnings == ("filingDate: year 2017 differs from CNJ year 2016",)


# Choices


@pytest.mark.parametrize(
    ("field", "name", "good", "bad"),
    [
        ("kind", "kind", "EXTRAJUDICIAL", "arbitration"),
        ("area", "area", "labor", "family"),
        ("company_role", "companyRole", "plaintiff", "witness"),
        ("risk", "risk", "remote", "unlikely"),
        ("status", "status", "suspended", "open"),
    ],
)
def test_each_choice_accepts_its_values_and_names_the_field(
    field: str, name: str, good: str, bad: str
) -> None:
    assert getattr(lawsuit(**{field: good}), field) == good.lower()
    with pytest.raises(ValidationError, match=f"{name}: must be one of"):
        lawsuit(**{field: bad})


@pytest.mark.parametrize(
    ("field", "name"),
    [("source_system", "sourceSystem"), ("external_id", "externalId")],
)
def test_source_and_external_id_are_required(field: str, name: str) -> None:
    with pytest.raises(ValidationError, match=f"{name}: is required"):
        lawsuit(**{field: " "})


# Claim value


@pytest.mark.parametrize(
    ("value", "expected"), [("0", "0.00"), (Decimal("10.1"), "10.10")]
)
def test_claim_value_may_be_zero_or_positive(value: object, expected: str) -> None:
    assert lawsuit(claim_value=value).claim_value == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("-0.01", "must not be negative"),
        ("10.001", "at most 2 decimal places"),
        ("abc", "decimal number"),
        (10.5, "never a binary float"),
        ("", "is required"),
    ],
)
def test_bad_claim_value_names_the_rule(value: object, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"claimValue: .*{rule}"):
        lawsuit(claim_value=value)


# Dates


def test_filing_date_may_be_today_and_may_be_an_iso_string() -> None:
    assert lawsuit(filing_date="2026-06-01").filing_date == TODAY


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (dt.date(2026, 6, 2), "must not be after today"),
        ("01/06/2026", "YYYY-MM-DD"),
        (dt.datetime(2016, 3, 10, 9, 0), "without a time of day"),
        (None, "is required"),
    ],
)
def test_bad_filing_date_names_the_rule(value: object, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"filingDate: .*{rule}"):
        lawsuit(filing_date=value)


def test_closed_lawsuit_carries_closure_date_and_reason() -> None:
    result = lawsuit(
        status="closed", closure_date=dt.date(2020, 1, 1), closure_reason="settled"
    )
    assert result.status is LawsuitStatus.CLOSED
    assert result.closure_reason == "settled"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closure_reason": "settled"}, "closureDate: is required when status is"),
        ({"closure_date": dt.date(2020, 1, 1)}, "closureReason: is required when"),
        (
            {"closure_date": dt.date(2016, 3, 9), "closure_reason": "settled"},
            "closureDate: must not be before filingDate",
        ),
    ],
)
def test_closed_lawsuit_needs_a_consistent_closure(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        lawsuit(status="closed", **changes)


def test_closure_date_on_the_filing_date_is_accepted() -> None:
    closed = lawsuit(
        status="closed", closure_date=dt.date(2016, 3, 10), closure_reason="settled"
    )
    assert closed.closure_date == closed.filing_date


def test_archived_lawsuit_may_omit_the_closure() -> None:
    assert lawsuit(status="archived").closure_date is None


def test_active_lawsuit_refuses_closure_data() -> None:
    with pytest.raises(ValidationError, match="closureDate: is only allowed when"):
        lawsuit(closure_date=dt.date(2020, 1, 1))


# Status lifecycle


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("active", "suspended"),
        ("suspended", "active"),
        ("suspended", "closed"),
        ("closed", "archived"),
        ("closed", "active"),
        ("archived", "active"),
    ],
)
def test_allowed_lawsuit_transitions_pass(current: str, new: str) -> None:
    check_lawsuit_transition(
        LawsuitStatus(current),
        LawsuitStatus(new),
        closure_date=dt.date(2026, 1, 1),
        closure_reason="final decision",
    )


@pytest.mark.parametrize(
    ("current", "new"),
    [("active", "archived"), ("archived", "closed"), ("active", "active")],
)
def test_other_lawsuit_transitions_conflict(current: str, new: str) -> None:
    with pytest.raises(ConflictError, match=f"in status {current} cannot become {new}"):
        check_lawsuit_transition(LawsuitStatus(current), LawsuitStatus(new))


def test_closing_a_lawsuit_needs_date_and_reason() -> None:
    active, closed = LawsuitStatus.ACTIVE, LawsuitStatus.CLOSED
    with pytest.raises(ValidationError, match="closureDate: is required"):
        check_lawsuit_transition(active, closed, closure_reason="settled")
    with pytest.raises(ValidationError, match="closureReason: is required"):
        check_lawsuit_transition(active, closed, closure_date=dt.date(2026, 1, 1))
    check_lawsuit_transition(
        active, closed, closure_date=dt.date(2026, 1, 1), closure_reason="settled"
    )
