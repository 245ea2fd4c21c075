"""``ponte targets`` and ``ponte deliveries``: what operators see and do.

Registered on the main group in ``adapter.cli``. Every command that changes
something writes an audit entry (channel ``cli``) naming the operator:
``--operator``, by default the OS user. Read-only commands refuse to run
where there is no database rather than create one. The rules themselves live
in ``adapter.delivery.operations``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from adapter.cli_operator import operator_option
from adapter.errors import ConflictError, NotFoundError

F = TypeVar("F", bound=Callable[..., Any])

STATUSES = ("pending", "in_flight", "delivered", "parked", "skipped", "cancelled")


class _Moment(click.ParamType):
    """ISO 8601; without an offset, the machine's local time."""

    name = "DATETIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time (e.g. 2026-12-01T08:00-03:00)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.astimezone(dt.UTC)


@contextmanager
def _session(obj: Any) -> Iterator[tuple[Any, Any]]:
    """(runtime, session) on an existing database; refusals become messages."""
    from adapter.cli import _runtime

    runtime = _runtime(obj, existing=True)
    try:
        with runtime.db.transaction() as session:
            yield runtime, session
    except (ConflictError, NotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        runtime.db.dispose()


def _actor(runtime: Any, operator: str) -> Any:
    from adapter.delivery.operations import Actor

    name = operator.strip()
    if not name:
        raise click.UsageError("--operator must name someone")
    return Actor(name, runtime.audit, dt.datetime.now(dt.UTC))


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


# Targets


@click.group()
def targets() -> None:
    """Configured targets: health, and switching them off and on."""


@targets.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def targets_list(obj: Any, as_json: bool) -> None:
    """Targets with their state and how many deliveries wait for each."""
    from adapter.delivery.operations import target_summaries

    with _session(obj) as (runtime, session):
        summaries = target_summaries(session, runtime.settings)
        rows = [_target_row(s) for s in summaries]
    if not rows and not as_json:
        click.echo("no targets configured")
        return
    if not as_json:
        click.echo("target  kind  enabled  failing since  pending  parked")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            enabled = "yes" if row["enabled"] else "NO"
            failing = row["failing_since"] or "-"
            click.echo(
                f"{row['name']}  {row['kind']}  {enabled}  {failing}"
                f"  pending={row['pending']}  parked={row['parked']}"
                + ("" if row["configured"] else "  (not configured)")
            )


def _target_row(summary: Any) -> dict[str, Any]:
    state = summary.state
    return {
        "name": summary.name,
        "kind": summary.kind,
        "configured": summary.configured,
        "enabled": summary.enabled,
        "failing_since": _when(state.failing_since) if state else None,
        "disabled_at": _when(state.disabled_at) if state else None,
        "disabled_by": state.disabled_by if state else None,
        "disabled_reason": state.disabled_reason if state else None,
        "pending": summary.counts["pending"] + summary.counts["in_flight"],
        "parked": summary.counts["parked"],
        "delivered": summary.counts["delivered"],
    }


@targets.command("show")
@click.argument("name")
@click.pass_obj
def targets_show(obj: Any, name: str) -> None:
    """Settings, state and delivery counts of target NAME."""
    from adapter.delivery.operations import target_summaries

    with _session(obj) as (runtime, session):
        found = target_summaries(session, runtime.settings)
        summary = next((s for s in found if s.name == name), None)
        if summary is None:
            raise click.ClickException(f"no target named {name}")
        row = _target_row(summary)
        config = next((t for t in runtime.settings.targets if t.name == name), None)
    lines = [("target", name), ("kind", row["kind"])]
    if config is not None:
        lines += _target_settings(config)
    else:
        lines.append(("configured", "no (it is in the database only)"))
    lines += [
        ("enabled", "yes" if row["enabled"] else "no"),
        ("failing since", row["failing_since"] or "-"),
    ]
    if not row["enabled"]:
        lines += [
            ("disabled at", row["disabled_at"]),
            ("disabled by", row["disabled_by"] or "-"),
            ("reason", row["disabled_reason"] or "-"),
        ]
    counts = summary.counts
    lines.append(
        ("deliveries", " ".join(f"{s}={counts[s]}" for s in STATUSES if counts[s]))
    )
    for label, value in lines:
        click.echo(f"{label + ':':<22} {value}")


def _target_settings(target: Any) -> list[tuple[str, str]]:
    from adapter.delivery.worker import ORDERED_BY_DEFAULT

    if target.kind == "soap":
        where = [
            ("profile", target.profile),
            ("wsdl", target.wsdl),
            ("endpoint", target.endpoint or "(the WSDL's)"),
            ("operation", target.operation),
        ]
    else:
        where = [("url", target.url), ("body format", target.body_format)]
    if target.ordered is None:
        ordered = "default (" + ", ".join(f"{p}*" for p in ORDERED_BY_DEFAULT) + ")"
    else:
        ordered = "yes" if target.ordered else "no"
    rate = target.rate_limit_per_second
    return [
        *where,
        ("events", ", ".join(target.events)),
        ("max in flight", str(target.max_in_flight)),
        ("rate limit", f"{rate:g}/s" if rate else "none"),
        ("ordered by key", ordered),
        ("disable after", f"{target.disable_after_hours:g} h failing"),
        ("timeout", f"{target.timeout_seconds:g} s"),
    ]


@targets.command("enable")
@click.argument("name")
@click.option("--reason", help="Why; written into the audit entry.")
@operator_option
@click.pass_obj
def targets_enable(obj: Any, name: str, reason: str | None, operator: str) -> None:
    """Switch target NAME on again; its waiting deliveries go out.

    Its failure clock starts over: it is disabled again only after another
    full disable_after_hours of failing.
    """
    from adapter.delivery.operations import set_enabled

    with _session(obj) as (runtime, session):
        set_enabled(
            session, runtime.settings, _actor(runtime, operator), name, True, reason
        )
    click.echo(f"target {name} enabled by {operator}")


@targets.command("disable")
@click.argument("name")
@click.option("--reason", required=True, help="Why; shown in targets list/show.")
@operator_option
@click.pass_obj
def targets_disable(obj: Any, name: str, reason: str, operator: str) -> None:
    """Switch target NAME off: its deliveries wait (not attempted, not parked)."""
    from adapter.delivery.operations import set_enabled

    with _session(obj) as (runtime, session):
        set_enabled(
            session, runtime.settings, _actor(runtime, operator), name, False, reason
        )
    click.echo(f"target {name} disabled by {operator}: {reason}")


# Deliveries


@click.group()
def deliveries() -> None:
    """Outbound deliveries and their attempts; sending again.

    Resending a payment order's event that may already be posted (it was
    delivered, or an attempt was uncertain) needs a second operator: retry,
    release and replay then create a resend request that another operator
    approves (deliveries requests, deliveries approve).
    """


@deliveries.command("list")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    help="Only deliveries in this state (parked ones wait for an operator).",
)
@click.option("--target", help="Only deliveries to this target.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def deliveries_list(
    obj: Any, status: str | None, target: str | None, limit: int, as_json: bool
) -> None:
    """Show deliveries, newest first."""
    from adapter.delivery.operations import list_deliveries

    with _session(obj) as (_, session):
        rows = [
            _delivery_row(d) for d in list_deliveries(session, status, target, limit)
        ]
    if not rows and not as_json:
        click.echo(f"no {status or ''} deliveries".replace("  ", " "))
        return
    if not as_json:
        click.echo("delivery  target  event  status  attempts  result  last error")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(
            f"{row['id']}  {row['target']}  {row['event_type']}  {row['status']}"
            f"  attempts={row['attempts']}  result={row['result'] or '-'}"
            f"  error={(row['last_error'] or '-')[:80]}"
        )


