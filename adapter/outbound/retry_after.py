"""Reading a partner's ``Retry-After`` header (RFC 9110 §10.2.3)."""

from __future__ import annotations

import datetime as dt
import email.utils


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from ``now``; ``None`` when absent or unreadable.

    The header is either a number of seconds or an HTTP date; a date in the
    past means "now" (0 s).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())
