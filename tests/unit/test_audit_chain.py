"""The audit trail's hash chain: appended under a lock, tampering found by the
walk, bodies of outbound attempts archived apart from it, on every backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select, text

from adapter.audit.archive import archive_attempt, purge_bodies, read_bodies
from adapter.audit.chain import GENESIS, HASHED, entry_hash
from adapter.audit.changes import apply_changes
from adapter.audit.query import (
    AuditFilter,
    AuditQueries,
    after_cursor,
    hash_holds,
    page,
)
from adapter.audit.verify import verify_chain
from adapter.audit.writer import AuditRecord, AuditWriter
from adapter.errors import ValidationError
from adapter.outbound.caller import CallResult
from adapter.runtime import Runtime, build_runtime
from adapter.storage.db import MIGRATIONS, Database
from adapter.storage.models import Attempt, AuditEntry
from adapter.storage.models_audit import AttemptBody, AuditChainHead
from tests.unit.conftest import make_settings
from tests.unit.test_delivery_engine import Caller, Clock, enqueue, worker_for

CPF = "123.456.789-09"


def entry(n: int, **extra: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "actor": "erp",
        "channel": "soap",
        "action": "UpsertParty",
        "outcome": "ok",
        "record_type": "party",
        "record_id": f"P-{n}",
        "detail": {"n": n},
    }
    return AuditRecord(**(values | extra))


def write(db: Database, count: int, start: int = 1) -> None:
    writer = AuditWriter()
    for n in range(start, start + count):
        with db.transaction() as session:
            writer.record(session, entry(n))


def rows(db: Database) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def sql(db: Database, statement: str, **params: Any) -> None:
    """A change made behind Ponte's back, with plain SQL."""
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def row_values(row: AuditEntry) -> dict[str, Any]:
    return {name: getattr(row, name) for name in HASHED}


def insert_raw(db: Database, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    with db.engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO audit_entries ({columns}) VALUES ({marks})"), values
        )


@pytest.fixture
def db(runtime: Runtime) -> Database:
    return runtime.db


# Appending


def test_entries_are_numbered_and_each_names_the_hash_of_the_one_before(
    db: Database,
) -> None:
    write(db, 5)
    chained = rows(db)
    assert [r.seq for r in chained] == [1, 2, 3, 4, 5]
    assert chained[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(chained):
        assert after.prev_hash == before.hash
    assert all(r.hash == entry_hash(row_values(r), r.prev_hash) for r in chained)
    with db.transaction() as session:
        head = session.get_one(AuditChainHead, 1)
        assert (head.seq, head.hash) == (5, chained[-1].hash)
    verdict, _ = verify_chain(db)
    assert verdict.intact and verdict.checked == 5


def test_the_hash_follows_the_documented_rule(db: Database) -> None:
    """The README's rule, written out here on its own, gives the stored hash."""
    write(db, 2)
    second = rows(db)[1]
    at = second.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [1, second.seq, at, "erp", "soap", "UpsertParty", "party", "P-2", "ok"]
    fields += [None, None, None, None, '{"n": 2}', None, None, second.prev_hash]
    text_form = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text_form.encode()).hexdigest() == second.hash


def test_session_and_core_connection_append_to_one_chain(db: Database) -> None:
    writer = AuditWriter()
    with db.transaction() as session:
        writer.record_many(session, [entry(1), entry(2)])
    with db.connection() as connection:  # the CreatePaymentOrder path
        writer.record(connection, entry(3))
    with db.transaction() as session:
        writer.record(session, entry(4))
    assert [r.seq for r in rows(db)] == [1, 2, 3, 4]
    assert verify_chain(db)[0].intact


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(db: Database) -> None:
    write(db, 2)
    with pytest.raises(RuntimeError, match="change failed"), db.transaction() as s:
        AuditWriter().record(s, entry(99))
        raise RuntimeError("change failed")
    write(db, 1, start=3)
    assert [(r.seq, r.record_id) for r in rows(db)] == [
        (1, "P-1"),
        (2, "P-2"),
        (3, "P-3"),
    ]
    assert verify_chain(db)[0].intact


def test_concurrent_writers_never_chain_onto_the_same_entry(db: Database) -> None:
    writer, errors = AuditWriter(), []

    def work(thread: int) -> None:
        try:
            for n in range(20):
                with db.transaction() as session:
                    writer.record(session, entry(thread * 100 + n))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    chained = rows(db)
    assert [r.seq for r in chained] == list(range(1, 121))
    assert len({r.prev_hash for r in chained}) == 120
    verdict, _ = verify_chain(db)
    assert verdict.intact, verdict.broken


