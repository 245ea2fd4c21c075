"""The hash chain of the audit trail: how an entry is hashed, and the walk that
checks a whole chain.

Entry ``n`` (``seq`` n, from 1) stores ``prev_hash``, the ``hash`` of entry
``n - 1`` (64 zeros for the first), and ``hash``::

    SHA-256( UTF-8( JSON [1, seq, at, actor, channel, action, record_type,
                          record_id, outcome, fault_code, correlation_id,
                          client_address, duration_ms, detail, request_sha256,
                          response_sha256, prev_hash] ) )

as lowercase hex: a JSON array without spaces (``separators=(",", ":")``,
``ensure_ascii=False``), ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC,
absent values as ``null``, ``detail`` as the stored JSON text. The leading
``1`` is the version of this serialisation. Anyone holding an export can
recompute the chain with these rules; nothing here is secret.

This module imports nothing of Ponte's: the migration that chained the
entries written before the chain existed uses it too, and it must hash the
same way for as long as those entries are kept.

What the walk reports (``Break.kind``):

- ``changed``: an entry's fields no longer give its hash, or an entry was
  changed and its hash recomputed (the next entry names the old hash);
- ``missing``: a gap in ``seq``, or the chain ends before its head;
- ``inserted``: two entries claim one ``seq``, or entries follow the head;
- ``head``: the chain head does not name the entry at its ``seq``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

VERSION = 1
GENESIS = "0" * 64

# The stored fields that are hashed, in order, between the version and prev_hash.
HASHED = (
    "seq",
    "at",
    "actor",
    "channel",
    "action",
    "record_type",
    "record_id",
    "outcome",
    "fault_code",
    "correlation_id",
    "client_address",
    "duration_ms",
    "detail",
    "request_sha256",
    "response_sha256",
)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def instant(at: dt.datetime) -> str:
    """``at`` as the chain writes it: UTC, microseconds, ``Z``."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an entry whose stored fields are ``values`` (by column name)."""
    return fields_hash(tuple(values[name] for name in HASHED), prev_hash)


def fields_hash(fields: Sequence[Any], prev_hash: str) -> str:
    """The hash of an entry whose stored fields are ``fields``, in ``HASHED`` order."""
    items = [VERSION, *fields, prev_hash]
    items[2] = instant(items[2])  # at
    return hashlib.sha256(_dumps(items).encode("utf-8")).hexdigest()


class ChainRow(NamedTuple):
    """An entry as the walk reads it: id, link fields, and the hashed fields
    in ``HASHED`` order (``seq`` among them)."""

    id: int
    seq: int
    prev_hash: str
    hash: str
    fields: Sequence[Any]


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    kind: str  # changed, missing, inserted, head
    seq: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    """What a walk found: how far the chain holds, and where it breaks."""

    checked: int
    last_seq: int
    last_hash: str
    broken: Break | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _entry(row: ChainRow) -> str:
    return f"entry {row.id} (seq {row.seq})"


