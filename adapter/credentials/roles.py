"""Roles and the operations each may call."""

from __future__ import annotations

from adapter.errors import AuthorizationError, ValidationError

PARTY_READS = frozenset({"GetParty", "QueryParties"})
PARTY_WRITES = frozenset({"UpsertParty", "UpsertParties", "DeleteParty"})
LAWSUIT_READS = frozenset({"GetLawsuit", "QueryLawsuits"})
LAWSUIT_WRITES = frozenset({"UpsertLawsuit", "UpsertLawsuits", "DeleteLawsuit"})
ORDER_READS = frozenset({"GetPaymentOrder", "QueryPaymentOrders"})
ORDER_WRITES = frozenset(
    {
        "CreatePaymentOrder",
        "SubmitPaymentOrder",
        "ApprovePaymentOrder",
        "RejectPaymentOrder",
        "CancelPaymentOrder",
        "ConfirmPaymentOrderRegistered",
        "ConfirmPaymentOrderPaid",
        "DeletePaymentOrder",
        "CreatePaymentOrders",
    }
)
CONTRACT_READS = frozenset({"GetContract", "QueryContracts"})
CONTRACT_WRITES = frozenset(
    {"UpsertContract", "UpsertContracts", "DeleteContract", "AmendContract"}
)

# Punches hold employees' CPF/PIS: HR, admin and auditors only, not finance.
PUNCH_READS = frozenset({"GetTimePunch", "QueryTimePunches", "GetAfdFile"})
PUNCH_WRITES = frozenset({"UpsertTimePunches", "ImportAfdFile", "DeleteTimePunch"})

PROVISION_READS = frozenset({"GetProvision", "QueryProvisions", "GetProvisionHistory"})
PROVISION_WRITES = frozenset({"UpsertProvision", "UpsertProvisions", "DeleteProvision"})

# Employees hold CPFs: HR, admin and auditors only, not finance.
EMPLOYEE_READS = frozenset({"GetEmployee", "QueryEmployees"})
EMPLOYEE_WRITES = frozenset({"UpsertEmployee", "UpsertEmployees", "DeleteEmployee"})
EMPLOYEES = EMPLOYEE_READS | EMPLOYEE_WRITES

FINANCE = (
    PARTY_READS
    | PARTY_WRITES
    | LAWSUIT_READS
    | LAWSUIT_WRITES
    | ORDER_READS
    | ORDER_WRITES
    | CONTRACT_READS
    | CONTRACT_WRITES
    | PROVISION_READS
    | PROVISION_WRITES
)
HR = PARTY_READS | PARTY_WRITES | PUNCH_READS | PUNCH_WRITES | EMPLOYEES
READS = frozenset(op for op in FINANCE | HR if op.startswith(("Get", "Query")))
# The audit trail itself: auditors and admins only, never an integration.
AUDIT_READS = frozenset({"QueryAuditEntries"})

ROLES: dict[str, frozenset[str]] = {
    "admin": FINANCE | HR | AUDIT_READS,
    "finance_erp": FINANCE,
    "hr_system": HR,
    "auditor": READS | AUDIT_READS,
}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(sorted(ROLES))}")
    return role


def authorize(user: str, role: str, operation: str) -> None:
    """Raise ``AuthorizationError`` unless ``role`` may call ``operation``."""
    if operation not in ROLES.get(role, frozenset()):
        raise AuthorizationError(f"user {user} (role {role}) may not call {operation}")
