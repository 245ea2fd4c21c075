"""Contracts through a live server with zeep: each operation, and its refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zeep
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

COMPANY = "11.222.333/0001-81"
SUPPLIER = "12.ABC.345/01DE-35"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("contracts"), free_port())
    inst.write_config("")
    try:
        for user, role in (("erp", "finance_erp"), ("audit", "auditor")):
            inst.ponte("users", "add", user, "--role", role, "--password", PASSWORD)
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


def client(server: Installation, user: str) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken(user, PASSWORD))


@pytest.fixture(scope="module")
def erp(server: Installation) -> zeep.Client:
    return client(server, "erp")


def members(wrapper: Any, member: str) -> list[Any]:
    """The members of an array (zeep keeps the array wrapper)."""
    return list(wrapper[member] or []) if wrapper is not None else []


def fault_code(fault: zeep.exceptions.Fault) -> str:
    """The fault code without the envelope prefix zeep keeps."""
    return str(fault.code).rsplit(":", 1)[-1]


def contract(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "number": f"CT-{external_id}",
        "type": "serviço",
        "object": "Manutenção predial",
        "parties": {
            "party": [
                {"role": "company", "taxId": COMPANY},
                {"role": "counterparty", "taxId": SUPPLIER},
            ]
        },
        "value": "120000.00",
        "startDate": dt.date(2026, 1, 1),
        "endDate": dt.date(2026, 12, 31),
        "autoRenewal": True,
        "renewalMonths": 12,
        "noticeDays": 30,
        "status": "active",
        **changes,
    }


def test_upsert_creates_then_reports_unchanged(erp: zeep.Client) -> None:
    result = erp.service.UpsertContract(contract=contract("U-1"))
    assert result.outcome == "created"
    got = result.contract
    assert (got.version, got.currency, got.noticeDeadline) == (
        0,
        "BRL",
        dt.date(2026, 12, 1),
    )
    assert [p.taxId for p in members(got.parties, "party")] == [
        "11222333000181",
        "12ABC34501DE35",
    ]
    again = erp.service.UpsertContract(contract=contract("U-1"))
    assert again.outcome == "unchanged" and again.contract.id == got.id


def test_bulk_upsert_reports_each_item(erp: zeep.Client) -> None:
    items = [contract("B-0"), contract("B-1", status="closed"), contract("B-2")]
    result = erp.service.UpsertContracts(contracts={"contract": items})
    listed = members(result["items"], "item")
    assert [i.outcome for i in listed] == ["created", "refused", "created"]
    assert listed[1].faultCode == "Client.Validation"
    assert "status: must be one of" in listed[1].message


def test_amendment_gives_a_new_version_listed_by_get(erp: zeep.Client) -> None:
    created = erp.service.UpsertContract(contract=contract("A-1")).contract
    result = erp.service.AmendContract(
        id=created.id,
        amendment={
            "number": 1,
            "type": "renewal",
            "effectiveDate": dt.date(2026, 12, 31),
            "newEndDate": dt.date(2027, 12, 31),
            "signedAt": dt.date(2026, 11, 20),
        },
    )
    assert result.outcome == "amended"
    assert (result.contract.version, result.contract.endDate) == (
        1,
        dt.date(2027, 12, 31),
    )
    got = erp.service.GetContract(sourceSystem="SAP", externalId="A-1")
    [renewal] = members(got.amendments, "amendment")
    assert (renewal.number, renewal.type, renewal.effectiveDate) == (
        1,
        "renewal",
        dt.date(2026, 12, 31),
    )
    assert (renewal.oldEndDate, renewal.newEndDate) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 12, 31),
    )
    assert got.version == 1 and got.value == Decimal("120000.00")


def test_direct_change_of_value_is_a_conflict_naming_amend_contract(
    erp: zeep.Client,
) -> None:
    erp.service.UpsertContract(contract=contract("X-1"))
    with pytest.raises(zeep.exceptions.Fault, match="use AmendContract") as refused:
        erp.service.UpsertContract(contract=contract("X-1", value="130000.00"))
    assert fault_code(refused.value) == "Client.Conflict"


def test_contract_in_force_cannot_be_deleted_but_an_ended_one_can(
    erp: zeep.Client,
) -> None:
    active = erp.service.UpsertContract(contract=contract("D-1")).contract
    with pytest.raises(zeep.exceptions.Fault, match="in force") as refused:
        erp.service.DeleteContract(id=active.id)
    assert fault_code(refused.value) == "Client.Conflict"
    erp.service.UpsertContract(contract=contract("D-1", status="ended"))
    deleted = erp.service.DeleteContract(sourceSystem="SAP", externalId="D-1")
    assert deleted.deletedAt is not None


def test_query_filters_by_counterparty_and_pages(erp: zeep.Client) -> None:
    since = dt.datetime.now(dt.UTC)
    other = {"party": [{"role": "counterparty", "taxId": "123.456.789-09"}]}
    for i in range(3):
        erp.service.UpsertContract(contract=contract(f"Q-{i}", parties=other))
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = erp.service.QueryContracts(
            filter={"counterpartyTaxId": "12345678909", "modifiedSince": since},
            pageSize=2,
            cursor=cursor,
        )
        seen += [c.externalId for c in members(page["items"], "contract")]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert sorted(seen) == ["Q-0", "Q-1", "Q-2"]


def test_auditor_reads_contracts_but_may_not_amend(
    server: Installation, erp: zeep.Client
) -> None:
    created = erp.service.UpsertContract(contract=contract("R-1")).contract
    auditor = client(server, "audit")
    assert auditor.service.GetContract(id=created.id).externalId == "R-1"
    with pytest.raises(zeep.exceptions.Fault, match="may not call AmendContract"):
        auditor.service.AmendContract(
            id=created.id,
            amendment={"number": 1, "type": "value", "effectiveDate": dt.date.today()},
        )
