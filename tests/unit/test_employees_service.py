"""Employee use cases on a real database: HR upserts, CPF lookups, masking."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from adapter.app.context import CallContext
from adapter.app.employees import EmployeeFilter, EmployeeService
from adapter.domain.employees import EmployeeInput, validate_employee
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.inbound import types_employees as te
from adapter.inbound.mapping_employees import (
    employee_data,
    employee_filter,
    employee_lookup,
)
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry
from adapter.storage.paging import decode_cursor

CALL = CallContext(actor="hr", channel="soap", operation="test")
CPF = "123.456.789-09"
CPF_DIGITS = "12345678909"
OTHER_CPF = "529.982.247-25"
EMPLOYER = "11.222.333/0001-81"
OTHER_EMPLOYER = "12.ABC.345/01DE-35"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(runtime: Runtime, clock: Clock) -> EmployeeService:
    return EmployeeService(runtime.db, runtime.audit, clock)


def employee(external_id: str = "E-1", **changes: Any) -> EmployeeInput:
    fields: dict[str, Any] = {
        "source_system": "TOTVS-RM",
        "external_id": external_id,
        "cpf": CPF,
        "registration_number": f"M-{external_id}",
        "employer_tax_id": EMPLOYER,
        "name": "Maria da Silva",
        "admission_date": dt.date(2020, 2, 3),
        **changes,
    }
    return validate_employee(**fields)


def terminated(external_id: str, **changes: Any) -> EmployeeInput:
    return employee(
        external_id,
        termination_date=dt.date(2024, 1, 31),
        termination_reason="02",
        **changes,
    )


def audit_details(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return [d or "" for d in session.scalars(select(AuditEntry.detail))]


# Upsert


def test_upsert_is_idempotent_on_source_and_external_id(
    service: EmployeeService,
) -> None:
    first, created = service.upsert(CALL, employee())
    again, unchanged = service.upsert(CALL, employee())
    renamed, updated = service.upsert(CALL, employee(name="Maria S. da Silva"))
    assert (created, unchanged, updated) == ("created", "unchanged", "updated")
    assert first.id == again.id == renamed.id
    assert (renamed.cpf, renamed.employer_tax_id) == (CPF_DIGITS, "11222333000181")


def test_cpf_is_masked_in_the_audit_entry(
    runtime: Runtime, service: EmployeeService
) -> None:
    service.upsert(CALL, employee())
    service.upsert(CALL, employee(cpf=OTHER_CPF))
    details = audit_details(runtime)
    assert len(details) == 2
    assert json.loads(details[0])["cpf"] == {"before": None, "after": "***.456.789-**"}
    # A change records the value before and after, both masked.
    assert json.loads(details[1])["cpf"] == {
        "before": "***.456.789-**",
        "after": "***.982.247-**",
    }
    assert not any(CPF_DIGITS in d or "52998224725" in d for d in details)


def test_registration_number_belongs_to_one_employee_per_employer(
    service: EmployeeService,
) -> None:
    service.upsert(CALL, employee("E-1", registration_number="0042"))
    with pytest.raises(ConflictError, match="registrationNumber 0042 at employer"):
        service.upsert(CALL, employee("E-2", registration_number="0042"))
    _, outcome = service.upsert(
        CALL,
        employee("E-3", registration_number="0042", employer_tax_id=OTHER_EMPLOYER),
    )
    assert outcome == "created"


def test_deleted_employee_frees_its_registration_number(
    service: EmployeeService,
) -> None:
    service.upsert(CALL, employee("E-1", registration_number="0042"))
    service.delete(CALL, key=("TOTVS-RM", "E-1"))
    _, outcome = service.upsert(CALL, employee("E-2", registration_number="0042"))
    assert outcome == "created"
    with pytest.raises(ConflictError, match="already belongs to employee"):
        service.upsert(CALL, employee("E-1", registration_number="0042"))


def test_termination_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="terminationReason: is required"):
        employee(termination_date=dt.date(2024, 1, 31))


# Bulk


def test_bulk_reports_each_item_and_keeps_the_good_ones(
    service: EmployeeService,
) -> None:
    def sent(external_id: str, **changes: Any) -> te.EmployeeInput:
        fields = {
            "sourceSystem": "TOTVS-RM",
            "externalId": external_id,
            "cpf": CPF,
            "registrationNumber": f"M-{external_id}",
            "employerTaxId": EMPLOYER,
            "name": "Maria",
            "admissionDate": dt.date(2020, 2, 3),
            **changes,
        }
        return te.EmployeeInput(**fields)

    items = [
        sent("B-0"),
        sent("B-1", cpf="123.456.789-00"),  # check digits
        sent("B-2"),
        sent("B-0"),  # repeats item 0
        sent("B-3", registrationNumber="M-B-2"),  # item 2's registration
    ]
    results = service.upsert_many(CALL, items, employee_data)
    assert [(r.outcome, r.fault_code) for r in results] == [
        ("created", None),
        ("refused", "Client.Validation"),
        ("created", None),
        ("refused", "Client.Validation"),
        ("refused", "Client.Conflict"),
    ]
    assert "cpf: CPF check digits" in (results[1].message or "")
    assert "repeats item 0" in (results[3].message or "")
    views, _ = service.query(CALL, EmployeeFilter(), None, 100)
    assert sorted(v.external_id for v in views) == ["B-0", "B-2"]


def test_bulk_of_ten_thousand_is_accepted(service: EmployeeService) -> None:
    items = [
        te.EmployeeInput(
            sourceSystem="TOTVS-RM",
            externalId=f"E-{i}",
            cpf=CPF,
            registrationNumber=f"{i:06d}",
            employerTaxId=EMPLOYER,
            name="Maria",
            admissionDate=dt.date(2020, 2, 3),
        )
        for i in range(10_000)
    ]
    results = service.upsert_many(CALL, items, employee_data)
    assert {r.outcome for r in results} == {"created"}


def test_bulk_over_the_limit_is_refused(service: EmployeeService) -> None:
    with pytest.raises(ValidationError, match="employees: holds 10001 items"):
        service.upsert_many(CALL, [None] * 10_001, employee_data)


# Get


def test_employee_is_read_by_id_by_key_and_by_cpf(service: EmployeeService) -> None:
    created, _ = service.upsert(CALL, employee())
    assert service.get(CALL, employee_id=created.id).external_id == "E-1"
    assert service.get(CALL, key=("TOTVS-RM", "E-1")).id == created.id
    assert service.get(CALL, cpf=CPF_DIGITS).id == created.id


def test_cpf_lookup_prefers_the_active_bond(service: EmployeeService) -> None:
    service.upsert(CALL, terminated("E-OLD"))
    current, _ = service.upsert(CALL, employee("E-NEW"))
    assert service.get(CALL, cpf=CPF_DIGITS).id == current.id


def test_cpf_of_two_active_bonds_is_ambiguous_and_stays_masked(
    service: EmployeeService,
) -> None:
    service.upsert(CALL, employee("E-1"))
    service.upsert(CALL, employee("E-2", employer_tax_id=OTHER_EMPLOYER))
    with pytest.raises(ConflictError, match=r"\*\*\*\.456\.789-\*\* matches 2") as e:
        service.get(CALL, cpf=CPF_DIGITS)
    assert CPF_DIGITS not in str(e.value)


def test_unknown_cpf_is_not_found_and_stays_masked(
    runtime: Runtime, service: EmployeeService
) -> None:
    with pytest.raises(NotFoundError, match=r"no employee with cpf \*\*\*") as e:
        service.get(CALL, cpf=CPF_DIGITS)
    assert CPF_DIGITS not in str(e.value)


def test_cpf_lookup_is_audited_masked(
    runtime: Runtime, service: EmployeeService
) -> None:
    service.upsert(CALL, employee())
    service.get(CALL, cpf=CPF_DIGITS)
    assert json.loads(audit_details(runtime)[-1]) == {"cpf": "***.456.789-**"}


def test_lookup_needs_id_key_or_cpf() -> None:
    assert employee_lookup(None, None, None, CPF) == (None, None, CPF_DIGITS)
    assert employee_lookup("abc", None, None, CPF) == ("abc", None, None)
    with pytest.raises(ValidationError, match="id: give id, sourceSystem"):
        employee_lookup(None, "TOTVS-RM", None, None)
    with pytest.raises(ValidationError, match="cpf: CPF check digits"):
        employee_lookup(None, None, None, "123.456.789-00")


# Delete


def test_delete_is_soft_audited_and_undone_by_an_upsert(
    runtime: Runtime, service: EmployeeService
) -> None:
    created, _ = service.upsert(CALL, employee())
    deleted = service.delete(CALL, employee_id=created.id)
    assert deleted.deleted_at is not None
    assert service.get(CALL, employee_id=created.id).deleted_at is not None
    with pytest.raises(NotFoundError, match="no employee with cpf"):
        service.get(CALL, cpf=CPF_DIGITS)
    assert json.loads(audit_details(runtime)[1]) == {"result": "deleted"}
    back, outcome = service.upsert(CALL, employee())
    assert (outcome, back.deleted_at) == ("updated", None)


def test_unknown_employee_cannot_be_deleted(service: EmployeeService) -> None:
    with pytest.raises(NotFoundError, match="id: no employee with id nope"):
        service.delete(CALL, employee_id="nope")


# Query


def test_query_pages_in_a_stable_order_until_the_end(
    service: EmployeeService, clock: Clock
) -> None:
    for i in range(7):
        service.upsert(CALL, employee(f"Q-{i}"))
        if i % 3 == 0:
            clock.advance()
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page, following = service.query(CALL, EmployeeFilter(), cursor, 3)
        seen += [v.external_id for v in page]
        if following is None:
            break
        cursor = decode_cursor(following)
    assert len(seen) == len(set(seen)) == 7


def test_query_filters_by_employer_activity_cpf_and_modification(
    service: EmployeeService, clock: Clock
) -> None:
    service.upsert(CALL, terminated("E-1"))
    since = clock.advance()
    service.upsert(CALL, employee("E-2"))
    service.upsert(CALL, employee("E-3", employer_tax_id=OTHER_EMPLOYER, cpf=OTHER_CPF))
    service.upsert(CALL, employee("E-4"))
    service.delete(CALL, key=("TOTVS-RM", "E-4"))

    def ids(**where: Any) -> list[str]:
        views, _ = service.query(CALL, EmployeeFilter(**where), None, 100)
        return sorted(v.external_id for v in views)

    assert ids(employer_tax_id="11222333000181") == ["E-1", "E-2"]
    assert ids(active_only=True) == ["E-2", "E-3"]
    assert ids(cpf="52998224725") == ["E-3"]
    assert ids(modified_since=since) == ["E-2", "E-3"]
    assert ids(modified_since=since, include_deleted=True) == ["E-2", "E-3", "E-4"]


def test_query_filter_checks_the_employer_cnpj() -> None:
    with pytest.raises(ValidationError, match=r"filter\.employerTaxId: CNPJ check"):
        employee_filter(te.EmployeeFilter(employerTaxId="11.222.333/0001-82"))
