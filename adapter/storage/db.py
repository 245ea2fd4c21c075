"""The engine, sessions and schema migrations.

SQLite runs in WAL mode with ``synchronous=NORMAL`` and every transaction
starts with ``BEGIN IMMEDIATE``: a transaction that reads and then writes
cannot be refused the upgrade to writer ("database is locked").

An inbound call's own small writes (the nonce its login used) are deferred
into the call's first write transaction (``Database.defer``), so a call
commits once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from adapter.storage.cursor import RawTransaction

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so "begin" below decides it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@retry(
    retry=retry_if_exception_type(OperationalError),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(30),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)
def wait_for_database(engine: Engine) -> None:
    """Retry the first connection for up to 30 s (a database still starting)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revisions (creates it on first start).

    "heads": record families may add migrations on branches of their own.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


DeferredWrite = Callable[[RawTransaction], None]


def _run(writes: list[DeferredWrite], tx: RawTransaction) -> None:
    for write in writes:
        write(tx)


def _run_on(connection: Connection, writes: list[DeferredWrite]) -> None:
    cursor = connection.connection.cursor()
    try:
        _run(writes, RawTransaction(cursor, connection.dialect))
    finally:
        cursor.close()


class Database:
    """Engine plus session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._pending: ContextVar[list[DeferredWrite] | None] = ContextVar(
            f"ponte_deferred_{id(self)}", default=None
        )

    def prepare(self) -> None:
        """Wait for the database and migrate it; call once at start-up."""
        wait_for_database(self.engine)
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        writes = self._take_deferred()
        try:
            with self._sessions() as session, session.begin():
                if writes:
                    _run_on(session.connection(), writes)
                yield session
        except BaseException:
            self._give_back(writes)
            raise

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one transaction, without the ORM's unit of work."""
        writes = self._take_deferred()
        try:
            with self.engine.begin() as connection:
                if writes:
                    _run_on(connection, writes)
                yield connection
        except BaseException:
            self._give_back(writes)
            raise

    @contextmanager
    def cursor(self, *, write: bool = True) -> Iterator[RawTransaction]:
        """A DBAPI cursor in one transaction, with the dialect to prepare for.

        For the few statements every call runs (``storage.cursor.Prepared``):
        a pooled connection without SQLAlchemy's per-statement work. Commits
        when the block ends, rolls back when it raises; a driver error comes
        out as SQLAlchemy's own exception (``IntegrityError`` and so on).
        ``write=False``: a read, which on SQLite does not take the writer's
        lock, and does not carry the call's deferred writes.
        """
        dialect = self.engine.dialect
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            writes = self._take_deferred() if write else []
            try:
                if write and dialect.name == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                tx = RawTransaction(cursor, dialect)
                _run(writes, tx)
                yield tx
                raw.commit()
            except BaseException:
                raw.rollback()
                self._give_back(writes)
                raise
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                None, None, exc, dialect.loaded_dbapi.Error
            ) from exc
        finally:
            raw.close()

    # Writes that ride with a call's own transaction

    def defer(self, write: DeferredWrite) -> None:
        """Store ``write`` in the current call's next transaction.

        Inside ``call()``, ``write`` runs first in the next write transaction
        the call opens (any of the three kinds above) and commits or rolls
        back with it; after a rollback, its own or the work's, it waits for
        the next one. A failed call tries ``store_deferred()`` and, when that
        fails too, ``drop_deferred()`` before it audits the failure. Outside
        a call it runs at once, in a transaction of its own.

        Authentication stores the request's nonce this way: one transaction
        a call instead of two.
        """
        pending = self._pending.get()
        if pending is None:
            with self.cursor() as tx:
                write(tx)
        else:
            pending.append(write)

    @contextmanager
    def call(self) -> Iterator[None]:
        """The scope of one inbound call's deferred writes.

        Call ``store_deferred()`` before the call succeeds; what is still
        pending when the scope ends is dropped, with a warning.
        """
        token = self._pending.set([])
        try:
            yield
        finally:
            left = self._pending.get()
            self._pending.reset(token)
            if left:
                log.warning("%d deferred write(s) left at the end of a call", len(left))

    def store_deferred(self) -> None:
        """Store, in a transaction of their own, the writes no transaction took."""
        if self._pending.get():
            with self.cursor():
                pass

    def drop_deferred(self) -> int:
        """Forget the call's pending writes (they cannot be stored); how many."""
        pending = self._pending.get()
        dropped = len(pending or ())
        if pending:
            pending.clear()
        return dropped

    def _take_deferred(self) -> list[DeferredWrite]:
        pending = self._pending.get()
        if not pending:
            return []
        taken = list(pending)
        pending.clear()
        return taken

    def _give_back(self, writes: list[DeferredWrite]) -> None:
        pending = self._pending.get()
        if writes and pending is not None:
            pending[:0] = writes

    def dispose(self) -> None:
        self.engine.dispose()
