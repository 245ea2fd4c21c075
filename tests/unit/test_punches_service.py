"""Time-clock punches on a real database: AFD import, bulk upsert, paging by time."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from adapter.app.context import CallContext
from adapter.app.punches import PunchFilter, PunchView
from adapter.credentials.roles import authorize
from adapter.domain.punches import (
    NEVER_EDITED,
    check_local_zone,
    normalize_pis,
    validate_afd_upload,
    validate_punch,
)
from adapter.errors import (
    AuthorizationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from adapter.inbound import types_punches as tp
from adapter.inbound.mapping_punches import decode_base64, punch_data, punch_filter
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry
from adapter.storage.models_punches import AfdFile, TimePunch
from adapter.storage.paging import decode_cursor
from tests.fakes.afd_files import (
    BRT,
    CPF,
    EMPLOYER_CNPJ,
    OTHER_CPF,
    FakePunch,
    build_afd_671,
    build_afd_1510,
    pis_with_check,
)

CALL = CallContext(actor="hr", channel="soap", operation="test")
MORNING = dt.datetime(2026, 9, 24, 8, 0, tzinfo=BRT)
PIS = pis_with_check("1204567890")
OTHER_CNPJ = "11444777000161"


def hours(n: float) -> dt.datetime:
    return MORNING + dt.timedelta(hours=n)


def afd_671(count: int = 4) -> bytes:
    """Lines 2 to count+1: type-3 and type-7 punches alternating, an hour apart."""
    return build_afd_671(
        FakePunch(hours(n), record_type=7 if n % 2 else 3) for n in range(count)
    )


def upload(content: bytes, employer: str = EMPLOYER_CNPJ, zone: str | None = None):  # type: ignore[no-untyped-def]
    return validate_afd_upload(
        file_name="AFD-2026-09.txt",
        employer_tax_id=employer,
        content=content,
        local_zone=zone,
    )


def broken_crc(data: bytes, line_number: int) -> bytes:
    """``data`` with the minute digit of a type-3 line changed (its CRC fails)."""
    lines = data.split(b"\r\n")
    line = lines[line_number - 1]
    lines[line_number - 1] = (
        line[:24] + (b"9" if line[24:25] != b"9" else b"8") + line[25:]
    )
    return b"\r\n".join(lines)


def punch(external_id: str, when: dt.datetime, cpf: str = CPF) -> tp.TimePunchInput:
    return tp.TimePunchInput(
        sourceSystem="SENIOR",
        externalId=external_id,
        employeeCpf=cpf,
        punchedAt=when,
        collector="REP-0001",
    )


def count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audit_details(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return [d or "" for d in session.scalars(select(AuditEntry.detail))]


# AFD import


def test_afd_import_keeps_the_file_byte_exact_with_its_sha256(runtime: Runtime) -> None:
    data = afd_671()

    imported, outcome = runtime.punches.import_afd(CALL, upload(data))
    got = runtime.punches.get_afd(CALL, file_id=imported.id, include_content=True)

    assert outcome == "created"
    assert imported.sha256 == got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.content == data
    assert (got.size, got.layout, got.layout_version) == (len(data), "671", "004")
    assert (got.accepted_count, got.refused_count) == (4, 0)
    assert got.imported_by == "hr" and got.employer_tax_id == EMPLOYER_CNPJ


def test_afd_metadata_is_read_without_the_bytes_unless_asked(runtime: Runtime) -> None:
    imported, _ = runtime.punches.import_afd(CALL, upload(afd_671()))

    assert runtime.punches.get_afd(CALL, file_id=imported.id).content is None
    by_hash = runtime.punches.get_afd(CALL, sha256=imported.sha256.upper())
    assert by_hash.id == imported.id


def test_unknown_afd_file_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError, match="id: no AFD file with id nope exists"):
        runtime.punches.get_afd(CALL, file_id="nope")


def test_afd_line_with_a_broken_crc_is_reported_and_the_others_kept(
    runtime: Runtime,
) -> None:
    data = broken_crc(afd_671(), line_number=4)  # the third punch, type 3, NSR 3

    imported, _ = runtime.punches.import_afd(CALL, upload(data))
    stored = runtime.punches.get_afd(CALL, file_id=imported.id)

    assert (stored.accepted_count, stored.refused_count) == (3, 1)
    refused = stored.refused_lines[0]
    assert (refused.line_number, refused.nsr) == (4, 3)
    assert refused.reason == "CRC-16 does not match"
    rows, _ = runtime.punches.query(
        CALL, PunchFilter(afd_file_id=imported.id), None, 10
    )
    assert [r.nsr for r in rows] == [1, 2, 4]


def test_afd_punches_keep_their_record_fields(runtime: Runtime) -> None:
    imported, _ = runtime.punches.import_afd(CALL, upload(afd_671(2)))

    rows, _ = runtime.punches.query(
        CALL, PunchFilter(afd_file_id=imported.id), None, 10
    )

    rep_c, rep_p = rows
    assert (rep_c.origin, rep_c.record_type, rep_c.employee_cpf) == ("afd", 3, CPF)
    assert rep_c.punched_at == MORNING and rep_c.punched_at.tzinfo is not None
    assert (rep_c.external_id, rep_c.hash, rep_c.local_time) == (None, None, False)
    assert (rep_p.record_type, rep_p.collector, rep_p.online) == (7, "02", True)
    assert rep_p.recorded_at == hours(1) and len(rep_p.hash or "") == 64


def test_reimporting_the_same_bytes_returns_the_first_import_and_adds_nothing(
    runtime: Runtime,
) -> None:
    data = afd_671()
    first, _ = runtime.punches.import_afd(CALL, upload(data))

    again, outcome = runtime.punches.import_afd(CALL, upload(data))

    assert outcome == "unchanged" and again.id == first.id
    assert count(runtime, AfdFile) == 1
    assert count(runtime, TimePunch) == 4


def test_one_changed_byte_is_another_file(runtime: Runtime) -> None:
    runtime.punches.import_afd(CALL, upload(afd_671()))

    _, outcome = runtime.punches.import_afd(CALL, upload(broken_crc(afd_671(), 2)))

    assert outcome == "created" and count(runtime, AfdFile) == 2


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"", "content: an AFD cannot be empty"),
        (b"%PDF-1.7\n", "content: an AFD starts with a header record"),
        (b"0000000001" + b"1" * 100 + b"\r\n", "content: header length 110"),
    ],
)
def test_content_that_is_not_an_afd_is_refused_and_nothing_stored(
    runtime: Runtime, content: bytes, rule: str
) -> None:
    with pytest.raises(ValidationError, match=rule):
        runtime.punches.import_afd(CALL, upload(content))
    assert count(runtime, AfdFile) == 0


def test_afd_of_another_employer_is_refused(runtime: Runtime) -> None:
    with pytest.raises(
        ValidationError, match="employerTaxId: the AFD header names employer 1122"
    ):
        runtime.punches.import_afd(CALL, upload(afd_671(), employer=OTHER_CNPJ))
    assert count(runtime, AfdFile) == 0


def test_1510_punches_are_kept_as_written_local_times_with_the_zone(
    runtime: Runtime,
) -> None:
    data = build_afd_1510([(dt.datetime(2012, 3, 1, 8, 0), PIS)])

    imported, _ = runtime.punches.import_afd(CALL, upload(data, zone="America/Manaus"))
    rows, _ = runtime.punches.query(CALL, PunchFilter(employee_pis=PIS), None, 10)

    assert (imported.layout, imported.local_zone) == ("1510", "America/Manaus")
    assert (
        runtime.punches.get_afd(CALL, file_id=imported.id, include_content=True).content
        == data
    )
    (row,) = rows
    assert row.punched_at == dt.datetime(2012, 3, 1, 8, 0)  # naive: as written
    assert (row.local_time, row.local_zone) == (True, "America/Manaus")
    assert (row.employee_pis, row.employee_cpf) == (PIS, None)


def test_1510_file_without_a_zone_gets_the_configured_one(runtime: Runtime) -> None:
    data = build_afd_1510([(dt.datetime(2012, 3, 1, 8, 0), PIS)])

    imported, _ = runtime.punches.import_afd(CALL, upload(data))

    assert imported.local_zone == runtime.punches.local_zone == "America/Sao_Paulo"


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="localTimeZone: must be an IANA"):
        check_local_zone("Brasilia/Centro")


def test_afd_audit_holds_counts_and_sha256_and_no_employee(runtime: Runtime) -> None:
    data = build_afd_671([FakePunch(MORNING), FakePunch(hours(1), cpf=OTHER_CPF)])
    imported, _ = runtime.punches.import_afd(CALL, upload(data))
    runtime.punches.get_afd(CALL, file_id=imported.id, include_content=True)

    details = " ".join(audit_details(runtime))

    assert imported.sha256 in details and '"accepted": 2' in details
    for secret in (CPF, OTHER_CPF, CPF[3:9], "AFD-2026-09"):
        assert secret not in details


# Punches from an HR system


def test_bulk_punches_are_idempotent_on_source_and_external_id(
    runtime: Runtime,
) -> None:
    items = [punch("P-1", MORNING), punch("P-2", hours(4))]

    first = runtime.punches.upsert_many(CALL, items, punch_data)
    again = runtime.punches.upsert_many(CALL, items, punch_data)

    assert [r.outcome for r in first] == ["created", "created"]
    assert [r.outcome for r in again] == ["unchanged", "unchanged"]
    assert [r.id for r in again] == [r.id for r in first]
    assert count(runtime, TimePunch) == 2


def test_the_same_instant_in_another_offset_is_the_same_punch(
    runtime: Runtime,
) -> None:
    runtime.punches.upsert_many(CALL, [punch("P-1", MORNING)], punch_data)

    in_utc = punch("P-1", MORNING.astimezone(dt.UTC))
    (result,) = runtime.punches.upsert_many(CALL, [in_utc], punch_data)

    assert result.outcome == "unchanged"


def test_a_punch_sent_again_with_another_time_is_refused_and_kept(
    runtime: Runtime,
) -> None:
    runtime.punches.upsert_many(CALL, [punch("P-1", MORNING)], punch_data)

    results = runtime.punches.upsert_many(
        CALL, [punch("P-1", hours(0.5)), punch("P-3", hours(9))], punch_data
    )

    refused, other = results
    assert (refused.outcome, refused.fault_code) == ("refused", "Client.Conflict")
    assert NEVER_EDITED in (refused.message or "")
    assert "punchedAt" in (refused.message or "")
    assert other.outcome == "created"
    stored = runtime.punches.get(CALL, key=("SENIOR", "P-1"))
    assert stored.punched_at == MORNING


def test_a_punch_sent_again_for_another_employee_is_refused_without_the_cpf(
    runtime: Runtime,
) -> None:
    runtime.punches.upsert_many(CALL, [punch("P-1", MORNING)], punch_data)

    (result,) = runtime.punches.upsert_many(
        CALL, [punch("P-1", MORNING, cpf=OTHER_CPF)], punch_data
    )

    assert result.fault_code == "Client.Conflict"
    assert "employeeCpf" in (result.message or "")
    assert OTHER_CPF not in (result.message or "") and CPF not in (result.message or "")


def test_bad_items_are_refused_one_by_one(runtime: Runtime) -> None:
    items = [
        punch("P-1", MORNING),
        punch("P-2", MORNING.replace(tzinfo=None)),
        punch("P-3", MORNING, cpf="123.456.789-00"),
        punch("P-1", hours(1)),
    ]

    results = runtime.punches.upsert_many(CALL, items, punch_data)

    assert [r.outcome for r in results] == ["created", "refused", "refused", "refused"]
    assert "punchedAt: must carry its UTC offset" in (results[1].message or "")
    assert "employeeCpf: CPF check digits" in (results[2].message or "")
    assert "repeats item 0" in (results[3].message or "")
    assert count(runtime, TimePunch) == 1


def test_bulk_over_10000_punches_is_refused_whole(runtime: Runtime) -> None:
    items = [punch(f"P-{i}", MORNING) for i in range(10_001)]

    with pytest.raises(ValidationError, match="holds 10001 items; the limit is 10000"):
        runtime.punches.upsert_many(CALL, items, punch_data)


def test_bulk_audit_holds_counts_and_no_cpf(runtime: Runtime) -> None:
    runtime.punches.upsert_many(
        CALL, [punch("P-1", MORNING), punch("P-2", MORNING, cpf="1")], punch_data
    )

    (detail,) = audit_details(runtime)

    assert '"created": 1' in detail and '"refused": 1' in detail
    assert CPF not in detail and CPF[3:9] not in detail


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"punched_at": None}, "punchedAt: is required"),
        ({"punched_at": MORNING.replace(tzinfo=None)}, "punchedAt: must carry"),
        (
            {"punched_at": dt.datetime(2026, 9, 24, 12, 11, tzinfo=dt.UTC)},
            "punchedAt: must not be in the future",
        ),
        ({"employee_cpf": "111.111.111-11"}, "employeeCpf: a CPF cannot have"),
        ({"external_id": " "}, "externalId: is required"),
        ({"collector": "x" * 41}, "collector: is longer than 40"),
    ],
)
def test_punch_rules(changes: dict[str, object], rule: str) -> None:
    fields: dict[str, object] = {
        "source_system": "SENIOR",
        "external_id": "P-1",
        "employee_cpf": CPF,
        "punched_at": MORNING,
        "collector": None,
        "now": dt.datetime(2026, 9, 24, 12, 0, tzinfo=dt.UTC),
    }
    with pytest.raises(ValidationError, match=rule):
        validate_punch(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_punch_within_the_clock_skew_tolerance_is_accepted() -> None:
    now = dt.datetime(2026, 9, 24, 12, 0, tzinfo=dt.UTC)
    data = validate_punch(
        source_system="S",
        external_id="P",
        employee_cpf=CPF,
        punched_at=now + dt.timedelta(minutes=9),
        now=now,
    )
    assert data.punched_at.tzinfo is not None


def test_deleting_a_punch_is_always_refused(runtime: Runtime) -> None:
    (created,) = runtime.punches.upsert_many(CALL, [punch("P-1", MORNING)], punch_data)

    with pytest.raises(ConflictError, match="punches are evidence and are never"):
        runtime.punches.delete(CALL, punch_id=created.id)
    assert runtime.punches.get(CALL, punch_id=created.id).id == created.id


def test_unknown_punch_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError, match="no time-clock punch with sourceSystem"):
        runtime.punches.get(CALL, key=("SENIOR", "missing"))


# Query and paging by punch time


def test_query_pages_in_punch_time_order_until_the_end(runtime: Runtime) -> None:
    offsets = [5, 1, 3, 3, 0, 4, 2]  # two punches at the same instant
    items = [punch(f"P-{i}", hours(n)) for i, n in enumerate(offsets)]
    runtime.punches.upsert_many(CALL, items, punch_data)

    seen: list[PunchView] = []
    cursor: str | None = None
    for _ in range(10):
        rows, cursor = runtime.punches.query(
            CALL, PunchFilter(employee_cpf=CPF), decode_cursor(cursor), 2
        )
        seen += rows
        if cursor is None:
            break

    assert [r.punched_at for r in seen] == sorted(hours(n) for n in offsets)
    assert len({r.id for r in seen}) == 7
    ties = [r.id for r in seen if r.punched_at == hours(3)]
    assert ties == sorted(ties)


def test_query_range_is_from_inclusive_to_exclusive(runtime: Runtime) -> None:
    items = [punch(f"P-{n}", hours(n)) for n in range(5)]
    runtime.punches.upsert_many(CALL, items, punch_data)

    where = PunchFilter(employee_cpf=CPF, punched_from=hours(1), punched_to=hours(3))
    rows, following = runtime.punches.query(CALL, where, None, 100)

    assert [r.external_id for r in rows] == ["P-1", "P-2"] and following is None


def test_query_by_employee_finds_afd_and_api_punches_of_that_employee_only(
    runtime: Runtime,
) -> None:
    data = build_afd_671([FakePunch(MORNING), FakePunch(hours(1), cpf=OTHER_CPF)])
    runtime.punches.import_afd(CALL, upload(data))
    runtime.punches.upsert_many(CALL, [punch("P-1", hours(2))], punch_data)

    rows, _ = runtime.punches.query(CALL, PunchFilter(employee_cpf=CPF), None, 100)

    assert [(r.origin, r.punched_at) for r in rows] == [
        ("afd", MORNING),
        ("api", hours(2)),
    ]


def test_query_needs_an_employee_or_a_file() -> None:
    with pytest.raises(ValidationError, match="filter: give employeeCpf"):
        punch_filter(tp.TimePunchFilter(punchedFrom=MORNING))
    with pytest.raises(ValidationError, match="filter: give employeeCpf"):
        punch_filter(None)


def test_query_filter_checks_the_employee_documents() -> None:
    with pytest.raises(ValidationError, match=r"filter\.employeeCpf: CPF check"):
        punch_filter(tp.TimePunchFilter(employeeCpf="123.456.789-00"))
    with pytest.raises(ValidationError, match=r"filter\.employeePis: PIS check digit"):
        punch_filter(tp.TimePunchFilter(employeePis="12045678900"))


# Wire details: base64, PIS, roles


def test_base64_content_is_decoded_even_when_wrapped() -> None:
    data = afd_671()
    wrapped = base64.encodebytes(data).decode().replace("\n", "\r\n")

    assert decode_base64(wrapped) == data


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("MDAw!MDAw", "content: is not valid base64: character 5"),
        ("MDAwMDA", "content: is not valid base64: "),
        ("MDAw=MDA", "content: is not valid base64: "),
        ("MDAwMDAw\u00e9", "content: is not valid base64: character 9"),
    ],
)
def test_invalid_base64_is_refused_not_skipped(text: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as caught:
        decode_base64(text)
    assert "MDAw" not in str(caught.value)


def test_pis_check_digit_is_verified() -> None:
    assert normalize_pis(f"{PIS[:3]}.{PIS[3:8]}.{PIS[8:10]}-{PIS[10]}") == PIS
    with pytest.raises(ValidationError, match="employeePis: a PIS has 11 digits"):
        normalize_pis("1234")


@pytest.mark.parametrize(
    ("role", "operation", "allowed"),
    [
        ("hr_system", "ImportAfdFile", True),
        ("hr_system", "UpsertTimePunches", True),
        ("admin", "DeleteTimePunch", True),
        ("auditor", "GetAfdFile", True),
        ("auditor", "QueryTimePunches", True),
        ("auditor", "ImportAfdFile", False),
        ("finance_erp", "QueryTimePunches", False),
    ],
)
def test_roles_for_punches(role: str, operation: str, allowed: bool) -> None:
    if allowed:
        authorize("u", role, operation)
        return
    with pytest.raises(AuthorizationError, match=f"may not call {operation}"):
        authorize("u", role, operation)


def test_query_modified_since_selects_by_the_time_punches_were_stored(
    runtime: Runtime,
) -> None:
    stored_at = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
    runtime.punches._clock = lambda: stored_at
    runtime.punches.upsert_many(CALL, [punch("P-1", MORNING)], punch_data)

    def found(since: dt.datetime) -> int:
        where = PunchFilter(employee_cpf=CPF, modified_since=since)
        return len(runtime.punches.query(CALL, where, None, 10)[0])

    assert found(stored_at) == 1
    assert found(stored_at + dt.timedelta(seconds=1)) == 0
