"""Ponte's SOAP server with the audit writer replaced by a no-op.

The baseline of ``audit_cost.py``, and nothing else: it is built here, inside
the benchmark harness, so that no setting of the product can switch the
audit trail off. Everything but the writer is what ``ponte serve
--no-worker`` runs: the same settings file, gunicorn workers, WSGI layer,
authentication and use cases; ``record`` and ``record_many`` return at once,
so no entry is chained, hashed or inserted.

Run::

    .venv/bin/python benchmarks/noaudit_server.py --config ponte.toml

(the database must exist and be migrated: ``ponte users add`` does that).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapter.audit.writer import AuditRecord, Executor  # noqa: E402
from adapter.config import load_settings  # noqa: E402
from adapter.serving import GunicornServer  # noqa: E402


class NoAudit:
    """An audit sink that keeps nothing."""

    def record(self, session: Executor, entry: AuditRecord) -> None:
        return None

    def record_many(self, session: Executor, entries: Sequence[AuditRecord]) -> None:
        return None


class NoAuditServer(GunicornServer):
    """``GunicornServer`` whose workers build their runtime with ``NoAudit``."""

    def load(self) -> Any:
        from adapter.inbound.app import create_app
        from adapter.logs import setup_logging
        from adapter.runtime import build_runtime

        setup_logging(self.settings.log_level)
        runtime = build_runtime(self.settings, audit=NoAudit(), prepare=False)
        return create_app(runtime)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="ponte.toml")
    args = parser.parse_args(argv)
    NoAuditServer(load_settings(args.config)).run()


if __name__ == "__main__":
    main()
