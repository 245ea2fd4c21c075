"""``ponte audit`` and ``ponte privacy`` as an operator and an auditor meet them:
real commands on a real data folder, tampering done with plain SQL."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from adapter.app.context import CallContext
from adapter.audit.writer import AuditRecord
from adapter.config import load_settings
from adapter.domain.parties import validate_party
from adapter.outbound.caller import CallResult
from adapter.runtime import Runtime, build_runtime
from tests.conftest import Installation
from tests.integration.test_delivery_cli import TARGET
from tests.unit.test_delivery_engine import Caller, enqueue, worker_for

CPF, DIGITS = "123.456.789-09", "12345678909"
CALL = CallContext(actor="sap-erp", channel="soap", operation="UpsertParty")


@pytest.fixture
def inst(installation: Installation) -> Iterator[Installation]:
    installation.ponte(
        "users", "add", "sap-erp", "--role", "finance_erp", "--password", "x" * 12
    )
    yield installation


@pytest.fixture
def runtime(inst: Installation) -> Iterator[Runtime]:
    """The installation's own runtime, in this process, to write entries fast."""
    rt = build_runtime(load_settings(inst.config))
    yield rt
    rt.db.dispose()


def db(inst: Installation) -> sqlite3.Connection:
    return sqlite3.connect(inst.root / "data" / "ponte.db")