class _Walk:
    """Checks rows one by one, in the order appended, against the ones before."""

    def __init__(self) -> None:
        self.checked = 0
        self.last: ChainRow | None = None
        self.earlier: dict[str, ChainRow] = {}  # hash -> row, the last few

    @property
    def expected(self) -> int:
        return self.last.seq + 1 if self.last is not None else 1

    @property
    def prev_hash(self) -> str:
        return self.last.hash if self.last is not None else GENESIS

    def step(self, row: ChainRow) -> Break | None:
        broken = self._own_hash(row) or self._order(row) or self._link(row)
        if broken is None:
            self._accept(row)
        return broken

    def _order(self, row: ChainRow) -> Break | None:
        last, expected = self.last, self.expected
        if row.seq > expected:
            after = f"after {_entry(last)}" if last is not None else "at the start"
            return Break(
                "missing",
                expected,
                None,
                f"entries seq {expected} to {row.seq - 1} are missing {after}; "
                f"{_entry(row)} comes next",
            )
        if row.seq < expected:
            if last is not None and last.seq == row.seq:
                reason = (
                    f"{_entry(last)} and {_entry(row)} claim the same place in "
                    "the chain: one of them was inserted"
                )
            else:
                reason = (
                    f"{_entry(row)} follows seq {expected - 1} but claims seq "
                    f"{row.seq}, which an earlier entry holds: it was inserted"
                )
            return Break("inserted", row.seq, row.id, reason)
        return None

    def _own_hash(self, row: ChainRow) -> Break | None:
        if fields_hash(row.fields, row.prev_hash) == row.hash:
            return None
        return Break(
            "changed",
            row.seq,
            row.id,
            f"{_entry(row)} was changed: its fields do not give its hash",
        )

    def _link(self, row: ChainRow) -> Break | None:
        if row.prev_hash == self.prev_hash:
            return None
        last = self.last
        if last is None:
            return Break(
                "changed",
                row.seq,
                row.id,
                f"{_entry(row)} is first but does not start from the genesis hash",
            )
        skipped = self.earlier.get(row.prev_hash)
        if skipped is not None:
            return Break(
                "inserted",
                last.seq,
                last.id,
                f"{_entry(last)} was inserted: {_entry(row)} follows "
                f"{_entry(skipped)} directly",
            )
        return Break(
            "changed",
            last.seq,
            last.id,
            f"{_entry(last)} was changed and its hash recomputed: "
            f"{_entry(row)} names another hash for it",
        )

    def _accept(self, row: ChainRow) -> None:
        self.checked += 1
        if self.last is not None:
            self.earlier[self.last.hash] = self.last
            if len(self.earlier) > 8:
                del self.earlier[next(iter(self.earlier))]
        self.last = row


def walk(
    rows: Iterable[ChainRow],
    head: Head | None,
    head_after: Callable[[], Head | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check ``rows`` (every entry, in the order appended) and the chain head.

    ``head`` is the chain head read before the rows; ``head_after`` reads it
    again once they are done: entries appended in between are checked like
    the others, and entries past the head read last were not appended by
    Ponte's writer. ``progress`` is called with the count checked every
    10,000 entries.
    """
    state = _Walk()
    for row in rows:
        broken = state.step(row)
        if broken is not None:
            return _result(state, broken)
        if head is not None and row.seq == head.seq and row.hash != head.hash:
            return _result(state, _off_head(row, head))
        if progress is not None and state.checked % 10_000 == 0:
            progress(state.checked)
    later = head_after() if head_after is not None else head
    return _result(state, _ends(state, head, later))


def _off_head(row: ChainRow, head: Head) -> Break:
    return Break(
        "head",
        row.seq,
        row.id,
        f"{_entry(row)} is not the entry the chain head names (hash {head.hash}): "
        "it was replaced, or the entries after it were removed",
    )


def _ends(state: _Walk, head: Head | None, head_after: Head | None) -> Break | None:
    """The chain must reach its head and go no further than it."""
    last_seq = state.last.seq if state.last is not None else 0
    if head is None and last_seq > 0:
        return Break(
            "head",
            last_seq,
            None,
            "the chain head is missing: entries at the end of the chain may have "
            "been removed",
        )
    if head is not None and last_seq < head.seq:
        return Break(
            "missing",
            last_seq + 1,
            None,
            f"the chain head is at seq {head.seq} but the last entry is seq "
            f"{last_seq}: entries seq {last_seq + 1} to {head.seq} are missing",
        )
    if head_after is not None and last_seq > head_after.seq:
        return Break(
            "inserted",
            head_after.seq + 1,
            None,
            f"entries seq {head_after.seq + 1} to {last_seq} follow the chain head "
            f"(seq {head_after.seq}): they were not appended by Ponte's writer",
        )
    return None


def _result(state: _Walk, broken: Break | None) -> Verification:
    last = state.last
    return Verification(
        state.checked,
        last.seq if last is not None else 0,
        last.hash if last is not None else GENESIS,
        broken,
    )
