"""Contracts: upsert one or many, read, soft-delete, page through and amend them.

A contract's value and end date, and once it is signed its object and start
date, are its terms. They change only through ``amend``: the amendment is
stored with the old and new values of the term it changes, and the new
version of the terms is stored next to the old one. An upsert that tries to
change a term directly is refused with ``ConflictError``.

Every change puts its event in the outbox in the same transaction
(``adapter.domain.events_contracts`` says which), and keeps the flags of the
contract's people in step (``adapter.app.access``: a pending contract flags
its individual counterparties).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from adapter.app.access import AccessFlags, audit_detail
from adapter.app.context import CallContext
from adapter.app.records import (
    BulkSpec,
    ItemResult,
    Upserted,
    apply_fields,
    bulk_upsert,
    find_by_keys,
    find_record,
    upsert_row,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.delivery.outbox import Outbox
from adapter.domain.contracts import (
    AmendmentInput,
    AmendmentType,
    ContractInput,
    ContractPartyRole,
    ContractStatus,
    ContractTerms,
    apply_amendment,
    check_contract_transition,
    notice_deadline,
    validate_amendment,
)
from adapter.domain.events import Event
from adapter.domain.events_contracts import (
    AmendmentRef,
    ContractChange,
    ContractRef,
    amendment_event_type,
    contract_event,
    end_effective_date,
    upsert_event_type,
)
from adapter.domain.identifiers import mask_tax_id
from adapter.domain.lawsuits import (
    optional_text,
    parse_choice,
    parse_count,
    parse_date,
    parse_money,
)
from adapter.errors import ConflictError
from adapter.storage.db import Database
from adapter.storage.models_contracts import (
    Contract,
    ContractAmendment,
    ContractParty,
    ContractVersion,
)
from adapter.storage.paging import Cursor, keyset, next_cursor

Clock = Callable[[], dt.datetime]
_LOADED = (selectinload(Contract.parties), selectinload(Contract.amendments))

# Before signing, the object and the start date are still being negotiated.
_UNSIGNED = frozenset({ContractStatus.DRAFT.value, ContractStatus.SIGNING.value})
# A contract in force is ended or terminated, never deleted.
_IN_FORCE = frozenset({ContractStatus.ACTIVE.value, ContractStatus.PENDING.value})
_FINAL = frozenset({ContractStatus.ENDED.value, ContractStatus.TERMINATED.value})


@dataclass(frozen=True)
class ContractData:
    """A validated contract, the ERP's key for it and the status it asks for."""

    source_system: str
    external_id: str
    status: ContractStatus
    contract: ContractInput


@dataclass(frozen=True)
class AmendmentFields:
    """An amendment as sent; ``amend`` checks it against the current terms."""

    number: int | str | None
    type: str | None
    effective_date: dt.date | str | None
    new_end_date: dt.date | str | None = None
    new_value: Decimal | str | None = None
    new_object: str | None = None
    signed_at: dt.date | str | None = None


@dataclass(frozen=True)
class ContractPartyView:
    role: str
    tax_id: str


@dataclass(frozen=True)
class AmendmentView:
    """An amendment; only the old and new pair of the term it changed is set."""

    number: int
    type: str
    effective_date: dt.date
    signed_at: dt.date | None
    old_value: Decimal | None
    new_value: Decimal | None
    old_end_date: dt.date | None
    new_end_date: dt.date | None
    old_object: str | None
    new_object: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class ContractView:
    id: str
    source_system: str
    external_id: str
    number: str
    type: str
    object: str
    value: Decimal
    currency: str
    start_date: dt.date
    end_date: dt.date | None
    auto_renewal: bool
    renewal_months: int | None
    notice_days: int | None
    notice_deadline: dt.date | None
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    parties: tuple[ContractPartyView, ...]
    amendments: tuple[AmendmentView, ...]


@dataclass(frozen=True)
class ContractFilter:
    status: str | None = None
    counterparty_tax_id: str | None = None
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


