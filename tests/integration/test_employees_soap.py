"""Employees through a live server with zeep: HR upserts, CPF lookups, roles."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import zeep
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

CPF = "123.456.789-09"
CPF_DIGITS = "12345678909"
EMPLOYER = "11.222.333/0001-81"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("employees"), free_port())
    inst.write_config("")
    try:
        for user, role in (
            ("hr", "hr_system"),
            ("erp", "finance_erp"),
            ("aud", "auditor"),
        ):
            inst.ponte("users", "add", user, "--role", role, "--password", PASSWORD)
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


def client(server: Installation, user: str) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken(user, PASSWORD))


@pytest.fixture(scope="module")
def hr(server: Installation) -> zeep.Client:
    return client(server, "hr")


def members(page: Any, member: str) -> list[Any]:
    wrapper = page["items"]
    return list(wrapper[member] or []) if wrapper is not None else []


def employee(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "TOTVS-RM",
        "externalId": external_id,
        "cpf": CPF,
        "registrationNumber": f"M-{external_id}",
        "employerTaxId": EMPLOYER,
        "name": "Maria da Silva",
        "admissionDate": dt.date(2020, 2, 3),
        **changes,
    }


def test_upsert_normalizes_cpf_and_cnpj(hr: zeep.Client) -> None:
    result = hr.service.UpsertEmployee(employee=employee("E-1"))
    assert result.outcome == "created"
    assert (result.employee.cpf, result.employee.employerTaxId) == (
        CPF_DIGITS,
        "11222333000181",
    )
    again = hr.service.UpsertEmployee(employee=employee("E-1"))
    assert again.outcome == "unchanged" and again.employee.id == result.employee.id


def test_employee_is_read_by_id_key_and_cpf(hr: zeep.Client) -> None:
    created = hr.service.UpsertEmployee(
        employee=employee("E-2", cpf="529.982.247-25")
    ).employee
    assert hr.service.GetEmployee(id=created.id).externalId == "E-2"
    by_key = hr.service.GetEmployee(sourceSystem="TOTVS-RM", externalId="E-2")
    assert by_key.id == created.id
    assert hr.service.GetEmployee(cpf="529.982.247-25").id == created.id


def test_termination_without_reason_is_refused(hr: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault, match="terminationReason: is required"):
        hr.service.UpsertEmployee(
            employee=employee("E-3", terminationDate=dt.date(2024, 1, 31))
        )


def test_taken_registration_number_is_a_conflict(hr: zeep.Client) -> None:
    hr.service.UpsertEmployee(employee=employee("E-4", registrationNumber="0042"))
    with pytest.raises(zeep.exceptions.Fault, match="already belongs") as fault:
        hr.service.UpsertEmployee(employee=employee("E-5", registrationNumber="0042"))
    assert "Client.Conflict" in fault.value.code


def test_bulk_reports_each_item_and_keeps_the_good_ones(
    server: Installation, hr: zeep.Client
) -> None:
    items = [employee(f"B-{i}") for i in range(4)]
    items[1] = employee("B-1", cpf="123.456.789-00")
    items.append(employee("B-0"))
    result = hr.service.UpsertEmployees(employees={"employee": items})
    listed = members(result, "item")
    assert [i.outcome for i in listed] == [
        "created",
        "refused",
        "created",
        "created",
        "refused",
    ]
    assert "cpf: CPF check digits" in listed[1].message
    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        stored = db.execute(
            "SELECT count(*) FROM employees WHERE external_id LIKE 'B-%'"
        ).fetchone()
    assert stored[0] == 3


def test_query_pages_by_employer_until_the_end(hr: zeep.Client) -> None:
    since = dt.datetime.now(dt.UTC)
    other = "12.ABC.345/01DE-35"
    items = [employee(f"Q-{i}", employerTaxId=other) for i in range(5)]
    items.append(
        employee(
            "Q-gone",
            employerTaxId=other,
            terminationDate=dt.date(2024, 1, 31),
            terminationReason="02",
        )
    )
    hr.service.UpsertEmployees(employees={"employee": items})
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = hr.service.QueryEmployees(
            filter={"employerTaxId": other, "activeOnly": True, "modifiedSince": since},
            pageSize=2,
            cursor=cursor,
        )
        seen += [e.externalId for e in members(page, "employee")]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert sorted(seen) == [f"Q-{i}" for i in range(5)] and len(seen) == 5


def test_deleted_employee_stays_readable(hr: zeep.Client) -> None:
    hr.service.UpsertEmployee(employee=employee("D-1"))
    deleted = hr.service.DeleteEmployee(sourceSystem="TOTVS-RM", externalId="D-1")
    assert deleted.deletedAt is not None
    assert hr.service.GetEmployee(id=deleted.id).deletedAt is not None


def test_finance_may_not_read_employees_and_auditor_may(server: Installation) -> None:
    erp, auditor = client(server, "erp"), client(server, "aud")
    with pytest.raises(zeep.exceptions.Fault, match="may not call GetEmployee"):
        erp.service.GetEmployee(sourceSystem="TOTVS-RM", externalId="E-1")
    with pytest.raises(zeep.exceptions.Fault, match="may not call UpsertEmployee"):
        auditor.service.UpsertEmployee(employee=employee("A-1"))
    got = auditor.service.GetEmployee(sourceSystem="TOTVS-RM", externalId="E-1")
    assert got.externalId == "E-1"


def test_cpf_never_reaches_the_log_or_the_audit_in_full(
    server: Installation, hr: zeep.Client
) -> None:
    for external_id in ("L-1", "L-2"):
        hr.service.UpsertEmployee(employee=employee(external_id))
    with pytest.raises(
        zeep.exceptions.Fault, match=r"cpf \*\*\*\.456\.789-\*\* matches"
    ):
        hr.service.GetEmployee(cpf=CPF)  # two active bonds: ambiguous
    assert CPF_DIGITS not in server.logs()
    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        details = [
            row[0] or "" for row in db.execute("SELECT detail FROM audit_entries")
        ]
    assert not any(CPF_DIGITS in d or "52998224725" in d for d in details)
