"""Statements prepared for the DBAPI cursor store and read what SQLAlchemy does.

The hot paths (login, nonce, a new payment order, an audit entry) skip
SQLAlchemy's per-execution work; these tests hold them to the same bytes in
the database and the same values back, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapter.storage.cursor import Prepared, insert_values
from adapter.storage.db import Database
from adapter.storage.models import UtcDateTime

METADATA = MetaData()
SAMPLE = Table(
    "prepared_sample",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), unique=True, nullable=False),
    Column("at", UtcDateTime),
    Column("amount", Numeric(17, 2)),
    Column("due", Date),
    Column("note", String(50)),
    Column("hits", Integer, nullable=False, default=0),
)
INSERT = Prepared(insert_values(SAMPLE, skip=("id",)))
BY_CODE = Prepared(
    select(SAMPLE.c.at, SAMPLE.c.amount, SAMPLE.c.due, SAMPLE.c.note, SAMPLE.c.hits)
    .where(SAMPLE.c.code == bindparam("code"))
    .limit(1)
)
RESET = Prepared(
    update(SAMPLE).where(SAMPLE.c.code == bindparam("code")).values(hits=7, note=None)
)
AT = dt.datetime(2026, 12, 3, 17, 5, 9, 123456, tzinfo=dt.UTC)
VALUES = {
    "at": AT,
    "amount": Decimal("1234567.89"),
    "due": dt.date(2027, 1, 31),
    "note": "ação",
    "hits": 3,
}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    METADATA.create_all(database.engine)
    yield database
    database.dispose()


def _stored(db: Database, code: str) -> tuple[object, ...]:
    """The row as the driver returns it, without SQLAlchemy's type processing."""
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT at, amount, due, note, hits FROM prepared_sample"
                " WHERE code = :c"
            ),
            {"c": code},
        ).one()
    return tuple(row)


def test_a_prepared_insert_stores_what_sqlalchemy_stores(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(insert(SAMPLE), {"code": "core", **VALUES})
    with db.cursor() as tx:
        INSERT.execute(tx, {"code": "prepared", **VALUES})

    assert _stored(db, "prepared") == _stored(db, "core")


def test_a_prepared_select_returns_what_sqlalchemy_returns(db: Database) -> None:
    with db.cursor() as tx:
        INSERT.execute(tx, {"code": "x", **VALUES})
        found = BY_CODE.first(tx, {"code": "x"})
        missing = BY_CODE.first(tx, {"code": "nobody"})
    with db.engine.connect() as connection:
        expected = connection.execute(BY_CODE.statement, {"code": "x"}).one()

    assert found == tuple(expected)
    assert found == (AT, Decimal("1234567.89"), dt.date(2027, 1, 31), "ação", 3)
    assert isinstance(found[0], dt.datetime) and found[0].tzinfo is not None
    assert missing is None


def test_values_written_into_a_statement_are_sent(db: Database) -> None:
    with db.cursor() as tx:
        INSERT.execute(tx, {"code": "r", **VALUES})
        changed = RESET.execute(tx, {"code": "r"}).rowcount
        after = BY_CODE.first(tx, {"code": "r"})

    assert changed == 1
    assert after is not None and after[3:] == (None, 7)


def test_a_failing_block_rolls_back_and_a_duplicate_is_sqlalchemys_error(
    db: Database,
) -> None:
    with db.cursor() as tx:
        INSERT.execute(tx, {"code": "one", **VALUES})
    with pytest.raises(RuntimeError), db.cursor() as tx:
        INSERT.execute(tx, {"code": "two", **VALUES})
        raise RuntimeError("the use case failed")
    with pytest.raises(IntegrityError), db.cursor() as tx:
        INSERT.execute(tx, {"code": "three", **VALUES})
        INSERT.execute(tx, {"code": "one", **VALUES})

    with db.engine.connect() as connection:
        codes = connection.execute(select(SAMPLE.c.code)).scalars().all()
    assert codes == ["one"]


def test_every_value_must_be_given(db: Database) -> None:
    # A column default does not apply on this path: a forgotten column is an
    # error, not a silent NULL, and nothing is written.
    values = {"code": "short", **VALUES}
    del values["hits"]
    with pytest.raises(KeyError, match="hits"), db.cursor() as tx:
        INSERT.execute(tx, values)

    with db.engine.connect() as connection:
        assert connection.execute(select(SAMPLE.c.code)).all() == []
