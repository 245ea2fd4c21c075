"""Between the employee family's SOAP types and its use cases."""

from __future__ import annotations

from adapter.app.employees import EmployeeFilter, EmployeeView
from adapter.domain.employees import EmployeeInput, validate_employee
from adapter.domain.identifiers import normalize_cnpj, normalize_cpf
from adapter.domain.lawsuits import is_absent
from adapter.errors import ValidationError
from adapter.inbound import types_employees as te
from adapter.inbound.mapping import utc

Lookup = tuple[str | None, tuple[str, str] | None, str | None]


def employee_data(item: te.EmployeeInput) -> EmployeeInput:
    return validate_employee(
        source_system=item.sourceSystem,
        external_id=item.externalId,
        cpf=item.cpf,
        registration_number=item.registrationNumber,
        employer_tax_id=item.employerTaxId,
        name=item.name,
        admission_date=item.admissionDate,
        termination_date=item.terminationDate,
        termination_reason=item.terminationReason,
    )


def employee_lookup(
    record_id: str | None,
    source_system: str | None,
    external_id: str | None,
    cpf: str | None,
) -> Lookup:
    """How GetEmployee names an employee: ``id``, the HR key, or ``cpf``."""
    if not is_absent(record_id):
        return (record_id or "").strip(), None, None
    if not (is_absent(source_system) or is_absent(external_id)):
        return None, ((source_system or "").strip(), (external_id or "").strip()), None
    if not is_absent(cpf):
        return None, None, normalize_cpf(cpf or "", "cpf")
    raise ValidationError("id", "give id, sourceSystem and externalId, or cpf")


def employee_filter(f: te.EmployeeFilter | None) -> EmployeeFilter:
    if f is None:
        return EmployeeFilter()
    employer = None
    if not is_absent(f.employerTaxId):
        employer = normalize_cnpj(f.employerTaxId, "filter.employerTaxId")
    cpf = None if is_absent(f.cpf) else normalize_cpf(f.cpf, "filter.cpf")
    return EmployeeFilter(
        employer_tax_id=employer,
        cpf=cpf,
        active_only=bool(f.activeOnly),
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


def employee_out(view: EmployeeView) -> te.Employee:
    return te.Employee(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        cpf=view.cpf,
        registrationNumber=view.registration_number,
        employerTaxId=view.employer_tax_id,
        name=view.name,
        admissionDate=view.admission_date,
        terminationDate=view.termination_date,
        terminationReason=view.termination_reason,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        deletedAt=view.deleted_at,
    )
