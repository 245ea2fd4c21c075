"""What every record family shares: bulk limits, duplicate keys, cursors."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from adapter.app.records import MAX_BULK, check_bulk_size, validate_all
from adapter.errors import ValidationError
from adapter.storage.paging import Cursor, decode_cursor, encode_cursor, page_size


def test_bulk_over_the_limit_is_refused_naming_the_limit() -> None:
    check_bulk_size([1] * MAX_BULK, "parties")
    with pytest.raises(
        ValidationError, match="parties: holds 10001 items; the limit is 10000"
    ):
        check_bulk_size([1] * (MAX_BULK + 1), "parties")
    with pytest.raises(ValidationError, match="parties: needs at least one item"):
        check_bulk_size([], "parties")


def test_bad_items_and_repeated_keys_are_refused_one_by_one() -> None:
    items = [SimpleNamespace(externalId=x) for x in ("a", "bad", "b", "a")]

    def validate(item: SimpleNamespace) -> str:
        if item.externalId == "bad":
            raise ValidationError("externalId", "is bad")
        return str(item.externalId)

    good, refused = validate_all(items, validate, lambda d: ("S", d))
    assert [i for i, _ in good] == [0, 2]
    assert refused[1].fault_code == "Client.Validation"
    assert "externalId: is bad" in (refused[1].message or "")
    assert "repeats item 0" in (refused[3].message or "")


def test_cursor_round_trips_and_garbage_is_refused() -> None:
    cursor = Cursor(dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC), "id-1")
    assert decode_cursor(encode_cursor(cursor)) == cursor
    assert decode_cursor(None) is None
    for garbage in ("garbage", "!!!", encode_cursor(cursor)[:-3]):
        with pytest.raises(ValidationError, match="cursor: is not a cursor"):
            decode_cursor(garbage)


def test_page_size_bounds() -> None:
    assert page_size(None) == 100
    assert page_size(1000) == 1000
    for bad in (0, 1001):
        with pytest.raises(
            ValidationError, match="pageSize: must be between 1 and 1000"
        ):
            page_size(bad)
