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

READS = PARTY_READS | LAWSUIT_READS | ORDER_READS | CONTRACT_READS | PROVISION_READS
EVERYTHING = READS | PARTY_WRITES | LAWSUIT_WRITES | ORDER_WRITES | CONTRACT_WRITES
EVERYTHING |= PROVISION_WRITES

ROLES: dict[str, frozenset[str]] = {
    "admin": EVERYTHING | PUNCH_READS | PUNCH_WRITES | EMPLOYEES,
    "finance_erp": EVERYTHING,
    "hr_system": PARTY_READS | PARTY_WRITES | PUNCH_READS | PUNCH_WRITES | EMPLOYEES,
    "auditor": READS | PUNCH_READS | EMPLOYEE_READS,
}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(sorted(ROLES))}")
    return role


def authorize(user: str, role: str, operation: str) -> None:
    """Raise ``AuthorizationError`` unless ``role`` may call ``operation``."""
    if operation not in ROLES.get(role, frozenset()):
        raise AuthorizationError(f"user {user} (role {role}) may not call {operation}")
