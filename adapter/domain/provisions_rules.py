"""The one provision rule other records depend on."""

from __future__ import annotations

from decimal import Decimal


def is_open_provision(classification: str, amount: Decimal) -> bool:
    """A provision is open while it is probable and recognised with an amount."""
    return classification == "probable" and amount > 0
