"""Fixtures for tests that use a real database but open no sockets.

Store tests run on SQLite always, and on PostgreSQL too when
``PONTE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from adapter.config import Settings, load_settings
from adapter.runtime import Runtime, build_runtime

REPO = Path(__file__).resolve().parents[2]
MAPPING = REPO / "mappings" / "totvs-rm" / "payment_order.approved.xsl"

BACKENDS = ["sqlite"]
if os.environ.get("PONTE_TEST_POSTGRES_URL"):
    BACKENDS.append("postgresql")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ponte.db'}"
        return
    server = os.environ["PONTE_TEST_POSTGRES_URL"]
    name = f"ponte_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    target = {
        "name": "rm-finance",
        "wsdl": "unused.wsdl",
        "mapping": str(MAPPING),
        "params": {"DataServerName": "FinLanDataBR", "Contexto": "CODCOLIGADA=1"},
    }
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database": {"url": database_url},
        "targets": [target],
        "delivery": {"schedule_seconds": [5, 60], "jitter": 0.0, "poll_seconds": 1},
    }
    values.update(extra)
    return load_settings(None, **values)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(tmp_path, database_url))
    yield rt
    rt.db.dispose()
