"""``ponte audit verify``: walk the stored chain, streaming, in flat memory.

The entries are read with one streaming query in the order they were appended
(``id``, the primary key: the writer takes ids and ``seq`` under one lock, so
they go up together and no other index is needed), through a server-side
cursor on PostgreSQL, and checked by ``adapter.audit.chain.walk``. Writers are
not held up: on SQLite the walk reads through a connection of its own that
never takes the write lock (the application's transactions all begin with
``BEGIN IMMEDIATE``); on PostgreSQL it is an ordinary read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Connection, Engine, Table, create_engine, select
from sqlalchemy.engine import make_url

from adapter.audit.chain import HASHED, ChainRow, Head, Verification, walk
from adapter.storage.db import Database
from adapter.storage.models import AuditEntry
from adapter.storage.models_audit import CHAIN_HEAD_ID, AuditChainHead

STREAM_BATCH = 10_000

_ENTRIES = cast(Table, AuditEntry.__table__)
_ROWS = select(
    _ENTRIES.c.id,
    _ENTRIES.c.prev_hash,
    _ENTRIES.c.hash,
    *(_ENTRIES.c[name] for name in HASHED),
).order_by(_ENTRIES.c.id)
_HEAD = select(AuditChainHead.seq, AuditChainHead.hash).where(
    AuditChainHead.id == CHAIN_HEAD_ID
)


@contextmanager
def read_only_engine(db: Database) -> Iterator[Engine]:
    """An engine whose reads take no lock (SQLite), else the database's own."""
    if make_url(db.url).get_backend_name() != "sqlite":
        yield db.engine
        return
    engine = create_engine(db.url, connect_args={"timeout": 30})
    try:
        yield engine
    finally:
        engine.dispose()


def read_head(connection: Connection) -> Head | None:
    found = connection.execute(_HEAD).first()
    return Head(int(found[0]), str(found[1])) if found is not None else None


def _rows(connection: Connection) -> Iterator[ChainRow]:
    result = connection.execution_options(
        stream_results=True, yield_per=STREAM_BATCH
    ).execute(_ROWS)
    for row in result:
        yield ChainRow(row[0], row[3], row[1], row[2], row[3:])


def verify_chain(
    db: Database, progress: Callable[[int], None] | None = None
) -> tuple[Verification, Head | None]:
    """Walk the whole chain; the verdict and the chain head it started from."""
    with read_only_engine(db) as engine, engine.connect() as connection:
        head = read_head(connection)
        verdict = walk(
            _rows(connection),
            head,
            head_after=lambda: read_head(connection),
            progress=progress,
        )
    return verdict, head
