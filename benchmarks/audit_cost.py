"""What the audit trail costs: authenticated ``UpsertParty`` with and without it.

Starts two Ponte servers on free 127.0.0.1 ports, each under gunicorn with
sync workers (the same count) on a fresh data folder of its own (SQLite in
WAL mode), each with one integration user ``erp`` (role finance_erp):

* ``audited``: ``python -m adapter serve --no-worker``, as shipped: every call
  writes its audit entry (chain head locked, entry hashed and inserted, head
  advanced) in the transaction of the upsert;
* ``noaudit``: ``benchmarks/noaudit_server.py``, the same server with the
  audit writer replaced by a no-op inside this harness (not a setting of the
  product).

Both get the same load generator as ``inbound_throughput.py``: raw SOAP 1.1
``UpsertParty`` envelopes with a WS-Security UsernameToken (PasswordText, a
fresh Nonce and Created) and a new ``externalId`` each, so that every call
creates a party; C client threads for N seconds. Rounds alternate noaudit,
audited, noaudit, audited; the ratio audited/noaudit of the mean req/s is the
figure to read (target: at least 0.85). Only HTTP 200 answers with
``<outcome>created</outcome>`` count; anything else fails the run.

Run::

    .venv/bin/python benchmarks/audit_cost.py [--seconds N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from inbound_throughput import (
    CPF,
    PONTE_TNS,
    REPO,
    Round,
    Servers,
    SetupError,
    Target,
    default_workers,
    envelope,
    load_options,
    parse_load,
    prepare_ponte,
    row,
    run_load,
    versions,
)

TARGET_RATIO = 0.85
UPSERT = (
    "<p:UpsertParty><p:party>"
    "<p:sourceSystem>SAP</p:sourceSystem>"
    "<p:externalId>{external_id}</p:externalId>"
    "<p:kind>individual</p:kind>"
    f"<p:taxId>{CPF}</p:taxId>"
    "<p:name>Maria da Silva</p:name>"
    "</p:party></p:UpsertParty>"
)


@dataclass
class UpsertTarget(Target):
    """A server under test, sent UpsertParty with a new key each time."""

    def next_request(self) -> bytes:
        external_id = f"{self.name.upper()}-{next(self.counter):08d}"
        return envelope(self.tns, self.password, UPSERT.format(external_id=external_id))


def start(
    servers: Servers, name: str, workers: int, password: str, audited: bool
) -> tuple[str, int, Path]:
    """One Ponte server on a fresh data folder; (SOAP URL, pid, database)."""
    setup = prepare_ponte(servers, name, workers, password)
    command = (
        [*setup.command, "serve", "--no-worker"]
        if audited
        else [
            sys.executable,
            str(REPO / "benchmarks" / "noaudit_server.py"),
            "--config",
            str(setup.config),
        ]
    )
    process = servers.start(name, command, cwd=setup.root)
    servers.wait_ready(process, f"http://127.0.0.1:{setup.port}/health")
    soap = f"http://127.0.0.1:{setup.port}/soap/v1"
    return soap, process.pid, setup.root / "data" / "ponte.db"


def entries_in(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(
            connection.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
        )


def report(rounds: list[Round]) -> float:
    print()
    print(
        f"{'round':<7}{'server':<9}{'ok':>7}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'srv ms/req':>11}{'client CPU':>11}"
    )
    for r in rounds:
        cells = (r.ok, r.rate, r.latencies, r.server_cpu, r.client_cpu, r.seconds)
        line = row(r.label, r.server, *cells)
        print(line.replace(r.server.ljust(7), r.server.ljust(9), 1))
    means = {}
    for server in ("noaudit", "audited"):
        mine = [r for r in rounds if r.server == server]
        means[server] = sum(r.rate for r in mine) / len(mine)
        cpus = [r.server_cpu for r in mine]
        ok = sum(r.ok for r in mine)
        cpu = None if None in cpus else sum(c or 0.0 for c in cpus)
        srv = f"{1000 * cpu / ok:.2f}" if cpu is not None and ok else "-"
        print(f"mean   {server:<9}{ok:>7}{means[server]:>10.1f}{'':>18}{srv:>11}")
    per_round = []
    for label in dict.fromkeys(r.label for r in rounds):
        pair = {r.server: r.rate for r in rounds if r.label == label}
        if pair.get("noaudit"):
            per_round.append(f"round {label}: {pair['audited'] / pair['noaudit']:.3f}")
    ratio = means["audited"] / means["noaudit"] if means["noaudit"] else float("nan")
    print()
    print(f"ratio audited/noaudit (mean req/s): {ratio:.3f}   ({', '.join(per_round)})")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"target >= {TARGET_RATIO}: {verdict}")
    return ratio


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_options(
        "Throughput of authenticated UpsertParty with the audit trail "
        "as shipped against the same server with a no-op audit writer, both under "
        "gunicorn on 127.0.0.1, in one run (rounds noaudit, audited, noaudit, "
        "audited); prints req/s, p50/p99 and the ratio audited/noaudit."
    )
    return parse_load(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workers = args.workers or default_workers()
    password = "bench-" + secrets.token_urlsafe(18)
    print(versions())
    print(
        f"{os.cpu_count()} CPUs | gunicorn sync workers={workers} per server | "
        f"client threads={args.concurrency} | {args.seconds:g} s per round, "
        "rounds noaudit/audited/noaudit/audited"
    )
    root = Path(tempfile.mkdtemp(prefix="ponte-audit-cost-"))
    servers = Servers(root)
    try:
        try:
            plain_url, plain_pid, plain_db = start(
                servers, "noaudit", workers, password, audited=False
            )
            audited_url, audited_pid, audited_db = start(
                servers, "audited", workers, password, audited=True
            )
        except (SetupError, requests.RequestException, subprocess.SubprocessError) as e:
            print(f"setup failed: {e}\n{servers.tail()}", file=sys.stderr)
            return 2
        created = b">created<"
        plain = UpsertTarget("noaudit", plain_url, PONTE_TNS, password, created)
        audited = UpsertTarget("audited", audited_url, PONTE_TNS, password, created)
        pids = {"noaudit": plain_pid, "audited": audited_pid}
        for target in (plain, audited):
            warm = run_load(target, "warm", args.warmup, args.concurrency, 10**6)
            if warm.failed or not warm.ok:
                print(f"warm-up of {target.name} failed: {warm.first_error}")
                return 1
        rounds = [
            run_load(
                target,
                label,
                args.seconds,
                args.concurrency,
                args.max_requests,
                pids[target.name],
            )
            for label, target in itertools.product(("1", "2"), (plain, audited))
        ]
        report(rounds)
        print(
            f"audit entries written: noaudit {entries_in(plain_db)}, "
            f"audited {entries_in(audited_db)}"
        )
        failed = sum(r.failed for r in rounds)
        if failed:
            first = next(r for r in rounds if r.first_error)
            print(f"FAILED: {failed} request(s); first: {first.first_error}")
            return 1
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
