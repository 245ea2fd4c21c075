"""Employee rules: identifiers, required fields and the employment period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.domain.employees import validate_employee
from adapter.errors import ValidationError

GOOD: dict[str, Any] = {
    "source_system": "PROTHEUS",
    "external_id": "SRA-000123",
    "cpf": "123.456.789-09",
    "registration_number": "000123",
    "employer_tax_id": "11.222.333/0001-81",
    "name": "Maria da Silva",
    "admission_date": "2020-02-03",
}


def employee(**changes: Any) -> Any:
    return validate_employee(**{**GOOD, **changes})


def test_valid_employee_is_normalized() -> None:
    result = employee()
    assert (result.cpf, result.employer_tax_id) == ("12345678909", "11222333000181")
    assert result.admission_date == dt.date(2020, 2, 3)
    assert result.is_active


def test_alphanumeric_employer_cnpj_is_accepted() -> None:
    assert employee(employer_tax_id="12.ABC.345/01DE-35").employer_tax_id == (
        "12ABC34501DE35"
    )


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("source_system", "sourceSystem"),
        ("external_id", "externalId"),
        ("cpf", "cpf"),
        ("registration_number", "registrationNumber"),
        ("employer_tax_id", "employerTaxId"),
        ("name", "name"),
        ("admission_date", "admissionDate"),
    ],
)
def test_each_required_field_is_named(field: str, name: str) -> None:
    with pytest.raises(ValidationError, match=f"{name}: is required"):
        employee(**{field: ""})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cpf", "123.456.789-08", "cpf: CPF check digits do not match"),
        ("cpf", "111.111.111-11", "cpf: a CPF cannot have all digits equal"),
        ("employer_tax_id", "123.456.789-09", "employerTaxId: a CNPJ has 12"),
        ("employer_tax_id", "11.222.333/0001-82", "employerTaxId: CNPJ check"),
        ("registration_number", "9" * 31, "registrationNumber: is longer than 30"),
        ("admission_date", "03/02/2020", "admissionDate: must be a date written"),
    ],
)
def test_bad_field_names_the_field_and_rule(
    field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        employee(**{field: value})


def test_terminated_employee_carries_date_and_reason() -> None:
    result = employee(termination_date=dt.date(2024, 5, 10), termination_reason="02")
    assert (result.termination_date, result.termination_reason) == (
        dt.date(2024, 5, 10),
        "02",
    )
    assert not result.is_active


def test_termination_on_the_admission_day_is_accepted() -> None:
    result = employee(termination_date="2020-02-03", termination_reason="01")
    assert result.termination_date == result.admission_date


def test_termination_before_admission_is_refused() -> None:
    with pytest.raises(
        ValidationError, match="terminationDate: must not be before admissionDate"
    ):
        employee(termination_date="2020-02-02", termination_reason="02")


def test_termination_date_needs_a_reason() -> None:
    with pytest.raises(
        ValidationError, match="terminationReason: is required when terminationDate"
    ):
        employee(termination_date="2024-05-10", termination_reason=" ")


def test_termination_reason_without_a_date_is_refused() -> None:
    with pytest.raises(
        ValidationError, match="terminationReason: is only allowed with a termination"
    ):
        employee(termination_reason="02")
