"""Core statements compiled once and run on a DBAPI cursor, for hot paths.

SQLAlchemy's work around each execution (about 20-40 µs a statement, and
70 µs to open and commit a transaction) is most of what a small call costs.
A ``Prepared`` statement is compiled once per dialect and keeps its columns'
own bind and result processors, so what reaches the database, and what comes
back, is exactly what SQLAlchemy would have sent and returned; only the
per-execution bookkeeping is skipped. ``Database.cursor()`` opens the
transaction these run in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, Insert, Table, bindparam, insert
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class RawTransaction:
    """A DBAPI cursor inside an open transaction, and its connection's dialect."""

    cursor: Any
    dialect: Dialect


class Compiled:
    """One statement compiled for one dialect."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, literal: bool
    ) -> None:
        options = {"literal_binds": True} if literal else {}
        compiled = cast(
            SQLCompiler, statement.compile(dialect=dialect, compile_kwargs=options)
        )
        self.sql = compiled.string
        self.positional = compiled.positional
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        self.names = (
            tuple(compiled.positiontup or ()) if compiled.positional else tuple(by_name)
        )
        self.binds: dict[str, Processor] = {
            name: _bind_processor(by_name[name], dialect) for name in self.names
        }
        # Values written into the statement itself (``.values(x=0)``, a LIMIT).
        self.fixed = {
            name: bind.value
            for name, bind in by_name.items()
            if not bind.required and bind.callable is None
        }
        self._types = [
            column.type.dialect_impl(dialect)
            for column in getattr(statement, "selected_columns", ())
        ]
        self._dialect = dialect
        self._results: tuple[Processor, ...] | None = None

    def params(self, values: Mapping[str, Any]) -> Any:
        """The DBAPI parameters for ``values``, each through its bind processor."""
        converted = {}
        for name, process in self.binds.items():
            value = values[name] if name in values else self.fixed[name]
            converted[name] = process(value) if process is not None else value
        if self.positional:
            return tuple(converted[name] for name in self.names)
        return converted

    def row(self, cursor: Any) -> tuple[Any, ...] | None:
        """The next row, each column through its result processor."""
        raw = cursor.fetchone()
        if raw is None:
            return None
        if self._results is None:
            # Some drivers' processors depend on the type code the database
            # reports (PostgreSQL's numerics): known once a row has come.
            self._results = tuple(
                kind.result_processor(self._dialect, column[1])
                for kind, column in zip(self._types, cursor.description, strict=True)
            )
        return tuple(
            process(value) if process is not None else value
            for process, value in zip(self._results, raw, strict=True)
        )


def _bind_processor(bind: BindParameter[Any], dialect: Dialect) -> Processor:
    # The dialect's own implementation of the type: what SQLAlchemy would use.
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


class Prepared:
    """A Core statement, compiled on first use for each dialect it meets.

    ``literal``: render bound values inline (a LIMIT that some dialects will
    not take as a parameter); only for statements without caller values.
    """

    def __init__(self, statement: ClauseElement, *, literal: bool = False) -> None:
        self.statement = statement
        self._literal = literal
        self._by_dialect: dict[tuple[str, str, str], Compiled] = {}
        self._lock = threading.Lock()

    def on(self, dialect: Dialect) -> Compiled:
        key = (dialect.name, dialect.driver, str(dialect.paramstyle))
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.setdefault(
                    key, Compiled(self.statement, dialect, self._literal)
                )
        return found

    def execute(self, tx: RawTransaction, values: Mapping[str, Any]) -> Any:
        """Run the statement; returns the cursor (``rowcount``, ``fetchall``)."""
        compiled = self.on(tx.dialect)
        tx.cursor.execute(compiled.sql, compiled.params(values))
        return tx.cursor

    def execute_many(
        self, tx: RawTransaction, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        compiled = self.on(tx.dialect)
        tx.cursor.executemany(compiled.sql, [compiled.params(row) for row in rows])

    def first(
        self, tx: RawTransaction, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row of a select, through the columns' result processors."""
        compiled = self.on(tx.dialect)
        tx.cursor.execute(compiled.sql, compiled.params(values))
        return compiled.row(tx.cursor)


def insert_values(table: Table, *, skip: Sequence[str] = ()) -> Insert:
    """An insert of every column of ``table`` but ``skip``, each bound by its key.

    Every value must be given (None for NULL): a column's Python-side default
    does not apply to a statement run this way.
    """
    return insert(table).values(
        {c.key: bindparam(c.key) for c in table.columns if c.key not in skip}
    )
