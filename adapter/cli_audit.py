"""``ponte audit`` and ``ponte privacy``: the audit trail and personal data.

Registered on the main group in ``adapter.cli``. CPFs are masked in every line
these commands print or export (only the middle digits: ``***.456.789-**``).
Read-only commands refuse to run where there is no database; long reads
(``export``, ``verify``) do not hold up the server's writers. ``purge`` and
``privacy report`` write an audit entry (channel ``cli``) naming the operator:
``--operator``, by default the OS user.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from adapter.cli_delivery import _Moment
from adapter.cli_operator import operator_option
from adapter.errors import ValidationError

F = TypeVar("F", bound=Callable[..., Any])

# From this many entries an export shows a progress bar (on a terminal).
PROGRESS_FROM = 1000
CSV_COLUMNS = (
    "id",
    "seq",
    "at",
    "actor",
    "channel",
    "action",
    "recordType",
    "recordId",
    "outcome",
    "fault",
    "ms",
    "correlation",
    "clientAddress",
    "requestSha256",
    "responseSha256",
    "detail",
    "prevHash",
    "hash",
)


@contextmanager
def _runtime(obj: Any) -> Iterator[Any]:
    from adapter.cli import _runtime as build

    runtime = build(obj, existing=True)
    try:
        yield runtime
    finally:
        runtime.db.dispose()


def _filter_options(func: F) -> F:
    """The filters ``list`` and ``export`` share."""
    options = (
        click.option("--user", help="Only entries of this actor (user or operator)."),
        click.option(
            "--operation",
            "--action",
            "action",
            help="Only this action: a SOAP operation (UpsertParty), deliver, "
            "targets.disable, users.add...",
        ),
        click.option(
            "--record",
            metavar="TYPE[:ID]",
            help="Only entries about this record, e.g. party:3f6c... or party.",
        ),
        click.option("--outcome", help="Only this outcome: ok, fault, delivered..."),
        click.option(
            "--since",
            type=_Moment(),
            help="From this time on (ISO 8601; without an offset, local time).",
        ),
        click.option("--until", type=_Moment(), help="Before this time."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _where(
    user: str | None,
    action: str | None,
    record: str | None,
    outcome: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Any:
    from adapter.audit.query import AuditFilter

    record_type, _, record_id = (record or "").partition(":")
    return AuditFilter(
        actor=user,
        action=action,
        record_type=record_type or None,
        record_id=record_id or None,
        outcome=outcome,
        since=since,
        until=until,
    )


@click.group()
def audit() -> None:
    """The audit trail: list, show, export, verify its hash chain, purge bodies.

    Every SOAP call, outbound attempt and operator action is an entry, chained
    by SHA-256 to the one before it, so that an entry changed, removed or
    inserted directly in the database is found by 'ponte audit verify'.
    """


@audit.command("list")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many entries.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_filter_options
@click.pass_obj
def audit_list(obj: Any, limit: int, as_json: bool, **filters: Any) -> None:
    """Show the latest audit entries, newest first.

    Columns: id, time, actor, channel, action, record, outcome, fault code,
    duration in ms, correlation id (for deliveries, the message id).
    """
    from adapter.audit.query import newest, view

    with _runtime(obj) as runtime, runtime.db.transaction() as session:
        entries = newest(session, _where(**filters), limit)
        views = [view(e) for e in entries]
    if not views and not as_json:
        click.echo("no audit entries yet" if not any(filters.values()) else "none")
        return
    if not as_json:
        click.echo(
            "id  at  actor  channel  action  record  outcome  fault  ms  correlation"
        )
    for shown in views:
        line = _line(shown)
        if as_json:
            extra = {k: shown[k] for k in ("seq", "clientAddress", "requestSha256")}
            extra["responseSha256"] = shown["responseSha256"]
            extra["hash"] = shown["hash"]
            click.echo(json.dumps({**line, **extra}, ensure_ascii=False))
        else:
            line.pop("detail")
            click.echo("  ".join(str(v) for v in line.values()))


def _line(shown: dict[str, Any]) -> dict[str, Any]:
    """An entry as ``audit list`` prints it ("-" for what is absent)."""
    return {
        "id": shown["id"],
        "at": shown["at"][:19] + "+00:00",
        "actor": shown["actor"],
        "channel": shown["channel"],
        "action": shown["action"],
        "record": shown["record"] or "-",
        "outcome": shown["outcome"],
        "fault": shown["fault"] or "-",
        "ms": shown["ms"] if shown["ms"] is not None else "-",
        "correlation": shown["correlation"] or "-",
        "detail": shown["detail"],
    }


@audit.command("show")
@click.argument("entry_id", metavar="ID", type=int)
@click.option(
    "--bodies",
    is_flag=True,
    help="For an outbound attempt, also print the archived request and answer "
    "(secrets redacted when archived, CPFs masked here).",
)
@click.pass_obj
def audit_show(obj: Any, entry_id: int, bodies: bool) -> None:
    """Show audit entry ID in full.

    Every field, the detail, its place in the chain and, for an outbound
    attempt, what the archive keeps of its request and answer (size, digest,
    whether it still matches). 'hash holds' checks this entry's own fields
    against its hash; 'ponte audit verify' checks the whole chain.
    """
    from adapter.audit.archive import attempt_bodies
    from adapter.audit.query import find, hash_holds, view

    with _runtime(obj) as runtime, runtime.db.transaction() as session:
        entry = find(session, entry_id)
        if entry is None:
            raise click.ClickException(f"no audit entry with id {entry_id}")
        shown, holds = view(entry), hash_holds(entry)
        kept = None
        attempt = shown["detail"].get("attempt") if shown["detail"] else None
        if entry.action == "deliver" and entry.record_id and isinstance(attempt, int):
            kept = attempt_bodies(session, entry.record_id, attempt)
    for name in CSV_COLUMNS:
        if name == "detail":
            continue
        value = shown[name]
        click.echo(f"{name + ':':<16}{value if value is not None else '-'}")
    click.echo(f"{'hash holds:':<16}{'yes' if holds else 'NO: the entry was changed'}")
    click.echo("detail:")
    click.echo(json.dumps(shown["detail"], ensure_ascii=False, indent=2))
    if entry.action == "deliver":
        _show_bodies(kept, bodies)


def _show_bodies(kept: Any, print_them: bool) -> None:
    from adapter.privacy import mask_cpfs

    if kept is None:
        click.echo("archive: nothing kept for this attempt")
        return
    for label, body in zip(("request", "answer"), kept, strict=True):
        if body.size is None:
            click.echo(f"archive {label}: none")
            continue
        state = "purged" if body.purged else "cut" if body.truncated else "whole"
        match = {True: "matches", False: "DOES NOT MATCH", None: "not comparable"}
        click.echo(
            f"archive {label}: {body.size} bytes, {state}, sha256 {body.sha256} "
            f"({match[body.matches]})"
        )
        if print_them and body.text is not None:
            click.echo(mask_cpfs(body.text))


@audit.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    required=True,
    help="csv: one row per entry; jsonl: one JSON object per line. In both, "
    "detail is the JSON text as stored (what the hash covers).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@_filter_options
@click.pass_obj
def audit_export(obj: Any, fmt: str, output: Path | None, **filters: Any) -> None:
    """Export entries, oldest first, with every field (CPFs masked).

    An export keeps seq, prevHash and hash, so it can be checked on its own
    with the rules in the README ("Audit and personal data"). From 1000
    entries a progress bar shows on the terminal (on standard error).
    """
    from adapter.audit.verify import read_only_engine

    with _runtime(obj) as runtime, read_only_engine(runtime.db) as engine:
        if output is None:
            written = _export(engine, _where(**filters), fmt, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                written = _export(engine, _where(**filters), fmt, handle)
    if output is not None:
        click.echo(f"exported {written} entries to {output}", err=True)


def _export(engine: Any, where: Any, fmt: str, out: IO[str]) -> int:
    from sqlalchemy.orm import Session

    from adapter.audit.query import count, oldest_first, view

    with Session(engine) as session:
        total = count(session, where)
        writer = csv.DictWriter(out, CSV_COLUMNS) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        bar = click.progressbar(
            length=total,
            label="exporting",
            file=sys.stderr,
            hidden=total < PROGRESS_FROM,
        )
        written = 0
        with bar:
            for entry in oldest_first(session, where):
                shown = _exported(view(entry))
                if writer is not None:
                    writer.writerow(shown)
                else:
                    out.write(json.dumps(shown, ensure_ascii=False) + "\n")
                written += 1
                bar.update(1)
    return written


def _exported(shown: dict[str, Any]) -> dict[str, Any]:
    """An entry as exports write it: ``detail`` is the JSON text as stored,
    so that each hash can be recomputed from the export alone."""
    return {
        name: shown["detailText" if name == "detail" else name] for name in CSV_COLUMNS
    }


@audit.command("verify")
@click.option("--quiet", is_flag=True, help="No progress bar, only the verdict.")
@click.pass_obj
def audit_verify(obj: Any, quiet: bool) -> None:
    """Walk the whole hash chain and say whether it holds.

    Exit status 0 when every entry is in place; 1 with the first broken entry
    named (changed, missing, inserted, or the chain head out of step). The
    last line gives the chain head's seq and hash: keep it somewhere else (a
    ticket, an e-mail) to detect later a rewrite of the whole tail.
    """
    from adapter.audit.verify import read_head, read_only_engine, verify_chain

    with _runtime(obj) as runtime:
        with read_only_engine(runtime.db) as engine, engine.connect() as connection:
            head = read_head(connection)
        total = head.seq if head is not None else 0
        bar = click.progressbar(
            length=total,
            label="verifying",
            file=sys.stderr,
            hidden=quiet or total < 10_000,
        )
        done = 0

        def progress(checked: int) -> None:
            nonlocal done
            bar.update(checked - done)
            done = checked

        with bar:
            verdict, head = verify_chain(runtime.db, progress)
    if verdict.broken is not None:
        click.echo(f"broken after {verdict.checked} entries: {verdict.broken}")
        raise SystemExit(1)
    click.echo(
        f"intact: {verdict.checked} entries; head seq {verdict.last_seq} "
        f"hash {verdict.last_hash}"
    )


@audit.command("purge")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Drop the archived request and answer bodies of attempts archived "
    "before this day (YYYY-MM-DD, 00:00 UTC).",
)
@operator_option
@click.pass_obj
def audit_purge(obj: Any, before: dt.datetime, operator: str) -> None:
    """Drop archived attempt bodies past their retention.

    Only bodies go: every audit entry stays, with the SHA-256 of each body,
    so the chain still verifies. Entries themselves are never purged. The
    purge is itself an audit entry.
    """
    from adapter.audit.archive import purge_bodies
    from adapter.audit.writer import AuditRecord

    cutoff = before.replace(tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    if cutoff > now:
        raise click.BadParameter("must not be in the future", param_hint="--before")
    with _runtime(obj) as runtime, runtime.db.transaction() as session:
        purged = purge_bodies(session, cutoff, now)
        runtime.audit.record(
            session,
            AuditRecord(
                actor=operator,
                channel="cli",
                action="audit.purge",
                outcome="ok",
                detail={"before": cutoff.date().isoformat(), "bodies": purged},
            ),
        )
    click.echo(f"purged the bodies of {purged} attempts archived before {cutoff:%F}")


# Personal data


@click.group()
def privacy() -> None:
    """Personal data (LGPD): what Ponte holds about a person."""


@privacy.command("report")
@click.argument("cpf")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@operator_option
@click.pass_obj
def privacy_report(obj: Any, cpf: str, as_json: bool, operator: str) -> None:
    """Everything that concerns the person with CPF, for a data subject's
    access request (LGPD art. 18): parties and bank accounts, employees and
    time-clock punches, contracts, payment orders, lawsuits they are linked
    to, access flags, deliveries whose event concerns them, and how many
    audit entries name those records.

    CPF may be masked (123.456.789-09) or bare. It is printed masked, and the
    report is an audit entry (action privacy.report) that keeps the person's
    keyed hash, never the CPF.
    """
    from adapter.audit.writer import AuditRecord
    from adapter.privacy import SubjectKeys, mask_cpfs_in
    from adapter.privacy import privacy_report as gather

    with _runtime(obj) as runtime:
        keys = SubjectKeys.from_settings(runtime.settings)
        try:
            with runtime.db.transaction() as session:
                report = gather(session, cpf, keys)
                runtime.audit.record(
                    session,
                    AuditRecord(
                        actor=operator,
                        channel="cli",
                        action="privacy.report",
                        outcome="ok",
                        record_type="person",
                        record_id=report.subject_key,
                        detail=_counts(report),
                    ),
                )
        except ValidationError as exc:
            raise click.BadParameter(exc.rule, param_hint="CPF") from exc
    if as_json:
        shown = mask_cpfs_in(report.as_dict())
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        _print_report(report)


def _counts(report: Any) -> dict[str, Any]:
    return {
        "cpf": report.cpf,
        "parties": len(report.parties),
        "employees": len(report.employees),
        "timePunches": report.time_punches.get("count", 0),
        "contracts": len(report.contracts),
        "paymentOrders": len(report.payment_orders),
        "lawsuits": len(report.lawsuits),
        "accessFlags": len(report.access_flags),
        "deliveries": len(report.deliveries),
    }


def _print_report(report: Any) -> None:
    from adapter.privacy import mask_cpfs

    click.echo(f"privacy report for CPF {report.cpf}")
    click.echo(f"subject key (what keyed targets receive): {report.subject_key}")
    if not report.found_anything:
        click.echo("nothing: Ponte holds no record of this CPF")
    sections = (
        ("parties", report.parties),
        ("employees", report.employees),
        ("contracts", report.contracts),
        ("payment orders", report.payment_orders),
        ("lawsuits", report.lawsuits),
        ("access flags", report.access_flags),
        ("deliveries", report.deliveries),
    )
    for title, rows in sections:
        click.echo(f"{title} ({len(rows)}):")
        for row in rows:
            line = "  ".join(f"{k}={_shown(v)}" for k, v in row.items())
            click.echo("  " + mask_cpfs(line))
    punches = report.time_punches
    click.echo(
        f"time-clock punches: {punches.get('count', 0)}"
        + (f", {punches['first']} to {punches['last']}" if punches.get("count") else "")
    )
    click.echo(
        f"audit entries naming these records: {report.audit_entries} "
        "(ponte audit list --record TYPE:ID)"
    )


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + "; ".join(str(v) for v in value) + "]"
    return str(value)
