"""Provisions through a live server with zeep: history, movements, roles."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zeep
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

MAY, JUNE, JULY = dt.date(2026, 5, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 31)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("provisions"), free_port())
    inst.write_config("")
    try:
        for user, role in (
            ("erp", "finance_erp"),
            ("hr", "hr_system"),
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
def erp(server: Installation) -> zeep.Client:
    return client(server, "erp")


def members(wrapper: Any, member: str) -> list[Any]:
    """The members of an array (zeep keeps the array wrapper)."""
    return list(wrapper[member] or []) if wrapper is not None else []


def add_lawsuit(erp: zeep.Client, external_id: str) -> str:
    result = erp.service.UpsertLawsuit(
        lawsuit={
            "sourceSystem": "SAP",
            "externalId": external_id,
            "kind": "judicial",
            "cnjNumber": "0058967-77.2016.8.19.0000",
            "area": "labor",
            "companyRole": "defendant",
            "claimValue": "25000.00",
            "risk": "probable",
            "status": "active",
            "filingDate": dt.date(2016, 5, 10),
        }
    )
    return str(result.lawsuit.id)


def provision(
    external_id: str, date: dt.date, classification: str, amount: str, **lawsuit: Any
) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        **lawsuit,
        "reportingDate": date,
        "classification": classification,
        "amount": amount,
    }


def moves(result: Any) -> list[tuple[str, Decimal]]:
    return [(m.kind, m.amount) for m in members(result.movements, "movement")]


def test_upsert_returns_the_movements_of_each_reporting_date(erp: zeep.Client) -> None:
    lawsuit = add_lawsuit(erp, "L-1")
    first = erp.service.UpsertProvision(
        provision=provision("PV-5", MAY, "probable", "1000.00", lawsuitId=lawsuit)
    )
    assert first.outcome == "created"
    assert first.provision.lawsuitId == lawsuit
    assert moves(first) == [("constitution", Decimal("1000.00"))]
    (constitution,) = members(first.movements, "movement")
    assert (constitution.debit, constitution.credit) == (
        "provision_expense",
        "provision",
    )

    by_key = {"lawsuitSourceSystem": "SAP", "lawsuitExternalId": "L-1"}
    second = erp.service.UpsertProvision(
        provision=provision("PV-6", JUNE, "possible", "700.00", **by_key)
    )
    assert moves(second) == [
        ("reversal", Decimal("1000.00")),
        ("disclosure", Decimal("700.00")),
    ]
    again = erp.service.UpsertProvision(
        provision=provision("PV-6", JUNE, "possible", "700.00", **by_key)
    )
    assert again.outcome == "unchanged" and again.movements is None


def test_history_lists_the_dates_in_order_with_their_movements(
    erp: zeep.Client,
) -> None:
    lawsuit = add_lawsuit(erp, "L-H")
    for external_id, date, cls, amount in (
        ("H-6", JUNE, "probable", "150.00"),
        ("H-7", JULY, "remote", "0"),
    ):
        erp.service.UpsertProvision(
            provision=provision(external_id, date, cls, amount, lawsuitId=lawsuit)
        )
    history = erp.service.GetProvisionHistory(
        lawsuitSourceSystem="SAP", lawsuitExternalId="L-H"
    )
    assert history.lawsuitId == lawsuit
    entries = members(history.entries, "entry")
    assert [(e.reportingDate, e.classification) for e in entries] == [
        (JUNE, "probable"),
        (JULY, "remote"),
    ]
    assert [moves(e) for e in entries] == [
        [("constitution", Decimal("150.00"))],
        [("reversal", Decimal("150.00"))],
    ]


def test_earlier_reporting_date_is_a_conflict(erp: zeep.Client) -> None:
    lawsuit = add_lawsuit(erp, "L-C")
    erp.service.UpsertProvision(
        provision=provision("C-6", JUNE, "probable", "1.00", lawsuitId=lawsuit)
    )
    with pytest.raises(zeep.exceptions.Fault, match="is before the latest") as fault:
        erp.service.UpsertProvision(
            provision=provision("C-5", MAY, "probable", "1.00", lawsuitId=lawsuit)
        )
    assert "Client.Conflict" in fault.value.code


def test_bad_input_names_the_field(erp: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault, match="classification: must be one"):
        erp.service.UpsertProvision(
            provision=provision("X-1", MAY, "likely", "1.00", lawsuitId="x")
        )
    with pytest.raises(zeep.exceptions.Fault, match="lawsuitId: give lawsuitId"):
        erp.service.UpsertProvision(provision=provision("X-1", MAY, "remote", "0"))


def test_only_the_latest_provision_may_be_deleted(erp: zeep.Client) -> None:
    lawsuit = add_lawsuit(erp, "L-D")
    for external_id, date in (("D-5", MAY), ("D-6", JUNE)):
        erp.service.UpsertProvision(
            provision=provision(
                external_id, date, "probable", "100.00", lawsuitId=lawsuit
            )
        )
    with pytest.raises(zeep.exceptions.Fault, match="not the latest") as fault:
        erp.service.DeleteProvision(sourceSystem="SAP", externalId="D-5")
    assert "Client.Conflict" in fault.value.code
    deleted = erp.service.DeleteProvision(sourceSystem="SAP", externalId="D-6")
    assert deleted.outcome == "deleted" and deleted.provision.deletedAt is not None
    assert moves(deleted) == []  # June only repeated May's figure
    got = erp.service.GetProvision(id=deleted.provision.id)
    assert got.deletedAt is not None


def test_bulk_reports_each_item_and_keeps_the_good_ones(
    server: Installation, erp: zeep.Client
) -> None:
    lawsuit = add_lawsuit(erp, "L-B")
    items = [
        provision("B-7", JULY, "probable", "300.00", lawsuitId=lawsuit),
        provision("B-5", MAY, "probable", "100.00", lawsuitId=lawsuit),
        provision("B-6", JUNE, "remote", "-1", lawsuitId=lawsuit),
        provision("B-X", MAY, "probable", "1.00", lawsuitId="nope"),
    ]
    result = erp.service.UpsertProvisions(provisions={"provision": items})
    listed = members(result.items, "item")
    assert [(i.outcome, i.faultCode) for i in listed] == [
        ("created", None),
        ("created", None),
        ("refused", "Client.Validation"),
        ("refused", "Client.NotFound"),
    ]
    assert (result.accepted, result.refused) == (2, 2)
    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        stored = db.execute(
            "SELECT kind, amount FROM provision_movements WHERE lawsuit_id = ? "
            "ORDER BY id",
            (lawsuit,),
        ).fetchall()
    assert stored == [("constitution", 100), ("increase", 200)]


def test_query_pages_through_a_filtered_set_until_the_end(erp: zeep.Client) -> None:
    since = dt.datetime.now(dt.UTC)
    lawsuit = add_lawsuit(erp, "L-Q")
    items = [
        provision(
            f"Q-{m:02d}", dt.date(2025, m, 1), "possible", "5.00", lawsuitId=lawsuit
        )
        for m in range(1, 8)
    ]
    erp.service.UpsertProvisions(provisions={"provision": items})
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = erp.service.QueryProvisions(
            filter={"lawsuitId": lawsuit, "modifiedSince": since},
            pageSize=3,
            cursor=cursor,
        )
        seen += [p.externalId for p in members(page.items, "provision")]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert sorted(seen) == [f"Q-{m:02d}" for m in range(1, 8)] and len(seen) == 7
    ranged = erp.service.QueryProvisions(
        filter={
            "lawsuitId": lawsuit,
            "reportedFrom": dt.date(2025, 3, 1),
            "reportedTo": dt.date(2025, 4, 1),
        },
        pageSize=50,
    )
    assert [p.externalId for p in members(ranged.items, "provision")] == [
        "Q-03",
        "Q-04",
    ]


def test_roles_decide_who_may_write_and_read(
    server: Installation, erp: zeep.Client
) -> None:
    lawsuit = add_lawsuit(erp, "L-R")
    hr, auditor = client(server, "hr"), client(server, "aud")
    with pytest.raises(zeep.exceptions.Fault, match="may not call UpsertProvision"):
        hr.service.UpsertProvision(
            provision=provision("R-1", MAY, "remote", "0", lawsuitId=lawsuit)
        )
    with pytest.raises(zeep.exceptions.Fault, match="may not call DeleteProvision"):
        auditor.service.DeleteProvision(sourceSystem="SAP", externalId="R-1")
    history = auditor.service.GetProvisionHistory(lawsuitId=lawsuit)
    assert history.entries is None
    page = auditor.service.QueryProvisions(filter={"lawsuitId": lawsuit}, pageSize=5)
    assert page.items is None or members(page.items, "provision") == []