def _delivery_row(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "target": d.target,
        "event_type": d.event.type,
        "event_id": d.event_id,
        "business_key": d.business_key,
        "message_id": d.message_id,
        "status": d.status,
        "attempts": d.attempt_count,
        "next_attempt_at": _when(d.next_attempt_at) if d.next_attempt_at else None,
        "result": d.result,
        "last_error": d.last_error,
        "created_at": _when(d.created_at),
        "updated_at": _when(d.updated_at),
    }


@deliveries.command("show")
@click.argument("delivery_id", metavar="ID")
@click.pass_obj
def deliveries_show(obj: Any, delivery_id: str) -> None:
    """One delivery and every attempt: request and answer (secrets redacted),
    HTTP status, time taken, error class, and who asked for it."""
    from adapter.delivery.operations import delivery_detail

    with _session(obj) as (_, session):
        detail = delivery_detail(session, delivery_id)
        lines = _detail_lines(detail)
    for line in lines:
        click.echo(line)


def _detail_lines(detail: Any) -> list[str]:
    from adapter.delivery.redact import redact

    d = detail.delivery
    lines = [
        f"delivery    {d.id}",
        f"target      {d.target}",
        f"event       {d.event.type} {d.event_id} (key {d.business_key or '-'})",
        f"message id  {d.message_id}",
        f"status      {d.status}, {d.attempt_count} attempt(s)"
        + (
            f", schedule counted from attempt {detail.schedule_base + 1}"
            if detail.schedule_base
            else ""
        ),
        f"next        {_when(d.next_attempt_at)}",
        f"result      {d.result or '-'}",
        f"last error  {d.last_error or '-'}",
    ]
    for r in detail.requests:
        decided = f", {r.status} by {r.decided_by}" if r.decided_by else ""
        lines.append(
            f"resend request {r.id} ({r.action or 'retry'}) by {r.requested_by} at "
            f"{_when(r.requested_at)}: {r.status}{decided}"
        )
    for a in detail.attempts:
        trigger = detail.triggers.get(a.id)
        who = f"{trigger.trigger} by {trigger.operator}" if trigger else "schedule"
        ms = a.duration_ms if a.duration_ms is not None else "-"
        lines += [
            "",
            f"attempt {a.number}  {_when(a.started_at)}  {a.outcome}"
            f"  http={a.http_status or '-'}  ms={ms}"
            f"  class={a.error_class or '-'}  trigger={who}",
        ]
        if a.detail:
            lines.append(f"  detail: {a.detail}")
        for label, text in (("request", a.request_text), ("response", a.response_text)):
            if text:
                lines.append(f"  {label}:")
                lines += [f"    {line}" for line in redact(text).splitlines()]
    return lines


