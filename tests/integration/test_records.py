"""Parties and lawsuits through a live server: upsert, bulk, get, delete, query."""

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("records"), free_port())
    inst.write_config("")
    try:
        inst.ponte(
            "users", "add", "erp", "--role", "finance_erp", "--password", PASSWORD
        )
        inst.ponte("users", "add", "hr", "--role", "hr_system", "--password", PASSWORD)
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


@pytest.fixture(scope="module")
def erp(server: Installation) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken("erp", PASSWORD))


def members(page: Any, member: str) -> list[Any]:
    """The records of a page (zeep keeps the array wrapper)."""
    wrapper = page["items"]
    return list(wrapper[member] or []) if wrapper is not None else []


def lawsuit(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "kind": "judicial",
        "cnjNumber": "0058967-77.2016.8.19.0000",
        "area": "labor",
        "companyRole": "defendant",
        "claimValue": "25000.00",
        "risk": "possible",
        "status": "active",
        "filingDate": dt.date(2016, 5, 10),
        **changes,
    }


def party(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "kind": "individual",
        "taxId": CPF,
        "name": "Maria da Silva",
        **changes,
    }


def test_lawsuit_upsert_parses_the_cnj_number(erp: zeep.Client) -> None:
    result = erp.service.UpsertLawsuit(lawsuit=lawsuit("L-1"))
    assert result.outcome == "created"
    got = result.lawsuit
    assert got.cnjNumber == "00589677720168190000"
    assert (got.segment, got.court, got.origin, got.year) == (8, "19", "0000", 2016)
    again = erp.service.UpsertLawsuit(lawsuit=lawsuit("L-1"))
    assert again.outcome == "unchanged" and again.lawsuit.id == got.id
    changed = erp.service.UpsertLawsuit(lawsuit=lawsuit("L-1", risk="probable"))
    assert changed.outcome == "updated" and changed.lawsuit.risk == "probable"


def test_lawsuit_is_read_by_id_and_by_erp_key(erp: zeep.Client) -> None:
    created = erp.service.UpsertLawsuit(lawsuit=lawsuit("L-2")).lawsuit
    assert erp.service.GetLawsuit(id=created.id).externalId == "L-2"
    by_key = erp.service.GetLawsuit(sourceSystem="SAP", externalId="L-2")
    assert by_key.id == created.id
    with pytest.raises(zeep.exceptions.Fault, match="no lawsuit with"):
        erp.service.GetLawsuit(id="does-not-exist")


def test_closing_a_lawsuit_needs_date_and_reason(erp: zeep.Client) -> None:
    erp.service.UpsertLawsuit(lawsuit=lawsuit("L-3"))
    with pytest.raises(zeep.exceptions.Fault, match="closureDate: is required"):
        erp.service.UpsertLawsuit(lawsuit=lawsuit("L-3", status="closed"))
    closed = erp.service.UpsertLawsuit(
        lawsuit=lawsuit(
            "L-3",
            status="closed",
            closureDate=dt.date(2024, 3, 1),
            closureReason="acordo",
        )
    )
    assert closed.lawsuit.status == "closed"


def test_bulk_upsert_reports_each_item_and_keeps_the_good_ones(
    server: Installation, erp: zeep.Client
) -> None:
    items = [lawsuit(f"B-{i}") for i in range(5)]
    items[2] = lawsuit("B-2", cnjNumber="0058967-78.2016.8.19.0000")
    items.append(lawsuit("B-0"))  # the same key twice in one call
    result = erp.service.UpsertLawsuits(lawsuits={"lawsuit": items})
    outcomes = [i.outcome for i in members(result, "item")]
    assert outcomes == [
        "created",
        "created",
        "refused",
        "created",
        "created",
        "refused",
    ]
    assert (result.accepted, result.refused) == (4, 2)
    listed = members(result, "item")
    assert "cnjNumber" in listed[2].message
    assert listed[2].faultCode == "Client.Validation"
    assert "repeats item 0" in listed[5].message
    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        stored = db.execute(
            "SELECT count(*) FROM lawsuits WHERE external_id LIKE 'B-%'"
        )
        assert stored.fetchone()[0] == 4