def test_cpfs_are_masked_before_the_entry_is_stored_and_hashed(db: Database) -> None:
    with db.transaction() as session:
        AuditWriter().record(
            session, entry(1, record_id="12345678909", detail={"taxId": CPF})
        )
    [stored] = rows(db)
    assert "123.456.789-09" not in (stored.detail or "")
    assert "12345678909" not in (stored.detail or "")
    assert json.loads(stored.detail or "") == {"taxId": "***.456.789-**"}
    assert stored.record_id == "***.456.789-**"
    assert hash_holds(stored) and verify_chain(db)[0].intact


def test_a_deleted_chain_head_is_rebuilt_from_the_last_entry_and_reported(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    write(db, 2)
    sql(db, "DELETE FROM audit_chain_head")
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None and verdict.broken.kind == "head"
    write(db, 1, start=3)
    assert "audit chain head missing; restarted from entry seq 2" in caplog.text
    assert [r.seq for r in rows(db)] == [1, 2, 3]


# Tampering, found by the walk


def test_verify_names_an_entry_changed_with_plain_sql(db: Database) -> None:
    write(db, 5)
    third = rows(db)[2]
    sql(db, "UPDATE audit_entries SET outcome = 'fault' WHERE id = :id", id=third.id)
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.entry_id) == ("changed", third.id)
    assert verdict.checked == 2
    assert f"entry {third.id} (seq 3) was changed" in str(verdict.broken)


def test_verify_names_an_entry_changed_and_rehashed(db: Database) -> None:
    """Recomputing the changed entry's hash does not hide it: the next entry
    still names the old hash."""
    write(db, 5)
    third = rows(db)[2]
    forged = row_values(third) | {"actor": "someone-else"}
    sql(
        db,
        "UPDATE audit_entries SET actor = :actor, hash = :hash WHERE id = :id",
        actor="someone-else",
        hash=entry_hash(forged, third.prev_hash),
        id=third.id,
    )
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.seq) == ("changed", 3)
    assert verdict.broken.entry_id == third.id
    assert "hash recomputed" in verdict.broken.reason


def test_verify_names_a_deleted_entry(db: Database) -> None:
    write(db, 5)
    sql(db, "DELETE FROM audit_entries WHERE seq = 3")
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.seq) == ("missing", 3)
    assert "entries seq 3 to 3 are missing" in verdict.broken.reason


def test_verify_finds_the_last_entries_deleted(db: Database) -> None:
    write(db, 5)
    sql(db, "DELETE FROM audit_entries WHERE seq >= 4")
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.seq) == ("missing", 4)
    assert "chain head is at seq 5 but the last entry is seq 3" in str(verdict.broken)


def test_verify_finds_a_row_inserted_in_the_middle(db: Database) -> None:
    """Even with a hash computed by the rules, an entry slipped in between two
    others claims a place that is taken."""
    write(db, 5)
    second = rows(db)[1]
    forged = row_values(second) | {"seq": 3, "actor": "intruder", "record_id": "X"}
    insert_raw(
        db,
        forged | {"prev_hash": second.hash, "hash": entry_hash(forged, second.hash)},
    )
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.seq) == ("inserted", 3)
    assert "claims seq 3, which an earlier entry holds" in verdict.broken.reason


def test_verify_finds_an_entry_renumbered_into_the_chain(db: Database) -> None:
    """An intruder that renumbers what follows, to make room, is found where the
    next genuine entry skips over it."""
    write(db, 4)
    second = rows(db)[1]
    sql(db, "UPDATE audit_entries SET seq = seq + 100 WHERE seq >= 3")
    forged = row_values(second) | {"seq": 3, "actor": "intruder"}
    insert_raw(
        db,
        forged | {"prev_hash": second.hash, "hash": entry_hash(forged, second.hash)},
    )
    sql(db, "UPDATE audit_entries SET seq = seq - 99 WHERE seq >= 100")
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.seq) == ("changed", 4)
    assert verdict.checked == 2  # the renumbered entry is the first to break


def test_verify_finds_entries_appended_past_the_head(db: Database) -> None:
    write(db, 3)
    last = rows(db)[-1]
    forged = row_values(last) | {"seq": 4, "actor": "intruder"}
    insert_raw(
        db, forged | {"prev_hash": last.hash, "hash": entry_hash(forged, last.hash)}
    )
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None and verdict.broken.kind == "inserted"
    assert "follow the chain head (seq 3)" in verdict.broken.reason