@deliveries.command("retry")
@click.argument("delivery_id", metavar="ID")
@click.option("--reason", help="Why; written into the audit entry.")
@operator_option
@click.pass_obj
def deliveries_retry(
    obj: Any, delivery_id: str, reason: str | None, operator: str
) -> None:
    """Attempt a parked or pending delivery now.

    The retry schedule is not extended: if this attempt fails in passing, the
    delivery goes on where its schedule stood (a delivery that had used its
    retries up parks again). To start the schedule over, use release.
    """
    from adapter.delivery.operations import retry

    with _session(obj) as (runtime, session):
        done = retry(
            session, runtime.settings, _actor(runtime, operator), delivery_id, reason
        )
    _say(done, "queued for an attempt now")


@deliveries.command("release")
@click.argument("delivery_id", metavar="ID")
@click.option("--reason", help="Why; written into the audit entry.")
@operator_option
@click.pass_obj
def deliveries_release(
    obj: Any, delivery_id: str, reason: str | None, operator: str
) -> None:
    """Put a parked delivery back to pending, its retry schedule started over."""
    from adapter.delivery.operations import release

    with _session(obj) as (runtime, session):
        done = release(
            session, runtime.settings, _actor(runtime, operator), delivery_id, reason
        )
    _say(done, "released: pending now, retry schedule started over")


