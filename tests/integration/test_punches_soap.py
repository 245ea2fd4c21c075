"""Time-clock punches and AFD files through a live server, with zeep."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port
from tests.fakes.afd_files import (
    BRT,
    CPF,
    EMPLOYER_CNPJ,
    OTHER_CPF,
    FakePunch,
    build_afd_671,
)

TNS = "urn:ponte:legal:v1"
MORNING = dt.datetime(2026, 9, 24, 8, 0, tzinfo=BRT)

# These tests found two bugs, now fixed in adapter/inbound/app.py: spyne's own
# 2 MiB body limit (max_content_length) and libxml2's datatype faults quoting the
# refused value (up to 64 KB of an AFD file) into the fault and the audit entry.


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("punches"), free_port())
    inst.write_config("")
    try:
        for user, role in (
            ("hr", "hr_system"),
            ("aud", "auditor"),
            ("erp", "finance_erp"),
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


def members(wrapper: Any, member: str) -> list[Any]:
    """The members of an array (zeep keeps the wrapper)."""
    return list(wrapper[member] or []) if wrapper is not None else []


def afd_with_a_broken_line(first_hour: int) -> bytes:
    """Five punches; line 4 (NSR 3, type 3) has a changed minute, so its CRC fails."""
    punches = [
        FakePunch(
            MORNING + dt.timedelta(hours=first_hour + n), record_type=7 if n % 2 else 3
        )
        for n in range(5)
    ]
    lines = build_afd_671(punches).split(b"\r\n")
    lines[3] = lines[3][:24] + b"7" + lines[3][25:]
    return b"\r\n".join(lines)


def import_afd(hr: zeep.Client, data: bytes) -> Any:
    return hr.service.ImportAfdFile(
        afdFile={
            "fileName": "AFD00004.txt",
            "employerTaxId": "11.222.333/0001-81",
            "content": data,
        }
    )


def test_afd_import_reports_refusals_and_gives_back_the_exact_bytes(
    hr: zeep.Client,
) -> None:
    data = afd_with_a_broken_line(0)

    result = import_afd(hr, data)

    assert result.outcome == "created"
    imported = result.afdFile
    assert imported.sha256 == hashlib.sha256(data).hexdigest()
    assert (imported.layout, imported.acceptedCount, imported.refusedCount) == (
        "671",
        4,
        1,
    )
    (refused,) = members(imported.refusedLines, "line")
    assert (refused.lineNumber, refused.nsr) == (4, 3)
    assert refused.reason == "CRC-16 does not match"
    assert imported.content is None

    got = hr.service.GetAfdFile(id=imported.id, includeContent=True)
    assert got.content == data
    assert hashlib.sha256(got.content).hexdigest() == imported.sha256
    assert got.employerTaxId == EMPLOYER_CNPJ


def test_reimporting_the_same_bytes_is_unchanged(hr: zeep.Client) -> None:
    data = afd_with_a_broken_line(10)
    first = import_afd(hr, data).afdFile

    again = import_afd(hr, data)

    assert again.outcome == "unchanged" and again.afdFile.id == first.id
    page = hr.service.QueryTimePunches(filter={"afdFileId": first.id}, pageSize=100)
    assert len(members(page["items"], "punch")) == 4


def test_query_pages_the_file_punches_in_time_order(hr: zeep.Client) -> None:
    imported = import_afd(hr, afd_with_a_broken_line(20)).afdFile

    seen: list[Any] = []
    cursor = None
    for _ in range(5):
        page = hr.service.QueryTimePunches(
            filter={"afdFileId": imported.id}, pageSize=3, cursor=cursor
        )
        seen += members(page["items"], "punch")
        cursor = page.nextCursor
        if cursor is None:
            break

    assert [p.nsr for p in seen] == [1, 2, 4, 5]
    times = [p.punchedAt for p in seen]
    assert times == sorted(times) and times[0] == MORNING + dt.timedelta(hours=20)
    assert [p.recordType for p in seen] == [3, 7, 7, 3]
    assert {p.employeeCpf for p in seen} == {CPF} and seen[1].hash is not None


def test_afd_that_is_not_an_afd_is_refused_naming_content(hr: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault, match="content: an AFD starts") as caught:
        import_afd(hr, b"%PDF-1.7 not a time-clock file\n")
    assert "Client.Validation" in caught.value.code


def post_import(server: Installation, content: str) -> requests.Response:
    """An ImportAfdFile whose content is sent as written (zeep would encode it)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
        f' xmlns:p="{TNS}"><soap:Body><p:ImportAfdFile><p:afdFile>'
        "<p:fileName>x.txt</p:fileName><p:employerTaxId>11222333000181"
        f"</p:employerTaxId><p:content>{content}</p:content>"
        "</p:afdFile></p:ImportAfdFile></soap:Body></soap:Envelope>"
    )
    return requests.post(
        server.url,
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        auth=("hr", PASSWORD),
        timeout=30,
    )


