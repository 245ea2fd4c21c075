"""Roles and the operations each may call."""

from __future__ import annotations

from adapter.errors import AuthorizationError, ValidationError

READS = frozenset({"GetParty", "GetPaymentOrder"})
FINANCE = READS | {"UpsertParty", "CreatePaymentOrder", "ApprovePaymentOrder"}

ROLES: dict[str, frozenset[str]] = {
    "admin": FINANCE,
    "finance_erp": FINANCE,
    "hr_system": frozenset({"UpsertParty", "GetParty"}),
    "auditor": READS,
}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(sorted(ROLES))}")
    return role


def authorize(user: str, role: str, operation: str) -> None:
    """Raise ``AuthorizationError`` unless ``role`` may call ``operation``."""
    if operation not in ROLES.get(role, frozenset()):
        raise AuthorizationError(f"user {user} (role {role}) may not call {operation}")
