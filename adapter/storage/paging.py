"""Keyset paging in a stable order: ``(updated_at, id)``.

A cursor names the last row of a page; the next page starts after it. Rows
changed while a client pages move to the end, so an incremental sync that
pages with ``modifiedSince`` sees every change once it reaches the end.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_

from adapter.errors import ValidationError

MAX_PAGE = 1000


@dataclass(frozen=True)
class Cursor:
    updated_at: dt.datetime
    id: str


def encode_cursor(cursor: Cursor) -> str:
    text = f"{cursor.updated_at.astimezone(dt.UTC).isoformat()}|{cursor.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, field: str = "cursor") -> Cursor | None:
    """The cursor a previous page returned; ``ValidationError`` if it is not one."""
    if not value:
        return None
    try:
        padded = value + "=" * (-len(value) % 4)
        stamp, _, key = base64.urlsafe_b64decode(padded).decode().partition("|")
        moment = dt.datetime.fromisoformat(stamp)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError(
            field, "is not a cursor returned by a previous page"
        ) from None
    if not key or moment.tzinfo is None:
        raise ValidationError(field, "is not a cursor returned by a previous page")
    return Cursor(moment, key)


def page_size(value: int | None, field: str = "pageSize") -> int:
    if value is None:
        return 100
    if not 1 <= value <= MAX_PAGE:
        raise ValidationError(field, f"must be between 1 and {MAX_PAGE}")
    return value


def keyset(
    query: Select[Any], model: Any, cursor: Cursor | None, size: int
) -> Select[Any]:
    """``query`` ordered by ``(updated_at, id)``, after ``cursor``, one extra row."""
    if cursor is not None:
        query = query.where(
            or_(
                model.updated_at > cursor.updated_at,
                and_(model.updated_at == cursor.updated_at, model.id > cursor.id),
            )
        )
    return query.order_by(model.updated_at, model.id).limit(size + 1)


def next_cursor(rows: list[Any], size: int) -> str | None:
    """Drop the extra row; the cursor of the last kept row if there was one."""
    if len(rows) <= size:
        return None
    del rows[size:]
    last = rows[-1]
    return encode_cursor(Cursor(last.updated_at, last.id))