def jsonl(inst: Installation, *args: str) -> list[dict[str, Any]]:
    out = inst.ponte("audit", "export", "--format", "jsonl", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def rehash(e: dict[str, Any]) -> str:
    """The README's rule, from an exported line alone."""
    at = dt.datetime.fromisoformat(e["at"]).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [1, e["seq"], at, e["actor"], e["channel"], e["action"]]
    fields += [e["recordType"], e["recordId"], e["outcome"], e["fault"]]
    fields += [e["correlation"], e["clientAddress"], e["ms"], e["detail"]]
    fields += [e["requestSha256"], e["responseSha256"], e["prevHash"]]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_entries(runtime: Runtime, count: int) -> None:
    with runtime.db.transaction() as session:
        runtime.audit.record_many(
            session,
            [
                AuditRecord("sap-erp", "soap", "GetParty", "ok", "party", f"P-{n}")
                for n in range(count)
            ],
        )


# Reading


def test_set_role_is_audited_with_the_role_the_user_had(inst: Installation) -> None:
    done = inst.ponte("users", "set-role", "sap-erp", "auditor")
    assert done.stdout.strip() == "user sap-erp: role finance_erp -> auditor"
    assert inst.ponte("users", "list").stdout.split() == ["sap-erp", "auditor"]
    out = inst.ponte("audit", "list", "--action", "users.set-role", "--json").stdout
    [entry] = [json.loads(line) for line in out.splitlines()]
    assert (entry["record"], entry["detail"]) == (
        "user:sap-erp",
        {"from": "finance_erp", "to": "auditor"},
    )
    refused = inst.ponte("users", "set-role", "nobody", "admin", check=False)
    assert refused.returncode == 2 and "no user named nobody" in refused.stderr


def test_list_filters_by_user_record_and_outcome(
    inst: Installation, runtime: Runtime
) -> None:
    write_entries(runtime, 3)
    with runtime.db.transaction() as session:
        runtime.audit.record(
            session, AuditRecord("other", "soap", "GetParty", "fault", "party", "P-1")
        )
    listed = inst.ponte("audit", "list", "--user", "sap-erp", "--record", "party:P-1")
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("id  at  actor  channel  action  record")
    assert len(lines) == 2 and "sap-erp  soap  GetParty  party:P-1  ok" in lines[1]
    faults = inst.ponte("audit", "list", "--outcome", "fault", "--json").stdout
    assert [json.loads(line)["actor"] for line in faults.splitlines()] == ["other"]
    none = inst.ponte("audit", "list", "--user", "ghost").stdout
    assert none.strip() == "none"


def test_show_prints_every_field_and_whether_the_hash_holds(
    inst: Installation, runtime: Runtime
) -> None:
    with runtime.db.transaction() as session:
        runtime.audit.record(
            session,
            AuditRecord(
                "sap-erp", "soap", "GetEmployee", "fault", detail={"cpf": DIGITS}
            ),
        )
    shown = inst.ponte("audit", "show", "2").stdout
    assert "action:         GetEmployee" in shown
    assert "hash holds:     yes" in shown
    assert '"cpf": "***.456.789-**"' in shown and DIGITS not in shown
    with db(inst) as connection:
        connection.execute("UPDATE audit_entries SET outcome = 'ok' WHERE id = 2")
    assert "hash holds:     NO" in inst.ponte("audit", "show", "2").stdout
    missing = inst.ponte("audit", "show", "99", check=False)
    assert missing.returncode == 1 and "no audit entry with id 99" in missing.stderr


def test_exports_hold_every_entry_oldest_first_and_each_hash_can_be_recomputed(
    inst: Installation, runtime: Runtime
) -> None:
    write_entries(runtime, 4)
    lines = jsonl(inst)
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert all(rehash(e) == e["hash"] for e in lines)
    assert all(b["prevHash"] == a["hash"] for a, b in itertools.pairwise(lines))
    out = inst.root / "audit.csv"
    inst.ponte("audit", "export", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["hash"] for r in rows] == [e["hash"] for e in lines]
    assert rows[0]["action"] == "users.add"
    assert len(jsonl(inst, "--action", "GetParty")) == 4


def test_a_large_export_shows_progress_and_keeps_memory_flat(
    inst: Installation, runtime: Runtime
) -> None:
    write_entries(runtime, 4500)
    out = inst.root / "big.jsonl"
    done = inst.ponte("audit", "export", "--format", "jsonl", "--output", str(out))
    assert "exporting" in done.stderr  # the bar's label (no terminal here)
    assert "exported 4501 entries" in done.stderr
    assert len(out.read_text().splitlines()) == 4501
    small = inst.ponte("audit", "export", "--format", "jsonl", "--user", "ghost")
    assert "exporting" not in small.stderr


def test_show_of_an_attempt_checks_its_archived_bodies_against_the_chain(
    installation: Installation,
) -> None:
    installation.write_config(TARGET)
    runtime = build_runtime(load_settings(installation.config))
    sent = f"POST https://rm\nAuthorization: Basic c2VjcmV0\n\n<taxId>{DIGITS}</taxId>"
    caller = Caller(lambda d, op: CallResult("1;7", 200, 4, sent, "HTTP 200\n\n1;7"))
    try:
        enqueue(runtime, "payment_order:A")
        assert worker_for(runtime, caller).run_due() == 1
    finally:
        runtime.db.dispose()
    [line] = [
        json.loads(row)
        for row in installation.ponte("audit", "list", "--json").stdout.splitlines()
        if json.loads(row)["action"] == "deliver"
    ]
    shown = installation.ponte("audit", "show", str(line["id"]), "--bodies").stdout
    assert "archive request: " in shown and "whole, sha256 " in shown
    assert shown.count("(matches)") == 2
    assert "Authorization: ***" in shown and "c2VjcmV0" not in shown
    assert "<taxId>***.456.789-**</taxId>" in shown and DIGITS not in shown


# The chain


def test_verify_says_intact_and_gives_the_head(inst: Installation) -> None:
    done = inst.ponte("audit", "verify")
    assert done.stdout.startswith("intact: 1 entries; head seq 1 hash ")


def test_verify_names_a_row_edited_with_plain_sql(
    inst: Installation, runtime: Runtime
) -> None:
    write_entries(runtime, 5)
    with db(inst) as connection:
        connection.execute("UPDATE audit_entries SET actor = 'x' WHERE seq = 4")
        entry_id = connection.execute(
            "SELECT id FROM audit_entries WHERE seq = 4"
        ).fetchone()[0]
    broken = inst.ponte("audit", "verify", check=False)
    assert broken.returncode == 1
    assert broken.stdout.strip() == (
        f"broken after 3 entries: changed: entry {entry_id} (seq 4) was changed: "
        "its fields do not give its hash"
    )


def test_verify_names_a_deleted_row(inst: Installation, runtime: Runtime) -> None:
    write_entries(runtime, 5)
    with db(inst) as connection:
        connection.execute("DELETE FROM audit_entries WHERE seq = 3")
    gone = inst.ponte("audit", "verify", check=False)
    assert gone.returncode == 1
    assert "missing: entries seq 3 to 3 are missing after entry 2" in gone.stdout


def test_verify_names_a_row_inserted_in_the_middle(
    inst: Installation, runtime: Runtime
) -> None:
    """A copy of entry 2, hash and all, slipped into the table."""
    write_entries(runtime, 5)
    with db(inst) as connection:
        connection.execute(
            "INSERT INTO audit_entries (at, actor, channel, action, record_type,"
            " record_id, outcome, seq, prev_hash, hash) SELECT at, actor, channel,"
            " action, record_type, record_id, outcome, seq, prev_hash, hash"
            " FROM audit_entries WHERE seq = 2"
        )
    inserted = inst.ponte("audit", "verify", check=False)
    assert inserted.returncode == 1
    assert "inserted: entry 7 (seq 2) follows seq 6 but claims seq 2" in (
        inserted.stdout
    )


def test_purge_drops_old_bodies_only_and_is_audited(inst: Installation) -> None:
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    refused = inst.ponte("audit", "purge", "--before", future, check=False)
    assert refused.returncode == 2 and "must not be in the future" in refused.stderr
    today = dt.date.today().isoformat()
    done = inst.ponte("audit", "purge", "--before", today, "--operator", "ana")
    assert done.stdout.strip() == (
        f"purged the bodies of 0 attempts archived before {today}"
    )
    [entry] = [
        json.loads(line)
        for line in inst.ponte("audit", "list", "--json").stdout.splitlines()
        if json.loads(line)["action"] == "audit.purge"
    ]
    assert (entry["actor"], entry["detail"]) == ("ana", {"before": today, "bodies": 0})
    assert inst.ponte("audit", "verify").stdout.startswith("intact: 2 entries")


# Personal data


def test_privacy_report_finds_the_person_masks_the_cpf_and_is_audited(
    inst: Installation, runtime: Runtime
) -> None:
    runtime.parties.upsert(
        CALL, validate_party("SAP", "V-9", "individual", "Maria da Silva", CPF)
    )
    report = inst.ponte("privacy", "report", CPF, "--operator", "dpo")
    assert report.stdout.startswith("privacy report for CPF ***.456.789-**\n")
    assert "parties (1):" in report.stdout and "Maria da Silva" in report.stdout
    assert "key=SAP/V-9" in report.stdout
    assert DIGITS not in report.stdout and CPF not in report.stdout
    as_json = json.loads(inst.ponte("privacy", "report", DIGITS, "--json").stdout)
    assert [p["name"] for p in as_json["parties"]] == ["Maria da Silva"]
    entries = [
        json.loads(line)
        for line in inst.ponte("audit", "list", "--json").stdout.splitlines()
    ]
    reports = [e for e in entries if e["action"] == "privacy.report"]
    assert len(reports) == 2 and reports[-1]["actor"] == "dpo"
    assert reports[0]["record"] == f"person:{as_json['subjectKey']}"
    assert DIGITS not in json.dumps(entries)
    assert (inst.root / "data" / "subject.key").exists()


def test_privacy_report_refuses_a_cpf_with_wrong_check_digits(
    inst: Installation,
) -> None:
    refused = inst.ponte("privacy", "report", "123.456.789-00", check=False)
    assert refused.returncode == 2
    assert "CPF check digits do not match" in refused.stderr
    assert "123.456.789-00" not in refused.stderr


def test_help_answers_what_each_command_does(inst: Installation) -> None:
    group = inst.ponte("audit", "--help").stdout
    for command in ("list", "show", "export", "verify", "purge"):
        assert command in group
    verify = " ".join(inst.ponte("audit", "verify", "--help").stdout.split())
    assert "Exit status 0" in verify and "first broken entry" in verify
    report = " ".join(inst.ponte("privacy", "report", "--help").stdout.split())
    assert "data subject's access request" in report and "LGPD" in report