def test_verify_finds_the_last_entry_replaced(db: Database) -> None:
    write(db, 3)
    last = rows(db)[-1]
    forged = row_values(last) | {"outcome": "fault"}
    sql(
        db,
        "UPDATE audit_entries SET outcome = 'fault', hash = :hash WHERE id = :id",
        hash=entry_hash(forged, last.prev_hash),
        id=last.id,
    )
    verdict, _ = verify_chain(db)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.entry_id) == ("head", last.id)


# Entries written before the chain


def test_the_migration_chains_entries_written_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for n in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO audit_entries (at, actor, channel, action, outcome,"
                    " detail) VALUES (:at, 'cli', 'cli', 'users.add', 'ok', :d)"
                ),
                {"at": f"2026-01-0{n} 10:00:00.000000", "d": json.dumps({"n": n})},
            )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    engine.dispose()
    db = Database(url)
    try:
        write(db, 1, start=4)
        chained = rows(db)
        assert [(r.id, r.seq) for r in chained] == [(1, 1), (2, 2), (3, 3), (4, 4)]
        assert verify_chain(db)[0].intact
    finally:
        db.dispose()


# The archive of attempt bodies


def test_attempt_bodies_are_archived_whole_compressed_and_cut_at_the_limit(
    db: Database, runtime: Runtime
) -> None:
    [delivery] = enqueue(runtime, "payment_order:A")
    request = "POST https://rm\n\n<XML>" + "x" * 5000 + "</XML>"
    with db.transaction() as session:
        attempt = Attempt(
            delivery_id=delivery, number=1, started_at=Clock()(), outcome="started"
        )
        session.add(attempt)
        session.flush()
        digests = archive_attempt(
            session, attempt.id, request, "HTTP 200", Clock()(), max_bytes=1000
        )
        attempt_id = attempt.id
    assert digests.request_sha256 == hashlib.sha256(request.encode()).hexdigest()
    with db.transaction() as session:
        stored = session.get_one(AttemptBody, attempt_id)
        assert zlib.decompress(stored.request_body or b"") == request.encode()[:1000]
        assert (stored.request_size, stored.request_truncated) == (len(request), True)
        assert len(stored.request_body or b"") < 200  # compressed
        request_body, answer = read_bodies(session, attempt_id) or (None, None)
    assert request_body is not None and answer is not None
    assert request_body.matches is None  # cut: cannot be compared
    assert (answer.text, answer.matches) == ("HTTP 200", True)


def test_a_delivery_attempt_archives_its_bodies_and_its_entry_carries_digests(
    runtime: Runtime,
) -> None:
    sent = "POST https://rm\nAuthorization: Basic c2VjcmV0\n\n<XML>doc</XML>"
    answer = "HTTP 200 OK\n\n<SaveRecordResult>1;7</SaveRecordResult>"
    caller = Caller(lambda d, op: CallResult("1;7", 200, 4, sent, answer))
    [delivery] = enqueue(runtime, "payment_order:A")
    assert worker_for(runtime, caller).run_due() == 1
    redacted = "POST https://rm\nAuthorization: ***\n\n<XML>doc</XML>"
    with runtime.db.transaction() as session:
        entry_row = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "deliver")
        ).one()
        attempt = session.scalars(
            select(Attempt).where(Attempt.delivery_id == delivery)
        ).one()
        bodies = read_bodies(session, attempt.id)
    assert entry_row.request_sha256 == hashlib.sha256(redacted.encode()).hexdigest()
    assert entry_row.response_sha256 == hashlib.sha256(answer.encode()).hexdigest()
    assert bodies is not None
    assert bodies[0].text == redacted and bodies[0].matches is True
    assert "c2VjcmV0" not in (bodies[0].text or "")
    assert bodies[1].text == answer and bodies[1].matches is True


