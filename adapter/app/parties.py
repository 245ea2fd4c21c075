"""Parties: upsert one or many (with bank accounts), read, soft-delete, page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from adapter.app.context import CallContext
from adapter.app.records import (
    BulkSpec,
    ItemResult,
    Upserted,
    bulk_upsert,
    find_by_keys,
    find_record,
    upsert_row,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.domain.identifiers import mask_tax_id
from adapter.domain.parties import PartyInput
from adapter.domain.payment_methods import BankAccount as BankAccountInput
from adapter.domain.payments import PaymentStatus
from adapter.errors import ConflictError
from adapter.storage.db import Database
from adapter.storage.models import BankAccount, Party, PaymentOrder
from adapter.storage.paging import Cursor, keyset, next_cursor

Clock = Callable[[], dt.datetime]
_WITH_ACCOUNTS = (selectinload(Party.bank_accounts),)

# A party paid by an order in these states may not be deleted.
_COMMITTED = frozenset(
    {
        PaymentStatus.APPROVED.value,
        PaymentStatus.SENT.value,
        PaymentStatus.REGISTERED.value,
        "paid",  # evidence of money that left the company
    }
)


@dataclass(frozen=True)
class BankAccountView:
    bank_code: str
    agency: str
    account: str
    account_type: str
    holder_tax_id: str


@dataclass(frozen=True)
class PartyView:
    id: str
    source_system: str
    external_id: str
    kind: str
    name: str
    tax_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None = None
    bank_accounts: tuple[BankAccountView, ...] = ()


@dataclass(frozen=True)
class PartyData:
    """A validated party and, when the caller sent them, its bank accounts."""

    party: PartyInput
    accounts: tuple[BankAccountInput, ...] | None = None


@dataclass(frozen=True)
class PartyFilter:
    kind: str | None = None
    tax_id: str | None = None
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


def party_view(row: Party) -> PartyView:
    accounts = tuple(
        BankAccountView(
            a.bank_code, a.agency, a.account, a.account_type, a.holder_tax_id
        )
        for a in row.bank_accounts
    )
    return PartyView(
        row.id,
        row.source_system,
        row.external_id,
        row.kind,
        row.name,
        row.tax_id,
        row.created_at,
        row.updated_at,
        row.deleted_at,
        accounts,
    )


def _key(data: PartyData) -> tuple[str, str]:
    return data.party.source_system, data.party.external_id


def _account_row(account: BankAccountInput) -> tuple[str, str, str, str, str]:
    """The stored form: agency and account with their check digits after '-'."""
    agency = account.agency
    if account.agency_digit:
        agency += f"-{account.agency_digit}"
    number = f"{account.account}-{account.account_digit}"
    return (
        account.bank_code,
        agency,
        number,
        account.account_type.value,
        account.holder_tax_id,
    )


class PartyService:
    """Each method is one transaction with its audit entries."""

    def __init__(self, db: Database, audit: AuditSink, clock: Clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def upsert(
        self, call: CallContext, data: PartyData | PartyInput
    ) -> tuple[PartyView, str]:
        """Create or change the party keyed by sourceSystem + externalId.

        Returns the party and ``created``, ``updated`` or ``unchanged``.
        """
        if isinstance(data, PartyInput):
            data = PartyData(data)
        with self._db.transaction() as session:
            found = find_by_keys(session, Party, [_key(data)], _WITH_ACCOUNTS)
            done, entry = self._upsert_one(session, call, data, found.get(_key(data)))
            if entry is not None:
                self._audit.record(session, entry)
            return party_view(done.row), done.outcome

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], PartyData],
    ) -> list[ItemResult]:
        """Upsert up to 10,000 parties; one bad item does not stop the others."""
        spec = BulkSpec(
            "parties", Party, _key, lambda d: d.party.external_id, _WITH_ACCOUNTS
        )

        def upsert_one(
            session: Session, data: PartyData, existing: Any
        ) -> tuple[Upserted[Any], AuditRecord | None]:
            return self._upsert_one(session, call, data, existing)

        return bulk_upsert(self._db, self._audit, items, validate, spec, upsert_one)

    def _upsert_one(
        self,
        session: Session,
        call: CallContext,
        data: PartyData,
        existing: Party | None,
    ) -> tuple[Upserted[Party], AuditRecord | None]:
        party = data.party
        values = {"kind": party.kind.value, "name": party.name, "tax_id": party.tax_id}
        now = self._clock()
        done = upsert_row(session, Party, _key(data), values, now, existing)
        if data.accounts is not None and self._replace_accounts(
            done.row, data.accounts
        ):
            done.changes["bank_accounts"] = len(data.accounts)
            if done.outcome == "unchanged":
                done.outcome = "updated"
                done.row.updated_at = now
        if done.outcome == "unchanged":
            return done, None
        detail = {"result": done.outcome, **done.changes}
        entry = call.audit_record(
            "ok", record_type="party", record_id=done.row.id, detail=detail
        )
        return done, entry

    def _replace_accounts(
        self, row: Party, accounts: Sequence[BankAccountInput]
    ) -> bool:
        wanted = [_account_row(a) for a in accounts]
        current = [
            (a.bank_code, a.agency, a.account, a.account_type, a.holder_tax_id)
            for a in row.bank_accounts
        ]
        if wanted == current:
            return False
        row.bank_accounts = [
            BankAccount(
                position=i,
                bank_code=w[0],
                agency=w[1],
                account=w[2],
                account_type=w[3],
                holder_tax_id=w[4],
            )
            for i, w in enumerate(wanted)
        ]
        return True

    def get(
        self,
        call: CallContext,
        *,
        party_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> PartyView:
        with self._db.transaction() as session:
            row = self._find(session, party_id, key)
            self._record(session, call, row.id, {})
            return party_view(row)

    def delete(
        self,
        call: CallContext,
        *,
        party_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> PartyView:
        """Soft-delete; refused while an approved payment order pays the party."""
        with self._db.transaction() as session:
            row = self._find(session, party_id, key)
            paying = session.scalars(
                select(PaymentOrder.id).where(
                    PaymentOrder.beneficiary_id == row.id,
                    PaymentOrder.status.in_(_COMMITTED),
                )
            ).first()
            if paying is not None:
                raise ConflictError(
                    f"party {row.id} is the beneficiary of approved payment order "
                    f"{paying}; it cannot be deleted"
                )
            if row.deleted_at is None:
                now = self._clock()
                row.deleted_at = now
                row.updated_at = now
            self._record(session, call, row.id, {"result": "deleted"})
            return party_view(row)

    def query(
        self, call: CallContext, where: PartyFilter, cursor: Cursor | None, size: int
    ) -> tuple[list[PartyView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        query = select(Party).options(*_WITH_ACCOUNTS)
        if where.kind is not None:
            query = query.where(Party.kind == where.kind)
        if where.tax_id is not None:
            query = query.where(Party.tax_id == where.tax_id)
        if where.modified_since is not None:
            query = query.where(Party.updated_at >= where.modified_since)
        if not where.include_deleted:
            query = query.where(Party.deleted_at.is_(None))
        with self._db.transaction() as session:
            rows = list(session.scalars(keyset(query, Party, cursor, size)))
            following = next_cursor(rows, size)
            detail: dict[str, Any] = {"returned": len(rows)}
            if where.tax_id:
                detail["taxId"] = mask_tax_id(where.tax_id)
            self._record(session, call, None, detail)
            return [party_view(r) for r in rows], following

    def _find(
        self, session: Session, party_id: str | None, key: tuple[str, str] | None
    ) -> Party:
        row: Party = find_record(session, Party, "party", party_id, key, _WITH_ACCOUNTS)
        return row

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type="party", record_id=record_id, detail=detail
        )
        self._audit.record(session, entry)