_AMENDMENT_FIELDS = tuple(AmendmentView.__dataclass_fields__)


def _as_input(row: Contract) -> ContractInput:
    return ContractInput(
        number=row.number,
        type=row.type,
        object=row.object,
        parties=(),
        value=row.value,
        currency=row.currency,
        start_date=row.start_date,
        end_date=row.end_date,
        auto_renewal=row.auto_renewal,
        renewal_months=row.renewal_months,
        notice_days=row.notice_days,
    )


def contract_view(row: Contract) -> ContractView:
    return ContractView(
        id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        number=row.number,
        type=row.type,
        object=row.object,
        value=row.value,
        currency=row.currency,
        start_date=row.start_date,
        end_date=row.end_date,
        auto_renewal=row.auto_renewal,
        renewal_months=row.renewal_months,
        notice_days=row.notice_days,
        notice_deadline=notice_deadline(_as_input(row)),
        status=row.status,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        parties=tuple(ContractPartyView(p.role, p.tax_id) for p in row.parties),
        amendments=tuple(
            AmendmentView(**{name: getattr(a, name) for name in _AMENDMENT_FIELDS})
            for a in row.amendments
        ),
    )


def contract_values(data: ContractData) -> dict[str, Any]:
    contract = data.contract
    return {
        "number": contract.number,
        "type": contract.type,
        "object": contract.object,
        "value": contract.value,
        "currency": contract.currency,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "auto_renewal": contract.auto_renewal,
        "renewal_months": contract.renewal_months,
        "notice_days": contract.notice_days,
        "status": data.status.value,
    }


def _key(data: ContractData) -> tuple[str, str]:
    return data.source_system, data.external_id


def _terms(row: Contract) -> ContractTerms:
    return ContractTerms(
        version=row.version,
        status=ContractStatus(row.status),
        object=row.object,
        value=row.value,
        start_date=row.start_date,
        end_date=row.end_date,
    )


def _version_row(row: Contract, now: dt.datetime) -> ContractVersion:
    return ContractVersion(
        contract=row,
        version=row.version,
        object=row.object,
        value=row.value,
        start_date=row.start_date,
        end_date=row.end_date,
        created_at=now,
    )


# Rules of an upsert over a stored contract


def _refuse_overwrite(row: Contract, contract: ContractInput) -> None:
    """Raise ``ConflictError`` when an upsert would overwrite a term."""
    if contract.value != row.value:
        raise ConflictError(
            f"value: contract {row.id} is worth {row.value} in version "
            f"{row.version}; a change of value is an amendment: use AmendContract"
        )
    if contract.end_date != row.end_date:
        ends = row.end_date.isoformat() if row.end_date else "no end date"
        raise ConflictError(
            f"endDate: contract {row.id} has {ends} in version {row.version}; "
            "a change of term or a renewal is an amendment: use AmendContract"
        )
    if row.status in _UNSIGNED:
        return
    if contract.object != row.object:
        raise ConflictError(
            f"object: contract {row.id} is signed; its object changes by a scope "
            "amendment: use AmendContract"
        )
    if contract.start_date != row.start_date:
        raise ConflictError(
            f"startDate: contract {row.id} is signed; its start date cannot change"
        )


def _check_change(row: Contract, data: ContractData) -> None:
    """Every rule of an upsert over ``row``, checked before anything changes."""
    if row.status != data.status.value:
        check_contract_transition(ContractStatus(row.status), data.status)
    _refuse_overwrite(row, data.contract)


# Amendments


def _same_amendment(earlier: ContractAmendment, fields: AmendmentFields) -> bool:
    """True when ``fields`` repeat the stored amendment (a client's retry)."""
    kind = parse_choice(AmendmentType, fields.type, "type")
    return (
        kind.value == earlier.type
        and parse_date(fields.effective_date, "effectiveDate") == earlier.effective_date
        and parse_date(fields.signed_at, "signedAt") == earlier.signed_at
        and parse_date(fields.new_end_date, "newEndDate") == earlier.new_end_date
        and parse_money(fields.new_value, "newValue") == earlier.new_value
        and optional_text(fields.new_object, "newObject", 1000) == earlier.new_object
    )