def test_purge_drops_old_bodies_keeps_their_digests_and_the_chain(
    runtime: Runtime,
) -> None:
    caller = Caller(lambda d, op: CallResult("1;7", 200, 4, "POST x", "HTTP 200"))
    enqueue(runtime, "payment_order:A")
    worker_for(runtime, caller).run_due()  # archived at the worker's clock, T0
    later = Clock()() + dt.timedelta(days=1)
    with runtime.db.transaction() as session:
        assert purge_bodies(session, Clock()(), later) == 0  # not before T0
    with runtime.db.transaction() as session:
        assert purge_bodies(session, later, later) == 1
        assert purge_bodies(session, later, later) == 0  # already purged
    with runtime.db.transaction() as session:
        body = session.scalars(select(AttemptBody)).one()
        assert (body.request_body, body.response_body) == (None, None)
        assert body.request_sha256 and body.purged_at is not None
    assert verify_chain(runtime.db)[0].intact


def test_interrupted_attempts_get_an_audit_entry(runtime: Runtime) -> None:
    [delivery] = enqueue(runtime, "payment_order:A")
    worker = worker_for(runtime, Caller())
    assert worker._claim(delivery) is not None  # then the worker "dies"
    assert worker.recover() == 1
    with runtime.db.transaction() as session:
        found = session.scalars(
            select(AuditEntry).where(AuditEntry.outcome == "interrupted")
        ).one()
    assert (found.record_id, found.action, found.fault_code) == (
        delivery,
        "deliver",
        "interrupted",
    )


# Reading


class _Call:
    def audit_record(self, outcome: str, **fields: Any) -> AuditRecord:
        return AuditRecord("auditor", "soap", "QueryAuditEntries", outcome, **fields)


def test_query_pages_follow_the_chain_and_record_the_read(db: Database) -> None:
    write(db, 5)
    queries = AuditQueries(db, AuditWriter())
    first, cursor = queries.query(_Call(), AuditFilter(action="UpsertParty"), None, 2)
    second, cursor2 = queries.query(
        _Call(), AuditFilter(action="UpsertParty"), cursor, 2
    )
    third, end = queries.query(_Call(), AuditFilter(action="UpsertParty"), cursor2, 2)
    seen = [v["recordId"] for v in first + second + third]
    assert seen == ["P-1", "P-2", "P-3", "P-4", "P-5"] and end is None
    reads = [r for r in rows(db) if r.action == "QueryAuditEntries"]
    assert len(reads) == 3 and json.loads(reads[0].detail or "")["returned"] == 2


def test_query_filters_by_record_outcome_and_time(db: Database) -> None:
    write(db, 3)
    with db.transaction() as session:
        AuditWriter().record(session, entry(9, outcome="fault", record_id="P-2"))
    with db.transaction() as session:
        got, _ = page(session, AuditFilter(record_type="party", record_id="P-2"), 0, 9)
        assert [g.outcome for g in got] == ["ok", "fault"]
        got, _ = page(session, AuditFilter(outcome="fault"), 0, 9)
        assert [g.record_id for g in got] == ["P-2"]
        future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        assert page(session, AuditFilter(since=future), 0, 9)[0] == []
        assert len(page(session, AuditFilter(until=future), 0, 9)[0]) == 4


def test_a_cursor_from_another_query_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="cursor: is not a cursor returned"):
        after_cursor("not-a-cursor")


@pytest.fixture
def two_runtimes(tmp_path: Path, database_url: str) -> Iterator[list[Runtime]]:
    made = [build_runtime(make_settings(tmp_path, database_url)) for _ in range(2)]
    yield made
    for rt in made:
        rt.db.dispose()


def test_two_processes_worth_of_engines_share_one_chain(
    two_runtimes: list[Runtime],
) -> None:
    """Separate engines (as separate server processes have) still serialise."""
    writer, errors = AuditWriter(), []

    def work(rt: Runtime, base: int) -> None:
        try:
            for n in range(15):
                with rt.db.transaction() as session:
                    writer.record(session, entry(base + n))
        except Exception as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(rt, 100 * i))
        for i, rt in enumerate(two_runtimes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    verdict, _ = verify_chain(two_runtimes[0].db)
    assert verdict.intact and verdict.checked == 30


# What a change records


def test_a_change_records_each_field_before_and_after_with_cpfs_masked() -> None:
    row = SimpleNamespace(name="Maria", tax_id="12345678909", kind="individual")
    changes = apply_changes(
        row, {"name": "Maria S.", "tax_id": "52998224725", "kind": "individual"}
    )
    assert changes == {
        "name": {"before": "Maria", "after": "Maria S."},
        "tax_id": {"before": "***.456.789-**", "after": "***.982.247-**"},
    }
    assert (row.name, row.tax_id) == ("Maria S.", "52998224725")
    assert apply_changes(row, {"name": "Maria S."}) == {}
