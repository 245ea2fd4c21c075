"""How long ``ponte audit verify`` takes over one million chained entries.

Seeds a fresh, migrated database (SQLite in WAL mode under a temp folder, or
an empty PostgreSQL database named with ``--database-url``) with N audit
entries chained exactly as the writer chains them (``adapter.audit.chain``):
realistic SOAP-call entries (actor, record, correlation id, client address,
duration, a small JSON detail, the request's SHA-256), hashed in this process
and inserted with ``executemany`` in batches, then the chain head set to the
last one. Seeding is not what is measured.

Then times, in this order:

1. ``ponte audit verify --quiet`` as an operator runs it (a subprocess: start-
   up, settings, the streaming walk, the verdict); its peak RSS comes from
   ``getrusage(RUSAGE_CHILDREN)``;
2. ``adapter.audit.verify.verify_chain`` in this process, for the walk alone
   (entries/s);
3. the same walk after one entry in the middle was changed with plain SQL,
   to show it stops there and names it.

Target: the command under one minute for 1,000,000 entries, memory flat.

Run::

    .venv/bin/python benchmarks/audit_verify.py [--entries N] [--batch B]
                                                [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text, update  # noqa: E402

from adapter.audit.chain import GENESIS, HASHED, fields_hash  # noqa: E402
from adapter.audit.verify import verify_chain  # noqa: E402
from adapter.storage.db import Database  # noqa: E402
from adapter.storage.models import AuditEntry  # noqa: E402
from adapter.storage.models_audit import AuditChainHead  # noqa: E402

TARGET_SECONDS = 60.0
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ACTIONS = ("UpsertParty", "GetParty", "CreatePaymentOrder", "QueryLawsuits")


def entry_fields(seq: int) -> tuple[object, ...]:
    """The hashed fields of entry ``seq``, in ``HASHED`` order."""
    record = uuid.UUID(int=seq).hex
    detail = json.dumps({"result": "created", "name": "Maria"}, sort_keys=True)
    return (
        seq,
        START + dt.timedelta(milliseconds=7 * seq),
        "erp",
        "soap",
        ACTIONS[seq % len(ACTIONS)],
        "party",
        record,
        "ok",
        None,
        uuid.UUID(int=seq << 64).hex,
        "10.0.0.7",
        3 + seq % 40,
        detail,
        hashlib.sha256(record.encode()).hexdigest(),
        None,
    )


def seed(db: Database, count: int, batch: int) -> tuple[float, str]:
    """Insert ``count`` chained entries; returns (seconds, last hash)."""
    began = time.perf_counter()
    prev = GENESIS
    table = AuditEntry.__table__
    with db.engine.begin() as connection:
        for start in range(1, count + 1, batch):
            rows = []
            for seq in range(start, min(start + batch, count + 1)):
                fields = entry_fields(seq)
                digest = fields_hash(fields, prev)
                values = dict(zip(HASHED, fields, strict=True))
                values["prev_hash"], values["hash"] = prev, digest
                rows.append(values)
                prev = digest
            connection.execute(insert(table), rows)
            done = min(start + batch - 1, count)
            print(f"\r  seeded {done:>9,} / {count:,}", end="", flush=True)
        connection.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(seq=count, hash=prev)
        )
    print()
    return time.perf_counter() - began, prev


def run_command(config: Path) -> tuple[float, int, str]:
    """``ponte audit verify --quiet``: (seconds, exit status, its output)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ponte = [sys.executable, "-m", "adapter", "--config", str(config)]
    began = time.perf_counter()
    done = subprocess.run(
        [*ponte, "audit", "verify", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        timeout=1800,
    )
    return time.perf_counter() - began, done.returncode, done.stdout + done.stderr


def tamper(db: Database, seq: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET outcome = 'fault' WHERE seq = :seq"),
            {"seq": seq},
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Seed N chained audit entries and time `ponte audit verify` "
        "over them (target: under 60 s for 1,000,000).",
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000, help="rows per insert")
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to use instead of a temp SQLite file",
    )
    args = parser.parse_args(argv)
    if args.entries < 2 or args.batch < 1:
        parser.error("--entries must be at least 2 and --batch positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ponte-audit-verify-"))
    url = args.database_url or f"sqlite:///{root / 'data' / 'ponte.db'}"
    config = root / "ponte.toml"
    config.write_text(f'data_dir = "data"\n\n[database]\nurl = "{url}"\n')
    print(
        f"Python {platform.python_version()} | SQLite {sqlite3.sqlite_version} | "
        f"{os.cpu_count()} CPUs | {url.split('://')[0]} | {args.entries:,} entries"
    )
    db = Database(url)
    try:
        db.prepare()
        seconds, last_hash = seed(db, args.entries, args.batch)
        print(f"seeding: {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s)")

        took, status, output = run_command(config)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"ponte audit verify: {took:.1f} s, exit {status}, peak RSS {peak:.0f} MB"
        )
        print(f"  {output.strip()}")
        if status != 0 or last_hash not in output:
            print("FAILED: the untouched chain did not verify", file=sys.stderr)
            return 1

        began = time.perf_counter()
        verdict, _ = verify_chain(db)
        walk = time.perf_counter() - began
        print(
            f"verify_chain in-process: {walk:.1f} s "
            f"({verdict.checked / walk:,.0f} entries/s), intact={verdict.intact}"
        )

        middle = args.entries // 2
        tamper(db, middle)
        began = time.perf_counter()
        verdict, _ = verify_chain(db)
        print(
            f"after changing seq {middle} with plain SQL: "
            f"{time.perf_counter() - began:.1f} s, {verdict.broken}"
        )
        if verdict.broken is None or verdict.broken.seq != middle:
            print("FAILED: the changed entry was not named", file=sys.stderr)
            return 1
        met = "met" if took < TARGET_SECONDS else "NOT met"
        print(f"target ponte audit verify < {TARGET_SECONDS:.0f} s: {met}")
        return 0
    finally:
        db.dispose()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