def test_query_pages_in_a_stable_order_until_the_end(erp: zeep.Client) -> None:
    since = dt.datetime.now(dt.UTC)
    erp.service.UpsertLawsuits(
        lawsuits={"lawsuit": [lawsuit(f"Q-{i:02d}", area="tax") for i in range(7)]}
    )
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = erp.service.QueryLawsuits(
            filter={"area": "tax", "modifiedSince": since}, pageSize=3, cursor=cursor
        )
        seen += [item.externalId for item in members(page, "lawsuit")]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7  # every record once, none twice
    assert sorted(seen) == [f"Q-{i:02d}" for i in range(7)]
    with pytest.raises(zeep.exceptions.Fault, match="cursor: is not a cursor"):
        erp.service.QueryLawsuits(pageSize=3, cursor="garbage")


def test_page_size_over_the_limit_is_refused(erp: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault, match=r"pageSize|1000"):
        erp.service.QueryLawsuits(pageSize=1001)


def test_deleted_lawsuit_leaves_the_query_but_stays_readable(erp: zeep.Client) -> None:
    created = erp.service.UpsertLawsuit(lawsuit=lawsuit("D-1", area="regulatory"))
    deleted = erp.service.DeleteLawsuit(id=created.lawsuit.id)
    assert deleted.deletedAt is not None
    page = erp.service.QueryLawsuits(filter={"area": "regulatory"}, pageSize=10)
    assert "D-1" not in [i.externalId for i in members(page, "lawsuit")]
    again = erp.service.QueryLawsuits(
        filter={"area": "regulatory", "includeDeleted": True}, pageSize=10
    )
    assert "D-1" in [i.externalId for i in members(again, "lawsuit")]
    revived = erp.service.UpsertLawsuit(lawsuit=lawsuit("D-1", area="regulatory"))
    assert revived.outcome == "updated" and revived.lawsuit.deletedAt is None


def test_party_with_bank_accounts_round_trips(erp: zeep.Client) -> None:
    account = {
        "bankCode": "001",
        "agency": "1234-5",
        "account": "98765-4",
        "accountType": "checking",
        "holderTaxId": CPF,
    }
    result = erp.service.UpsertParty(
        party=party("P-1", bankAccounts={"bankAccount": [account]})
    )
    accounts = result.party.bankAccounts.bankAccount
    assert [(a.bankCode, a.agency, a.account) for a in accounts] == [
        ("001", "1234-5", "98765-4")
    ]
    same = erp.service.UpsertParty(
        party=party("P-1", bankAccounts={"bankAccount": [account]})
    )
    assert same.outcome == "unchanged"
    with pytest.raises(zeep.exceptions.Fault, match=r"bankAccounts\[0\]\.bankCode"):
        erp.service.UpsertParty(
            party=party(
                "P-1", bankAccounts={"bankAccount": [{**account, "bankCode": "1"}]}
            )
        )


def test_party_paid_by_an_approved_order_cannot_be_deleted(erp: zeep.Client) -> None:
    erp.service.UpsertParty(
        party=party("P-2", taxId="11.222.333/0001-81", kind="company")
    )
    order = erp.service.CreatePaymentOrder(
        paymentOrder={
            "sourceSystem": "SAP",
            "externalId": "PO-DEL",
            "lawsuitNumber": "0058967-77.2016.8.19.0000",
            "type": "court_costs",
            "beneficiaryTaxId": "11222333000181",
            "amount": "10.00",
            "dueDate": dt.date(2026, 12, 31),
            "costCenter": "CC",
            "description": "Custas",
        }
    ).paymentOrder
    erp.service.ApprovePaymentOrder(id=order.id)
    with pytest.raises(zeep.exceptions.Fault, match="cannot be deleted") as refused:
        erp.service.DeleteParty(sourceSystem="SAP", externalId="P-2")
    assert "Client.Conflict" in refused.value.code


def test_party_bulk_and_query_by_tax_id(erp: zeep.Client) -> None:
    items = [
        party(f"PB-{i}", kind="foreign", taxId=None, name=f"Foreign {i}")
        for i in range(3)
    ]
    result = erp.service.UpsertParties(parties={"party": items})
    assert result.accepted == 3
    page = erp.service.QueryParties(filter={"taxId": CPF}, pageSize=50)
    assert "P-1" in {p.externalId for p in members(page, "party")}


def test_hr_system_may_not_touch_lawsuits(server: Installation) -> None:
    hr = zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken("hr", PASSWORD))
    with pytest.raises(zeep.exceptions.Fault, match="may not call UpsertLawsuit"):
        hr.service.UpsertLawsuit(lawsuit=lawsuit("HR-1"))