def test_invalid_base64_gets_a_clear_fault(server: Installation) -> None:
    response = post_import(server, "MDAw!MDAw")

    assert response.status_code == 500
    assert "Client.Validation" in response.text
    assert "content: is not valid base64: character 5" in response.text


def test_bulk_punches_are_idempotent_and_a_changed_time_is_a_conflict(
    hr: zeep.Client,
) -> None:
    def item(external_id: str, when: dt.datetime) -> dict[str, Any]:
        return {
            "sourceSystem": "SENIOR",
            "externalId": external_id,
            "employeeCpf": "529.982.247-25",
            "punchedAt": when,
            "collector": "REP-7",
        }

    first = hr.service.UpsertTimePunches(
        punches={"punch": [item("S-1", MORNING), item("S-2", MORNING)]}
    )
    assert (first.accepted, first.refused) == (2, 0)

    again = hr.service.UpsertTimePunches(
        punches={
            "punch": [item("S-1", MORNING), item("S-2", MORNING + dt.timedelta(1))]
        }
    )
    unchanged, conflict = members(again["items"], "item")
    assert unchanged.outcome == "unchanged"
    assert (conflict.outcome, conflict.faultCode) == ("refused", "Client.Conflict")
    assert "punches are never edited; send a correction" in conflict.message
    stored = hr.service.GetTimePunch(sourceSystem="SENIOR", externalId="S-2")
    assert stored.punchedAt == MORNING and stored.origin == "api"


def test_deleting_a_punch_is_refused_as_a_conflict(hr: zeep.Client) -> None:
    hr.service.UpsertTimePunches(
        punches={
            "punch": [
                {
                    "sourceSystem": "SENIOR",
                    "externalId": "DEL-1",
                    "employeeCpf": OTHER_CPF,
                    "punchedAt": MORNING,
                }
            ]
        }
    )

    with pytest.raises(zeep.exceptions.Fault, match="never deleted") as caught:
        hr.service.DeleteTimePunch(sourceSystem="SENIOR", externalId="DEL-1")

    assert "Client.Conflict" in caught.value.code
    assert hr.service.GetTimePunch(sourceSystem="SENIOR", externalId="DEL-1")


def test_auditor_reads_but_may_not_import_and_finance_may_not_read(
    server: Installation, hr: zeep.Client
) -> None:
    imported = import_afd(hr, afd_with_a_broken_line(30)).afdFile
    auditor, finance = client(server, "aud"), client(server, "erp")

    assert auditor.service.GetAfdFile(sha256=imported.sha256).id == imported.id
    with pytest.raises(zeep.exceptions.Fault, match="may not call ImportAfdFile"):
        import_afd(auditor, b"anything")
    with pytest.raises(zeep.exceptions.Fault, match="may not call QueryTimePunches"):
        finance.service.QueryTimePunches(filter={"employeeCpf": CPF})


def test_audit_entries_hold_no_cpf(server: Installation, hr: zeep.Client) -> None:
    import_afd(hr, afd_with_a_broken_line(40))

    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        details = " ".join(
            d for (d,) in db.execute("SELECT detail FROM audit_entries") if d
        )

    assert "sha256" in details
    for secret in (
        CPF,
        "529.982.247-25",
        OTHER_CPF,
        base64.b64encode(CPF.encode()).decode(),
    ):
        assert secret not in details


def api_punch(external_id: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "sourceSystem": "BULK",
        "externalId": external_id,
        "employeeCpf": CPF,
        "punchedAt": when,
        "collector": "REP-7",
    }


def test_a_bulk_of_10000_punches_fits_in_one_call(hr: zeep.Client) -> None:
    items = [
        api_punch(f"B-{i:05d}", MORNING + dt.timedelta(minutes=i))
        for i in range(10_000)
    ]  # 2.45 MB as zeep writes it

    result = hr.service.UpsertTimePunches(punches={"punch": items})

    assert (result.accepted, result.refused) == (10_000, 0)


def test_an_afd_of_5_mb_fits_in_one_call(hr: zeep.Client) -> None:
    punches = [
        FakePunch(MORNING + dt.timedelta(minutes=5 * i), record_type=7)
        for i in range(36_000)
    ]
    data = build_afd_671(punches)  # 5.0 MB, 6.7 MB as base64

    result = import_afd(hr, data)

    assert result.afdFile.acceptedCount == 36_000


def test_truncated_base64_is_refused_without_echoing_the_file(
    server: Installation,
) -> None:
    encoded = base64.b64encode(afd_with_a_broken_line(50)).decode()

    response = post_import(server, encoded[:-1])  # one character short

    assert response.status_code == 500 and "content" in response.text
    with sqlite3.connect(server.root / "data" / "ponte.db") as db:
        details = " ".join(
            d for (d,) in db.execute("SELECT detail FROM audit_entries") if d
        )
    assert encoded[:120] not in response.text
    assert encoded[:120] not in details
