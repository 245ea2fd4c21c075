"""What an audit entry says about a change to a record: each field changed,
before and after, personal data masked.

``adapter.app.records.apply_fields`` records only the new values today; it can
hand its work to ``apply_changes`` to record both (the detail of an update then
reads ``{"name": {"before": "Maria", "after": "Maria S."}}``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from adapter.domain.identifiers import mask_tax_id

# Fields whose values are personal data (a CPF, or a document that may be one).
PERSONAL = frozenset({"tax_id", "holder_tax_id", "cpf", "employee_cpf"})


def _shown(name: str, value: Any, personal: Collection[str]) -> Any:
    if name in personal and isinstance(value, str) and value:
        return mask_tax_id(value)
    return value


def apply_changes(
    row: Any, values: Mapping[str, Any], personal: Collection[str] = PERSONAL
) -> dict[str, dict[str, Any]]:
    """Set ``values`` on ``row``; return each changed field's before and after."""
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        before = getattr(row, name, None)
        if before != value:
            changes[name] = {
                "before": _shown(name, before, personal),
                "after": _shown(name, value, personal),
            }
            setattr(row, name, value)
    return changes
