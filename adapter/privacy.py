"""Personal data (LGPD): CPFs masked in what Ponte shows, keyed hashes of a CPF
for targets that must not receive it, and the report for a data subject.

- ``mask_cpfs`` rewrites anything shaped like a CPF to ``***.456.789-**``
  (only the middle digits), as the log filter does (``adapter.logs``). The
  audit writer applies it before an entry is stored; audit views and exports
  apply it again, for entries written before it did.
- ``SubjectKeys.key`` is HMAC-SHA256 of the normalised CPF (11 digits) under a
  secret kept in ``DATA_DIR/subject.key`` (or ``audit.subject_key_file``),
  shared with the one system that must recognise the person (an access-control
  gate computes the same HMAC from the document it reads). A plain hash would
  not do: there are about 10⁹ CPFs, so an unkeyed hash is reversed by trying
  them all.
- ``xslt_extensions`` gives mappings the XPath functions ``subject-key(cpf)``
  and ``mask-cpf(text)`` in the namespace ``urn:ponte:privacy``.
- ``privacy_report`` gathers every record, flag and delivery that concerns
  one CPF (``ponte privacy report CPF``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from adapter.domain.identifiers import mask_cpf, normalize_cpf
from adapter.errors import ConfigurationError

_CPF = re.compile(r"(?<![\dA-Za-z])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\dA-Za-z])")

XSLT_NS = "urn:ponte:privacy"
SUBJECT_KEY_FILE = "subject.key"
MIN_SECRET_BYTES = 32


def mask_cpfs(text: str) -> str:
    """``text`` with everything shaped like a CPF as ``***.456.789-**``."""
    return _CPF.sub(lambda m: f"***.{m.group(2)}.{m.group(3)}-**", text)


def mask_cpfs_in(value: Any) -> Any:
    """``mask_cpfs`` over the strings of a JSON-like value (dicts, lists)."""
    if isinstance(value, str):
        return mask_cpfs(value)
    if isinstance(value, dict):
        return {key: mask_cpfs_in(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_cpfs_in(item) for item in value]
    return value


# Keyed hashes of a CPF


class SubjectKeys:
    """Keyed hashes of CPFs under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"the subject key secret must have at least {MIN_SECRET_BYTES} bytes"
            )
        self._secret = secret

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> SubjectKeys:
        """The secret in ``path`` (hex); a new one is written there if missing."""
        if not path.exists():
            if not create:
                raise ConfigurationError(f"no subject key secret at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process wrote it first
                return cls.from_file(path, create=False)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
        try:
            secret = bytes.fromhex(path.read_text().strip())
        except ValueError as exc:
            raise ConfigurationError(f"{path} does not hold a hex secret") from exc
        return cls(secret)

    @classmethod
    def from_settings(cls, settings: Any) -> SubjectKeys:
        """The secret of ``audit.subject_key_file``, else ``DATA_DIR/subject.key``."""
        configured = settings.audit.subject_key_file
        if configured is not None:
            return cls.from_file(configured, create=False)
        return cls.from_file(Path(settings.data_dir) / SUBJECT_KEY_FILE)

    def key(self, cpf: str) -> str:
        """HMAC-SHA256 (hex) of the CPF's 11 digits; ``ValidationError`` if not one."""
        digits = normalize_cpf(cpf, "cpf").encode("ascii")
        return hmac.new(self._secret, digits, hashlib.sha256).hexdigest()


def _xpath_text(value: Any) -> str:
    """An XPath argument as a string: a node-set gives its first node's text."""
    if isinstance(value, list):
        if not value:
            return ""
        value = value[0]
    itertext = getattr(value, "itertext", None)
    return "".join(itertext()) if itertext is not None else str(value)


def xslt_extensions(keys: SubjectKeys) -> dict[tuple[str, str], Callable[..., str]]:
    """XPath functions for ``lxml.etree.XSLT(..., extensions=...)``.

    In a stylesheet that declares ``xmlns:privacy="urn:ponte:privacy"`` (and
    ``exclude-result-prefixes="privacy"``):

    - ``privacy:subject-key(ev:cpf)``: the keyed hash of the CPF; a value that
      is not a valid CPF stops the mapping (``ValidationError``), so nothing
      half-keyed is sent;
    - ``privacy:mask-cpf(text)``: the text with its CPFs masked.
    """

    def subject_key(_context: Any, value: Any) -> str:
        return keys.key(_xpath_text(value).strip())

    def mask(_context: Any, value: Any) -> str:
        return mask_cpfs(_xpath_text(value))

    return {(XSLT_NS, "subject-key"): subject_key, (XSLT_NS, "mask-cpf"): mask}


# The report for a data subject


@dataclass
class PrivacyReport:
    """Everything Ponte holds that concerns one person, found by CPF.

    Sections hold plain dicts (ready for JSON); CPFs in them are masked.
    """

    cpf: str  # masked
    subject_key: str
    parties: list[dict[str, Any]] = field(default_factory=list)
    employees: list[dict[str, Any]] = field(default_factory=list)
    time_punches: dict[str, Any] = field(default_factory=dict)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    payment_orders: list[dict[str, Any]] = field(default_factory=list)
    lawsuits: list[dict[str, Any]] = field(default_factory=list)
    access_flags: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    audit_entries: int = 0

    @property
    def found_anything(self) -> bool:
        return bool(
            self.parties
            or self.employees
            or self.time_punches.get("count")
            or self.contracts
            or self.payment_orders
            or self.access_flags
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpf": self.cpf,
            "subjectKey": self.subject_key,
            "parties": self.parties,
            "employees": self.employees,
            "timePunches": self.time_punches,
            "contracts": self.contracts,
            "paymentOrders": self.payment_orders,
            "lawsuits": self.lawsuits,
            "accessFlags": self.access_flags,
            "deliveries": self.deliveries,
            "auditEntries": self.audit_entries,
        }


def _when(moment: dt.datetime | dt.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()


def _account(number: str) -> str:
    """A bank account as ``****1234``: enough to recognise, not to use."""
    digits = re.sub(r"\W", "", number)
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def privacy_report(session: Session, cpf: str, keys: SubjectKeys) -> PrivacyReport:
    """Every record, flag and delivery that concerns the person with ``cpf``.

    Raises ``ValidationError`` when ``cpf`` is not a valid CPF.
    """
    digits = normalize_cpf(cpf, "cpf")
    report = PrivacyReport(mask_cpf(digits), keys.key(digits))
    party_ids = _parties(session, digits, report)
    _employees(session, digits, report)
    _punches(session, digits, report)
    contract_ids = _contracts(session, digits, report)
    order_ids, cnj_numbers = _payment_orders(session, digits, party_ids, report)
    flag_lawsuits, flag_contracts = _access_flags(session, digits, party_ids, report)
    contract_ids += [c for c in flag_contracts if c not in contract_ids]
    _lawsuits(session, cnj_numbers, flag_lawsuits, report)
    keys_of_events = (
        [f"person:{p}" for p in party_ids]
        + [f"payment_order:{o}" for o in order_ids]
        + [f"contract:{c}" for c in contract_ids]
    )
    _deliveries(session, keys_of_events, report)
    record_ids = [
        *party_ids,
        *order_ids,
        *contract_ids,
        *(e["id"] for e in report.employees),
        *(f["id"] for f in report.access_flags),
    ]
    report.audit_entries = _audit_count(session, record_ids)
    return report


def _parties(session: Session, digits: str, report: PrivacyReport) -> list[str]:
    from adapter.storage.models import Party

    rows = session.scalars(
        select(Party).where(Party.tax_id == digits).order_by(Party.created_at)
    ).all()
    for p in rows:
        report.parties.append(
            {
                "id": p.id,
                "key": f"{p.source_system}/{p.external_id}",
                "kind": p.kind,
                "name": p.name,
                "bankAccounts": [
                    f"{a.bank_code} {a.agency} {_account(a.account)}"
                    for a in p.bank_accounts
                ],
                "createdAt": _when(p.created_at),
                "updatedAt": _when(p.updated_at),
                "deletedAt": _when(p.deleted_at),
            }
        )
    return [p.id for p in rows]


def _employees(session: Session, digits: str, report: PrivacyReport) -> None:
    from adapter.storage.models_employees import Employee

    rows = session.scalars(
        select(Employee).where(Employee.cpf == digits).order_by(Employee.created_at)
    )
    for e in rows:
        report.employees.append(
            {
                "id": e.id,
                "key": f"{e.source_system}/{e.external_id}",
                "name": e.name,
                "employer": e.employer_tax_id,
                "registration": e.registration_number,
                "admission": _when(e.admission_date),
                "termination": _when(e.termination_date),
                "deletedAt": _when(e.deleted_at),
            }
        )


def _punches(session: Session, digits: str, report: PrivacyReport) -> None:
    from adapter.storage.models_punches import TimePunch

    count, first, last = session.execute(
        select(
            func.count(TimePunch.id),
            func.min(TimePunch.punched_at),
            func.max(TimePunch.punched_at),
        ).where(TimePunch.employee_cpf == digits)
    ).one()
    report.time_punches = {"count": count, "first": _when(first), "last": _when(last)}


def _contracts(session: Session, digits: str, report: PrivacyReport) -> list[str]:
    from adapter.storage.models_contracts import Contract, ContractParty

    rows = session.execute(
        select(Contract, ContractParty.role)
        .join(ContractParty, ContractParty.contract_id == Contract.id)
        .where(ContractParty.tax_id == digits)
        .order_by(Contract.created_at)
    ).all()
    for contract, role in rows:
        report.contracts.append(
            {
                "id": contract.id,
                "key": f"{contract.source_system}/{contract.external_id}",
                "number": contract.number,
                "role": role,
                "status": contract.status,
                "startDate": _when(contract.start_date),
                "endDate": _when(contract.end_date),
                "deletedAt": _when(contract.deleted_at),
            }
        )
    return list(dict.fromkeys(c["id"] for c in report.contracts))


def _payment_orders(
    session: Session, digits: str, party_ids: Sequence[str], report: PrivacyReport
) -> tuple[list[str], list[str]]:
    from adapter.storage.models import PaymentOrder
    from adapter.storage.models_payment_orders import PaymentOrderDetail

    holder = select(PaymentOrderDetail.order_id).where(
        PaymentOrderDetail.holder_tax_id == digits
    )
    rows = session.scalars(
        select(PaymentOrder)
        .where(
            or_(
                PaymentOrder.beneficiary_id.in_(list(party_ids)),
                PaymentOrder.id.in_(holder),
            )
        )
        .order_by(PaymentOrder.created_at)
    ).all()
    for o in rows:
        report.payment_orders.append(
            {
                "id": o.id,
                "key": f"{o.source_system}/{o.external_id}",
                "lawsuitNumber": o.lawsuit_number,
                "type": o.type,
                "amount": f"{o.amount:.2f}",
                "status": o.status,
                "createdAt": _when(o.created_at),
            }
        )
    return [o.id for o in rows], list(dict.fromkeys(o.lawsuit_number for o in rows))


def _access_flags(
    session: Session, digits: str, party_ids: Sequence[str], report: PrivacyReport
) -> tuple[list[str], list[str]]:
    from adapter.storage.models_access import AccessFlag

    rows = session.scalars(
        select(AccessFlag)
        .where(or_(AccessFlag.cpf == digits, AccessFlag.party_id.in_(list(party_ids))))
        .order_by(AccessFlag.created_at)
    ).all()
    for f in rows:
        report.access_flags.append(
            {
                "id": f.id,
                "party": f.party_id,
                "purpose": f.purpose,
                "justification": f"{f.justification}:{f.justification_id}",
                "validUntil": _when(f.valid_until),
                "createdAt": _when(f.created_at),
                "endedAt": _when(f.ended_at),
                "endReason": f.end_reason,
            }
        )
    lawsuits = [f.justification_id for f in rows if f.justification == "lawsuit"]
    contracts = [f.justification_id for f in rows if f.justification == "contract"]
    return list(dict.fromkeys(lawsuits)), list(dict.fromkeys(contracts))


def _lawsuits(
    session: Session,
    cnj_numbers: Sequence[str],
    lawsuit_ids: Sequence[str],
    report: PrivacyReport,
) -> None:
    from adapter.storage.models import Lawsuit

    rows = session.scalars(
        select(Lawsuit)
        .where(
            or_(
                Lawsuit.cnj_number.in_(list(cnj_numbers)),
                Lawsuit.id.in_(list(lawsuit_ids)),
            )
        )
        .order_by(Lawsuit.created_at)
    ).all()
    for law in rows:
        why = []
        if law.cnj_number in cnj_numbers:
            why.append("payment order")
        if law.id in lawsuit_ids:
            why.append("access flag")
        report.lawsuits.append(
            {
                "id": law.id,
                "key": f"{law.source_system}/{law.external_id}",
                "cnjNumber": law.cnj_number,
                "area": law.area,
                "status": law.status,
                "linkedBy": ", ".join(why),
            }
        )


def _deliveries(
    session: Session, business_keys: Iterable[str], report: PrivacyReport
) -> None:
    from adapter.storage.models import Delivery, OutboxEvent

    wanted = list(business_keys)
    if not wanted:
        return
    rows = session.execute(
        select(Delivery, OutboxEvent.type)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .where(OutboxEvent.business_key.in_(wanted))
        .order_by(Delivery.created_at)
    ).all()
    for delivery, event_type in rows:
        report.deliveries.append(
            {
                "id": delivery.id,
                "target": delivery.target,
                "event": event_type,
                "businessKey": delivery.business_key,
                "status": delivery.status,
                "attempts": delivery.attempt_count,
                "createdAt": _when(delivery.created_at),
            }
        )


def _audit_count(session: Session, record_ids: Sequence[str]) -> int:
    from adapter.storage.models import AuditEntry

    if not record_ids:
        return 0
    total = 0
    for start in range(0, len(record_ids), 500):
        chunk = list(record_ids[start : start + 500])
        total += (
            session.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.record_id.in_(chunk))
            )
            or 0
        )
    return total
