"""The engine, sessions and schema migrations.

SQLite runs in WAL mode with ``synchronous=NORMAL`` and every transaction
starts with ``BEGIN IMMEDIATE``: a transaction that reads and then writes
cannot be refused the upgrade to writer ("database is locked").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
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


class Database:
    """Engine plus session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def prepare(self) -> None:
        """Wait for the database and migrate it; call once at start-up."""
        wait_for_database(self.engine)
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one transaction, for hot paths without the ORM.

        A Session's unit of work costs about 0.3 ms a transaction on top of
        the statements; per-call work such as checking a password and
        storing its nonce does not need it.
        """
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def cursor(self) -> Iterator[RawTransaction]:
        """A DBAPI cursor in one transaction, with the dialect to prepare for.

        For the few statements every call runs (``storage.cursor.Prepared``):
        a pooled connection without SQLAlchemy's per-statement work. Commits
        when the block ends, rolls back when it raises; a driver error comes
        out as SQLAlchemy's own exception (``IntegrityError`` and so on).
        """
        dialect = self.engine.dialect
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                if dialect.name == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                yield RawTransaction(cursor, dialect)
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                None, None, exc, dialect.loaded_dbapi.Error
            ) from exc
        finally:
            raw.close()

    def dispose(self) -> None:
        self.engine.dispose()