def _is_repeat(row: Contract, fields: AmendmentFields) -> bool:
    """True for a retry of a stored amendment; ``ConflictError`` if it differs."""
    number = parse_count(fields.number, "number", 1, 9999)
    earlier = next((a for a in row.amendments if a.number == number), None)
    if earlier is None:
        return False
    if _same_amendment(earlier, fields):
        return True
    raise ConflictError(
        f"number: amendment {number} of contract {row.id} already exists with "
        f"other terms; the next amendment is number {row.version + 1}"
    )


def _amendment_row(
    current: ContractTerms, amendment: AmendmentInput, actor: str, now: dt.datetime
) -> ContractAmendment:
    """The stored amendment, with the old value of the term it changes."""
    return ContractAmendment(
        number=amendment.number,
        type=amendment.type.value,
        effective_date=amendment.effective_date,
        signed_at=amendment.signed_at,
        old_value=None if amendment.new_value is None else current.value,
        new_value=amendment.new_value,
        old_end_date=None if amendment.new_end_date is None else current.end_date,
        new_end_date=amendment.new_end_date,
        old_object=None if amendment.new_object is None else current.object,
        new_object=amendment.new_object,
        created_by=actor,
        created_at=now,
    )


def _apply_terms(row: Contract, terms: ContractTerms, now: dt.datetime) -> None:
    row.version = terms.version
    row.object = terms.object
    row.value = terms.value
    row.end_date = terms.end_date
    row.updated_at = now


def _amendment_detail(record: ContractAmendment) -> dict[str, Any]:
    detail: dict[str, Any] = {"result": "amended"}
    for name in _AMENDMENT_FIELDS:
        value = getattr(record, name)
        if value is not None and name != "created_at":
            detail[name] = value
    return detail


# Events


def _ref(row: Contract) -> ContractRef:
    return ContractRef(
        id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        number=row.number,
        type=row.type,
        currency=row.currency,
        auto_renewal=row.auto_renewal,
        renewal_months=row.renewal_months,
        notice_days=row.notice_days,
        parties=tuple((p.role, p.tax_id) for p in row.parties),
    )


def _soap_name(column: str) -> str:
    """``end_date`` as the SOAP contract spells it: ``endDate``."""
    first, *rest = column.split("_")
    return first + "".join(word.title() for word in rest)


def _upsert_change(
    done: Upserted[Contract], before: ContractTerms | None, now: dt.datetime
) -> tuple[str, ContractChange]:
    """The event type and body of an upsert that changed the contract."""
    row = done.row
    event_type = upsert_event_type(
        done.outcome == "created",
        None if before is None else before.status.value,
        row.status,
    )
    if done.outcome == "created":
        effective = row.start_date
    elif row.status in _FINAL:
        effective = end_effective_date(row.end_date, now.date())
    else:
        effective = now.date()
    changed = () if before is None else tuple(_soap_name(n) for n in done.changes)
    change = ContractChange(_ref(row), effective, _terms(row), before, None, changed)
    return event_type, change


def _amendment_change(
    row: Contract, before: ContractTerms, record: ContractAmendment
) -> ContractChange:
    changed = tuple(
        name
        for name, new in (
            ("value", record.new_value),
            ("endDate", record.new_end_date),
            ("object", record.new_object),
        )
        if new is not None
    )
    return ContractChange(
        contract=_ref(row),
        effective_date=record.effective_date,
        after=_terms(row),
        before=before,
        amendment=AmendmentRef(record.number, record.type, record.signed_at),
        changed=changed,
    )