@deliveries.command("replay")
@click.option("--target", "target", required=True, help="The target to replay to.")
@click.option(
    "--since",
    required=True,
    type=_Moment(),
    help="Deliveries created at or after this time (ISO 8601; without an "
    "offset, local time).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@operator_option
@click.pass_obj
def deliveries_replay(
    obj: Any, target: str, since: dt.datetime, dry_run: bool, operator: str
) -> None:
    """Send again the delivered and parked deliveries of a target since a time.

    A replay sends the same message: the same delivery, the same message id
    (wsa:MessageID, webhook-id), its retry schedule started over. A receiver
    that drops duplicates by message id answers as before and posts nothing
    twice; one that lost them (restored from a backup) receives them again.
    It never makes new messages: to make a receiver post something again as
    new, the record must change in Ponte (a new event). Pending and in-flight
    deliveries are on their way already and are left alone.
    """
    from adapter.delivery.operations import replay

    with _session(obj) as (runtime, session):
        actor = _actor(runtime, operator)
        done = replay(session, runtime.settings, actor, target, since, dry_run=dry_run)
    if not done:
        click.echo(f"nothing to replay to {target} since {_when(since)}")
    for item in done:
        _say(item, "would be queued again" if dry_run else "queued again", dry_run)
    if done and dry_run:
        click.echo("(dry run: nothing changed)")


@deliveries.command("requests")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "refused", "all"]),
    default="pending",
    show_default=True,
)
@click.pass_obj
def deliveries_requests(obj: Any, status: str) -> None:
    """Resend requests that wait for (or got) a second operator's decision."""
    from adapter.delivery.operations import list_requests

    with _session(obj) as (_, session):
        rows = list_requests(session, None if status == "all" else status)
        lines = [
            f"{r.id}  {r.status}  {r.action or 'retry'}  delivery={r.delivery_id}"
            f"  by={r.requested_by}  at={_when(r.requested_at)}"
            + (f"  decided_by={r.decided_by}" if r.decided_by else "")
            + (f"  reason={r.reason}" if r.reason else "")
            for r in rows
        ]
    if not lines:
        click.echo(f"no {'' if status == 'all' else status + ' '}resend requests")
        return
    click.echo("request  status  action  delivery  requested by  at")
    for line in lines:
        click.echo(line)


@deliveries.command("approve")
@click.argument("request_id", metavar="REQUEST_ID")
@operator_option
@click.pass_obj
def deliveries_approve(obj: Any, request_id: str, operator: str) -> None:
    """Approve a resend request: the delivery goes out again.

    The approver must be a different operator from the one who asked.
    """
    from adapter.delivery.operations import approve

    with _session(obj) as (runtime, session):
        request = approve(
            session, runtime.settings, _actor(runtime, operator), request_id
        )
        delivery_id, asked_by = request.delivery_id, request.requested_by
    click.echo(
        f"resend request {request_id} approved by {operator} (asked by {asked_by}); "
        f"delivery {delivery_id} queued"
    )


@deliveries.command("refuse")
@click.argument("request_id", metavar="REQUEST_ID")
@click.option("--reason", help="Why; written into the audit entry.")
@operator_option
@click.pass_obj
def deliveries_refuse(
    obj: Any, request_id: str, reason: str | None, operator: str
) -> None:
    """Refuse (or, as its requester, withdraw) a resend request."""
    from adapter.delivery.operations import refuse

    with _session(obj) as (runtime, session):
        refuse(session, _actor(runtime, operator), request_id, reason)
    click.echo(f"resend request {request_id} refused by {operator}")


def _say(done: Any, queued: str, dry_run: bool = False) -> None:
    if done.done == "queued":
        click.echo(f"delivery {done.delivery_id} {queued}")
    elif done.done == "approval_requested" and dry_run:
        click.echo(
            f"delivery {done.delivery_id} would need a second operator: {done.note}"
        )
    elif done.done == "approval_requested":
        click.echo(
            f"delivery {done.delivery_id} needs a second operator: {done.note}; "
            f"resend request {done.request_id} waits for "
            f"'ponte deliveries approve {done.request_id} --operator OTHER'"
        )
    else:
        click.echo(f"delivery {done.delivery_id} skipped: {done.note}")
