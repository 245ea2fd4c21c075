"""``ponte targets`` and ``ponte deliveries`` as an operator meets them.

The deliveries are made in this process by the worker against a fake caller
(tests.unit.test_delivery_engine); every command then runs as a real
``ponte`` process on the same database.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapter.config import load_settings
from adapter.errors import RemoteFault, TransportError
from adapter.runtime import build_runtime
from tests.conftest import Installation
from tests.unit.conftest import MAPPING
from tests.unit.test_delivery_engine import Caller, Clock, enqueue, worker_for

TARGET = f"""
[delivery]
schedule_seconds = [5]
jitter = 0.0

[[targets]]
name = "rm-finance"
wsdl = "unused.wsdl"
mapping = "{MAPPING}"
events = ["payment_order.approved"]
max_in_flight = 1

[targets.params]
DataServerName = "FinLanDataBR"
Contexto = "CODCOLIGADA=1"
"""


@dataclass(frozen=True)
class Desk:
    """An installation with three deliveries to rm-finance, one of each kind."""

    inst: Installation
    refused: str  # parked: RM refused it (no attempt was in doubt)
    delivered: str  # delivered: a payment order RM posted
    doubtful: str  # parked after an uncertain attempt: RM may have posted it

    def ponte(self, *args: str, check: bool = True) -> Any:
        return self.inst.ponte(*args, check=check)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.inst.root / "data" / "ponte.db")

    def row(self, sql: str, *args: object) -> tuple[Any, ...]:
        with self.db() as db:
            found = db.execute(sql, args).fetchone()
        assert found is not None, sql
        return tuple(found)

    def audit(self, action: str) -> list[dict[str, Any]]:
        out = self.ponte("audit", "list", "--json", "--limit", "500").stdout
        rows = [json.loads(line) for line in out.splitlines()]
        return [r for r in rows if r["action"] == action]


SENT = (
    "POST https://rm.example.com/wsDataServer/IwsDataServer\n"
    "Authorization: Basic cG9udGU6czNjcmV0\n\n"
    "<s:Envelope><wsse:Password>hunter2</wsse:Password><XML>doc</XML></s:Envelope>"
)


@pytest.fixture
def desk(installation: Installation) -> Iterator[Desk]:
    installation.write_config(TARGET)
    runtime = build_runtime(load_settings(installation.config))
    now = dt.datetime.now(dt.UTC)
    # One call at a time, the delivered one last: its success leaves the
    # target's failure clock stopped.
    refused, doubtful, delivered = (
        enqueue(runtime, f"payment_order:{key}", at=now + dt.timedelta(seconds=n))[0]
        for key, n in (("A", 0), ("B", 0), ("C", 0.5))
    )
    timeout = TransportError("rm: timed out waiting for the answer", sent=True)
    vars(timeout)["request_text"] = SENT
    client_fault = RemoteFault("s:Client", "sem permissão", "SaveRecord")
    doubts: list[object] = [timeout, client_fault]

    def answer(delivery_id: str, operation: str) -> object:
        if operation == "ReadView":
            return "<NewDataSet/>"  # RM has no such record
        if delivery_id == refused:
            return client_fault
        return "1;1001" if delivery_id == delivered else doubts.pop(0)

    caller = Caller(answer)
    clock = Clock(now + dt.timedelta(seconds=1))
    worker = worker_for(runtime, caller, clock=clock)
    while worker.run_due():
        pass
    clock.advance(seconds=61)
    while worker.run_due():
        pass
    worker.close()
    runtime.db.dispose()
    yield Desk(installation, refused, delivered, doubtful)


def test_read_only_commands_do_not_create_a_database(
    installation: Installation,
) -> None:
    installation.write_config(TARGET)
    for command in (
        ["targets", "list"],
        ["targets", "show", "rm-finance"],
        ["deliveries", "list", "--json"],
        ["deliveries", "show", "some-id"],
        ["deliveries", "requests"],
    ):
        result = installation.ponte(*command, check=False)
        assert result.returncode == 1, command
        assert "no Ponte database at" in result.stderr
    assert not (installation.root / "data" / "ponte.db").exists()


def test_targets_list_and_show_tell_state_and_counts(desk: Desk) -> None:
    listed = desk.ponte("targets", "list").stdout.splitlines()
    assert listed == [
        "target  kind  enabled  failing since  pending  parked",
        "rm-finance  soap  yes  -  pending=0  parked=2",
    ]
    [row] = [
        json.loads(line)
        for line in desk.ponte("targets", "list", "--json").stdout.splitlines()
    ]
    assert (row["delivered"], row["enabled"]) == (1, True)
    shown = desk.ponte("targets", "show", "rm-finance").stdout
    for expected in (
        "max in flight:         1",
        "rate limit:            none",
        "ordered by key:        default"
        " (payment_order.*, contract.*, person.*, provision.*)",
        "disable after:         72 h failing",
        "deliveries:            delivered=1 parked=2",
    ):
        assert expected in shown
    missing = desk.ponte("targets", "show", "nope", check=False)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "Error: no target named nope",
    )


def test_disable_and_enable_a_target_are_audited_with_the_operator(
    desk: Desk,
) -> None:
    no_reason = desk.ponte("targets", "disable", "rm-finance", check=False)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr

    out = desk.ponte(
        "targets",
        "disable",
        "rm-finance",
        "--reason",
        "RM upgrade",
        "--operator",
        "alice",
    ).stdout
    assert out.strip() == "target rm-finance disabled by alice: RM upgrade"
    assert "rm-finance  soap  NO" in desk.ponte("targets", "list").stdout
    shown = desk.ponte("targets", "show", "rm-finance").stdout
    assert "disabled by:           alice" in shown and "RM upgrade" in shown
    blocked = desk.ponte("deliveries", "retry", desk.refused, check=False)
    assert blocked.returncode == 1 and "target rm-finance is disabled" in blocked.stderr
    again = desk.ponte("targets", "disable", "rm-finance", "--reason", "x", check=False)
    assert again.returncode == 1 and "already disabled" in again.stderr

    desk.ponte("targets", "enable", "rm-finance", "--operator", "bob")
    assert "rm-finance  soap  yes" in desk.ponte("targets", "list").stdout
    [disabled] = desk.audit("targets.disable")
    [enabled] = desk.audit("targets.enable")
    assert (disabled["actor"], disabled["channel"], disabled["record"]) == (
        "alice",
        "cli",
        "target:rm-finance",
    )
    assert disabled["detail"]["reason"] == "RM upgrade"
    assert (enabled["actor"], enabled["detail"]["disabled_by"]) == ("bob", "alice")


def test_deliveries_list_filters_and_speaks_json(desk: Desk) -> None:
    parked = desk.ponte("deliveries", "list", "--status", "parked").stdout
    assert desk.refused in parked and desk.doubtful in parked
    assert desk.delivered not in parked
    other = desk.ponte("deliveries", "list", "--target", "elsewhere").stdout
    assert other.strip() == "no deliveries"
    rows = [
        json.loads(line)
        for line in desk.ponte("deliveries", "list", "--json").stdout.splitlines()
    ]
    by_id = {r["id"]: r for r in rows}
    assert by_id[desk.delivered]["result"] == "1;1001"
    assert by_id[desk.doubtful]["attempts"] == 2
    assert by_id[desk.refused]["message_id"] == f"urn:uuid:{desk.refused}"


def test_deliveries_show_lists_every_attempt_with_secrets_redacted(
    desk: Desk,
) -> None:
    shown = desk.ponte("deliveries", "show", desk.doubtful).stdout
    assert f"message id  urn:uuid:{desk.doubtful}" in shown
    assert (
        "attempt 1 " in shown and "  uncertain  " in shown and "class=timeout" in shown
    )
    assert "attempt 2 " in shown and "class=client_fault" in shown
    assert "trigger=schedule" in shown
    assert "asked first: RM has no FLAN" in shown
    assert "Authorization: ***" in shown and "<XML>doc</XML>" in shown
    assert "cG9udGU6czNjcmV0" not in shown and "hunter2" not in shown
    missing = desk.ponte("deliveries", "show", "no-such-id", check=False)
    assert (
        missing.returncode == 1 and "no delivery with id no-such-id" in missing.stderr
    )


def test_retry_queues_a_parked_delivery_now_and_is_audited(desk: Desk) -> None:
    out = desk.ponte("deliveries", "retry", desk.refused, "--operator", "alice").stdout
    assert out.strip() == f"delivery {desk.refused} queued for an attempt now"
    status, due = desk.row(
        "SELECT status, next_attempt_at FROM deliveries WHERE id = ?", desk.refused
    )
    assert status == "pending" and due is not None
    assert desk.row(
        "SELECT trigger, triggered_by, schedule_base FROM delivery_controls"
        " WHERE delivery_id = ?",
        desk.refused,
    ) == ("retry", "alice", 0)
    [entry] = desk.audit("deliveries.retry")
    assert (entry["actor"], entry["channel"], entry["outcome"]) == (
        "alice",
        "cli",
        "queued",
    )
    delivered = desk.ponte("deliveries", "retry", desk.delivered, check=False)
    assert delivered.returncode == 1 and "was delivered" in delivered.stderr


def test_money_that_may_be_posted_needs_a_second_operator(desk: Desk) -> None:
    asked = desk.ponte(
        "deliveries", "retry", desk.doubtful, "--operator", "alice", "--reason", "RM ok"
    ).stdout
    assert "needs a second operator: an earlier attempt may have posted it" in asked
    [line] = desk.ponte("deliveries", "requests").stdout.splitlines()[1:]
    request_id = line.split()[0]
    assert f"delivery={desk.doubtful}" in line and "by=alice" in line
    assert desk.row("SELECT status FROM deliveries WHERE id = ?", desk.doubtful) == (
        "parked",
    )
    twice = desk.ponte("deliveries", "retry", desk.doubtful, check=False)
    assert twice.returncode == 1 and "already waits for approval" in twice.stderr

    same = desk.ponte(
        "deliveries", "approve", request_id, "--operator", "alice", check=False
    )
    assert same.returncode == 1 and "a different operator must approve" in same.stderr
    assert desk.row("SELECT status FROM resend_requests") == ("pending",)

    ok = desk.ponte("deliveries", "approve", request_id, "--operator", "bob").stdout
    assert "approved by bob (asked by alice)" in ok
    assert desk.row("SELECT status FROM deliveries WHERE id = ?", desk.doubtful) == (
        "pending",
    )
    assert desk.row(
        "SELECT status, decided_by FROM resend_requests WHERE id = ?", request_id
    ) == ("approved", "bob")
    assert desk.row(
        "SELECT trigger, triggered_by, resend_request_id FROM delivery_controls"
        " WHERE delivery_id = ?",
        desk.doubtful,
    ) == ("retry", "bob", request_id)
    assert "no pending resend requests" in desk.ponte("deliveries", "requests").stdout
    assert "approved" in desk.ponte("deliveries", "requests", "--status", "all").stdout
    [requested] = desk.audit("deliveries.retry")
    [approved] = desk.audit("deliveries.approve")
    assert (requested["actor"], requested["outcome"]) == ("alice", "approval_requested")
    assert (approved["actor"], approved["detail"]["requested_by"]) == ("bob", "alice")


def test_refuse_drops_a_resend_request(desk: Desk) -> None:
    desk.ponte("deliveries", "retry", desk.doubtful, "--operator", "alice")
    request_id = desk.row("SELECT id FROM resend_requests")[0]
    desk.ponte(
        "deliveries", "refuse", request_id, "--operator", "bob", "--reason", "no"
    )
    assert desk.row("SELECT status, decided_by FROM resend_requests") == (
        "refused",
        "bob",
    )
    late = desk.ponte(
        "deliveries", "approve", request_id, "--operator", "carol", check=False
    )
    assert late.returncode == 1 and "is refused already" in late.stderr
    [entry] = desk.audit("deliveries.refuse")
    assert entry["actor"] == "bob" and entry["detail"]["reason"] == "no"


def test_release_puts_a_parked_delivery_back_with_its_schedule_started_over(
    desk: Desk,
) -> None:
    out = desk.ponte("deliveries", "release", desk.refused, "--operator", "dora").stdout
    assert "released: pending now, retry schedule started over" in out
    assert desk.row(
        "SELECT d.status, c.schedule_base, c.trigger FROM deliveries d"
        " JOIN delivery_controls c ON c.delivery_id = d.id WHERE d.id = ?",
        desk.refused,
    ) == ("pending", 1, "release")
    again = desk.ponte("deliveries", "release", desk.refused, check=False)
    assert again.returncode == 1 and "only a parked one is released" in again.stderr
    [entry] = desk.audit("deliveries.release")
    assert entry["actor"] == "dora"


def test_replay_sends_the_same_deliveries_again(desk: Desk) -> None:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    dry = desk.ponte(
        "deliveries", "replay", "--target", "rm-finance", "--since", since, "--dry-run"
    ).stdout
    assert f"delivery {desk.refused} would be queued again" in dry
    assert (
        f"delivery {desk.delivered} would need a second operator: it was delivered"
        in dry
    )
    assert "(dry run: nothing changed)" in dry
    assert desk.row("SELECT count(*) FROM resend_requests") == (0,)
    assert desk.audit("deliveries.replay") == []

    done = desk.ponte(
        "deliveries",
        "replay",
        "--target",
        "rm-finance",
        "--since",
        since,
        "--operator",
        "carol",
    ).stdout
    assert f"delivery {desk.refused} queued again" in done
    assert done.count("needs a second operator") == 2
    # The same delivery and message id, not a new message.
    assert desk.row(
        "SELECT status, message_id FROM deliveries WHERE id = ?", desk.refused
    ) == ("pending", f"urn:uuid:{desk.refused}")
    assert desk.row("SELECT count(*) FROM deliveries") == (3,)
    actions = {r[0] for r in desk.db().execute("SELECT action FROM resend_requests")}
    assert actions == {"replay"}
    [summary] = [
        r for r in desk.audit("deliveries.replay") if r["record"].startswith("target:")
    ]
    assert (summary["actor"], summary["detail"]["queued"]) == ("carol", 1)
    assert summary["detail"]["approval_requested"] == 2

    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    nothing = desk.ponte(
        "deliveries", "replay", "--target", "rm-finance", "--since", future
    ).stdout
    assert nothing.startswith("nothing to replay to rm-finance")
    unknown = desk.ponte(
        "deliveries", "replay", "--target", "nope", "--since", since, check=False
    )
    assert unknown.returncode == 1 and "no configured target" in unknown.stderr
    bad_time = desk.ponte(
        "deliveries",
        "replay",
        "--target",
        "rm-finance",
        "--since",
        "yesterday",
        check=False,
    )
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr


def test_help_says_what_a_replay_sends(installation: Installation) -> None:
    text = installation.ponte("deliveries", "replay", "--help").stdout
    assert "same message id" in " ".join(text.split())
    top = installation.ponte("--help").stdout
    assert "targets" in top and "deliveries" in top
