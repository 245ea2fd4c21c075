"""Roles and the operations each may call."""

from __future__ import annotations

from adapter.errors import AuthorizationError, ValidationError

PARTY_READS = frozenset({"GetParty", "QueryParties"})
PARTY_WRITES = frozenset({"UpsertParty", "UpsertParties", "DeleteParty"})
LAWSUIT_READS = frozenset({"GetLawsuit", "QueryLawsuits"})
LAWSUIT_WRITES = frozenset({"UpsertLawsuit", "UpsertLawsuits", "DeleteLawsuit"})
ORDER_READS = frozenset({"GetPaymentOrder"})
ORDER_WRITES = frozenset({"CreatePaymentOrder", "ApprovePaymentOrder"})

READS = PARTY_READS | LAWSUIT_READS | ORDER_READS
EVERYTHING = READS | PARTY_WRITES | LAWSUIT_WRITES | ORDER_WRITES

ROLES: dict[str, frozenset[str]] = {
    "admin": EVERYTHING,
    "finance_erp": EVERYTHING,
    "hr_system": PARTY_READS | PARTY_WRITES,
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
