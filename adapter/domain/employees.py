"""Employees as the HR system projects them (legal-domain notes §2.8).

The legal department links labour lawsuits and time-clock punches to an
employee by CPF and registration number (matrícula) at one employer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from adapter.domain.identifiers import normalize_cnpj, normalize_cpf
from adapter.domain.lawsuits import optional_text, parse_date, required_date
from adapter.domain.parties import required_text
from adapter.errors import ValidationError


@dataclass(frozen=True)
class EmployeeInput:
    """What an HR system sends for an employee, checked by ``validate_employee``."""

    source_system: str
    external_id: str
    cpf: str  # 11 digits
    registration_number: str  # matrícula (eSocial ``matricula``)
    employer_tax_id: str  # CNPJ, 14 characters
    name: str
    admission_date: dt.date
    termination_date: dt.date | None
    termination_reason: str | None  # eSocial ``mtvDeslig`` code or text

    @property
    def is_active(self) -> bool:
        return self.termination_date is None


def _check_termination(
    admission: dt.date, date: dt.date | None, reason: str | None
) -> None:
    if date is None:
        if reason is not None:
            raise ValidationError(
                "terminationReason", "is only allowed with a terminationDate"
            )
        return
    if date < admission:
        raise ValidationError("terminationDate", "must not be before admissionDate")
    if reason is None:
        raise ValidationError(
            "terminationReason", "is required when terminationDate is given"
        )


def validate_employee(
    *,
    source_system: str | None,
    external_id: str | None,
    cpf: str | None,
    registration_number: str | None,
    employer_tax_id: str | None,
    name: str | None,
    admission_date: dt.date | str | None,
    termination_date: dt.date | str | None = None,
    termination_reason: str | None = None,
) -> EmployeeInput:
    """Check every field of an employee; raise ``ValidationError`` at the first break.

    ``terminationReason`` is required with, and only with, a ``terminationDate``.
    """
    source = required_text(source_system, "sourceSystem", 40)
    external = required_text(external_id, "externalId", 80)
    employee_cpf = normalize_cpf(required_text(cpf, "cpf", 20), "cpf")
    registration = required_text(registration_number, "registrationNumber", 30)
    employer = normalize_cnpj(
        required_text(employer_tax_id, "employerTaxId", 20), "employerTaxId"
    )
    full_name = required_text(name, "name", 200)

    admission = required_date(admission_date, "admissionDate")
    terminated_on = parse_date(termination_date, "terminationDate")
    reason = optional_text(termination_reason, "terminationReason", 200)
    _check_termination(admission, terminated_on, reason)

    return EmployeeInput(
        source_system=source,
        external_id=external,
        cpf=employee_cpf,
        registration_number=registration,
        employer_tax_id=employer,
        name=full_name,
        admission_date=admission,
        termination_date=terminated_on,
        termination_reason=reason,
    )