class ContractService:
    """Each method is one transaction with its audit entries and events.

    ``outbox`` defaults to one that names no target: the events are still
    written, and go nowhere until a target subscribes.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditSink,
        clock: Clock,
        outbox: Outbox | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self._outbox = outbox or Outbox(lambda _type: ())
        self._flags = AccessFlags(self._outbox)

    def upsert(self, call: CallContext, data: ContractData) -> tuple[ContractView, str]:
        """Create or change the contract keyed by sourceSystem + externalId.

        Returns the contract and ``created``, ``updated`` or ``unchanged``.
        Raises ``ConflictError`` for a status the current one may not become
        and for a direct change of a term (value, end date; object and start
        date once signed).
        """
        with self._db.transaction() as session:
            found = find_by_keys(session, Contract, [_key(data)], _LOADED)
            done, entry = self._upsert_one(session, call, data, found.get(_key(data)))
            if entry is not None:
                self._audit.record(session, entry)
            return contract_view(done.row), done.outcome

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], ContractData],
    ) -> list[ItemResult]:
        """Upsert up to 10,000 contracts; one bad item does not stop the others."""
        spec = BulkSpec("contracts", Contract, _key, lambda d: d.external_id, _LOADED)

        def upsert_one(
            session: Session, data: ContractData, existing: Any
        ) -> tuple[Upserted[Any], AuditRecord | None]:
            return self._upsert_one(session, call, data, existing)

        return bulk_upsert(self._db, self._audit, items, validate, spec, upsert_one)

    def _upsert_one(
        self,
        session: Session,
        call: CallContext,
        data: ContractData,
        existing: Contract | None,
    ) -> tuple[Upserted[Contract], AuditRecord | None]:
        """Apply one contract; every rule is checked before anything changes."""
        if existing is not None:
            _check_change(existing, data)
        before = None if existing is None else _terms(existing)
        now = self._clock()
        values = contract_values(data)
        done = upsert_row(session, Contract, _key(data), values, now, existing)
        if done.outcome == "created":
            done.row.version = 0
            session.add(_version_row(done.row, now))
        elif "object" in done.changes or "start_date" in done.changes:
            self._redraft(session, done.row)
        self._sync_parties(done, data, now)
        if done.outcome == "unchanged":
            return done, None
        detail = {"result": done.outcome, **done.changes}
        event_type, change = _upsert_change(done, before, now)
        self._emit(session, contract_event(event_type, change, now), detail)
        was_pending = before is not None and before.status is ContractStatus.PENDING
        flags = self._flags.sync_contract(
            session, done.row, was_pending, now, call.actor
        )
        if flags:
            detail["access"] = audit_detail(flags)
        entry = call.audit_record(
            "ok", record_type="contract", record_id=done.row.id, detail=detail
        )
        return done, entry

    def _emit(self, session: Session, event: Event, detail: dict[str, Any]) -> None:
        """Put ``event`` in the outbox and name it in the audit ``detail``."""
        targets = self._outbox.enqueue(session, event)
        detail["event"] = event.id
        detail["targets"] = list(targets)

    def _redraft(self, session: Session, row: Contract) -> None:
        """Before signing, version 0 follows the text (nothing is signed yet)."""
        version = session.scalars(
            select(ContractVersion).where(
                ContractVersion.contract_id == row.id, ContractVersion.version == 0
            )
        ).one()
        version.object = row.object
        version.start_date = row.start_date

    def _sync_parties(
        self, done: Upserted[Contract], data: ContractData, now: dt.datetime
    ) -> None:
        """Replace the parties when they differ; audit them with CPFs masked."""
        wanted = [(p.role.value, p.tax_id) for p in data.contract.parties]
        if wanted == [(p.role, p.tax_id) for p in done.row.parties]:
            return
        rows, shown = [], []
        for position, (role, tax_id) in enumerate(wanted):
            party = ContractParty(position=position)
            shown.append(apply_fields(party, {"role": role, "tax_id": tax_id}))
            rows.append(party)
        done.row.parties = rows
        done.changes["parties"] = shown
        if done.outcome == "unchanged":
            done.outcome = "updated"
            done.row.updated_at = now

    def amend(
        self,
        call: CallContext,
        fields: AmendmentFields,
        *,
        contract_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> tuple[ContractView, str]:
        """Apply an amendment and keep the old version; ``amended`` or ``unchanged``.

        Repeating a stored amendment word for word changes nothing (a client's
        retry); the same number with other terms is a ``ConflictError``, as is a
        deleted contract or one that is not active or pending.
        """
        with self._db.transaction() as session:
            row = self._find(session, contract_id, key)
            if _is_repeat(row, fields):
                self._record(session, call, row.id, {"result": "unchanged"})
                return contract_view(row), "unchanged"
            if row.deleted_at is not None:
                raise ConflictError(
                    f"contract {row.id} is deleted; it cannot be amended"
                )
            current = _terms(row)
            amendment = validate_amendment(
                current,
                number=fields.number,
                type=fields.type,
                effective_date=fields.effective_date,
                new_end_date=fields.new_end_date,
                new_value=fields.new_value,
                new_object=fields.new_object,
                signed_at=fields.signed_at,
            )
            now = self._clock()
            record = _amendment_row(current, amendment, call.actor, now)
            row.amendments.append(record)
            _apply_terms(row, apply_amendment(current, amendment), now)
            session.add(_version_row(row, now))
            detail = _amendment_detail(record)
            change = _amendment_change(row, current, record)
            event_type = amendment_event_type(record.type)
            self._emit(session, contract_event(event_type, change, now), detail)
            self._record(session, call, row.id, detail)
            return contract_view(row), "amended"

    def get(
        self,
        call: CallContext,
        *,
        contract_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> ContractView:
        with self._db.transaction() as session:
            row = self._find(session, contract_id, key)
            self._record(session, call, row.id, {})
            return contract_view(row)

    def delete(
        self,
        call: CallContext,
        *,
        contract_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> ContractView:
        """Soft-delete; refused while the contract is active or pending."""
        with self._db.transaction() as session:
            row = self._find(session, contract_id, key)
            if row.status in _IN_FORCE:
                raise ConflictError(
                    f"contract {row.id} is {row.status}; a contract in force is "
                    "ended or terminated, not deleted"
                )
            if row.deleted_at is None:
                now = self._clock()
                row.deleted_at = now
                row.updated_at = now
            self._record(session, call, row.id, {"result": "deleted"})
            return contract_view(row)

    def query(
        self,
        call: CallContext,
        where: ContractFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[ContractView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        query = select(Contract).options(*_LOADED)
        if where.status is not None:
            query = query.where(Contract.status == where.status)
        if where.counterparty_tax_id is not None:
            query = query.where(_has_counterparty(where.counterparty_tax_id))
        if where.modified_since is not None:
            query = query.where(Contract.updated_at >= where.modified_since)
        if not where.include_deleted:
            query = query.where(Contract.deleted_at.is_(None))
        with self._db.transaction() as session:
            rows = list(session.scalars(keyset(query, Contract, cursor, size)))
            following = next_cursor(rows, size)
            detail: dict[str, Any] = {"returned": len(rows)}
            if where.counterparty_tax_id:
                detail["counterpartyTaxId"] = mask_tax_id(where.counterparty_tax_id)
            self._record(session, call, None, detail)
            return [contract_view(r) for r in rows], following

    def _find(
        self, session: Session, contract_id: str | None, key: tuple[str, str] | None
    ) -> Contract:
        row: Contract = find_record(
            session, Contract, "contract", contract_id, key, _LOADED
        )
        return row

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type="contract", record_id=record_id, detail=detail
        )
        self._audit.record(session, entry)


def _has_counterparty(tax_id: str) -> Any:
    return exists().where(
        ContractParty.contract_id == Contract.id,
        ContractParty.role == ContractPartyRole.COUNTERPARTY.value,
        ContractParty.tax_id == tax_id,
    )
