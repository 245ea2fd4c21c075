"""Access-control flags of people, kept in step with what justifies them.

A person (an individual party with a CPF) is flagged for an access-control
system while a lawsuit or a contract justifies it, and unflagged as soon as
none does (legal-domain notes §4.1). Each justification is one
``access_flags`` row; the person is flagged while one row is open (not ended
and still valid), so:

- the first open reason raises ``person.flagged``; a second one adds its row
  and no event (the gate already holds the flag);
- when a reason ends and no other is open, ``person.unflagged``; when the
  reason the gate holds ends and another is open, ``person.flagged`` again
  with the remaining one, so the gate never names a closed record.

What links a person, and why only these:

- **contract**: an individual counterparty (CPF) of a contract in status
  ``pending`` (a signature or a document is missing): purpose
  ``contract_pending``, valid ``CONTRACT_PENDING_DAYS``. It ends when the
  contract leaves ``pending`` or the CPF leaves its parties.
- **lawsuit**: Ponte stores no parties of a lawsuit, and being a party to one
  ("sued the company") is no purpose: lists of litigants are discrimination
  that labour courts punish. The legal department links a person to an open
  lawsuit explicitly, for a narrow purpose (``court_order``,
  ``security_threat``), through ``AccessService.link_to_lawsuit``; the link
  ends when the lawsuit is closed, archived or deleted, or by ``unlink``.

The person a CPF names is the oldest live individual party holding it, so
that two ERPs' copies of one person share one flag.

Not built: a nightly reconciliation that ends or renews flags past their
``valid_until`` (today a stale row is renewed only when its record changes).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.app.context import CallContext
from adapter.audit.writer import AuditSink
from adapter.delivery.outbox import Outbox
from adapter.domain.contracts import ContractPartyRole, ContractStatus
from adapter.domain.events import Event
from adapter.domain.events_access import PersonFlag, person_flagged, person_unflagged
from adapter.domain.lawsuits import LawsuitStatus, parse_choice, parse_date
from adapter.domain.parties import PartyKind
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.storage.db import Database
from adapter.storage.models import Lawsuit, Party
from adapter.storage.models_access import AccessFlag
from adapter.storage.models_contracts import Contract

Clock = Callable[[], dt.datetime]

CONTRACT_PENDING_DAYS = 30
LAWSUIT_DEFAULT_DAYS = 90
LAWSUIT_MAX_DAYS = 180
_OPEN_LAWSUIT = frozenset({LawsuitStatus.ACTIVE.value, LawsuitStatus.SUSPENDED.value})


class FlagPurpose(enum.StrEnum):
    """Generic purpose codes; the gate learns no more about the person."""

    CONTRACT_PENDING = "contract_pending"
    COURT_ORDER = "court_order"
    SECURITY_THREAT = "security_threat"


class LawsuitPurpose(enum.StrEnum):
    """The purposes the legal department may give a link to a lawsuit."""

    COURT_ORDER = FlagPurpose.COURT_ORDER.value
    SECURITY_THREAT = FlagPurpose.SECURITY_THREAT.value


class EndReason(enum.StrEnum):
    LAWSUIT_CLOSED = "lawsuit_closed"
    LAWSUIT_DELETED = "lawsuit_deleted"
    CONTRACT_NO_LONGER_PENDING = "contract_no_longer_pending"
    REMOVED_FROM_CONTRACT = "removed_from_contract"
    LINK_REMOVED = "link_removed"
    EXPIRED = "expired"  # past valid_until; renewed by a new row, no event


@dataclass(frozen=True)
class Justification:
    record: str  # lawsuit or contract
    id: str


@dataclass(frozen=True)
class Emitted:
    """An event about a person that a change put in the outbox."""

    event: Event
    party_id: str
    targets: tuple[str, ...]


def audit_detail(emitted: Iterable[Emitted]) -> list[dict[str, Any]]:
    """The events as the change's audit entry shows them (no CPF)."""
    return [
        {
            "event": e.event.id,
            "type": e.event.type,
            "person": e.party_id,
            "targets": list(e.targets),
        }
        for e in emitted
    ]


@dataclass(frozen=True)
class Linked:
    row: AccessFlag
    created: bool  # False: an open, valid row already held this reason
    emitted: list[Emitted]


@dataclass(frozen=True)
class FlagView:
    id: str
    party_id: str
    purpose: str
    justification: str
    justification_id: str
    valid_until: dt.date
    created_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None


def flag_view(row: AccessFlag) -> FlagView:
    return FlagView(
        row.id,
        row.party_id,
        row.purpose,
        row.justification,
        row.justification_id,
        row.valid_until,
        row.created_at,
        row.ended_at,
        row.end_reason,
    )


# Reading


def person_of(session: Session, cpf: str) -> Party | None:
    """The oldest live individual party holding ``cpf``."""
    query = (
        select(Party)
        .where(
            Party.tax_id == cpf,
            Party.kind == PartyKind.INDIVIDUAL.value,
            Party.deleted_at.is_(None),
        )
        .order_by(Party.created_at, Party.id)
        .limit(1)
    )
    return session.scalars(query).first()


def open_for(session: Session, reason: Justification) -> list[AccessFlag]:
    query = (
        select(AccessFlag)
        .where(
            AccessFlag.justification == reason.record,
            AccessFlag.justification_id == reason.id,
            AccessFlag.ended_at.is_(None),
        )
        .order_by(AccessFlag.created_at, AccessFlag.id)
    )
    return list(session.scalars(query))


def _valid_of(session: Session, cpf: str, today: dt.date) -> list[AccessFlag]:
    """The person's open rows that are still valid, oldest first."""
    query = (
        select(AccessFlag)
        .where(
            AccessFlag.cpf == cpf,
            AccessFlag.ended_at.is_(None),
            AccessFlag.valid_until >= today,
        )
        .order_by(AccessFlag.created_at, AccessFlag.id)
    )
    return list(session.scalars(query))


def _expire(rows: Sequence[AccessFlag], now: dt.datetime) -> None:
    """Close rows past their validity; the gate dropped them on its own."""
    for row in rows:
        row.ended_at = now
        row.end_reason = EndReason.EXPIRED.value
        row.cpf = None


def _is_pending(contract: Contract) -> bool:
    return contract.status == ContractStatus.PENDING.value and not contract.deleted_at


def _pending_people(contract: Contract) -> set[str]:
    """The CPFs a contract flags: its individual counterparties while pending."""
    if not _is_pending(contract):
        return set()
    return {
        p.tax_id
        for p in contract.parties
        if p.role == ContractPartyRole.COUNTERPARTY.value and len(p.tax_id) == 11
    }


# The rules, in the caller's transaction


class AccessFlags:
    """Flags and unflags people in the caller's session; returns its events."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def sync_contract(
        self,
        session: Session,
        contract: Contract,
        was_pending: bool,
        now: dt.datetime,
        actor: str,
    ) -> list[Emitted]:
        """Bring the contract's flags in line with its status and parties.

        Only a contract that was pending has open rows (leaving ``pending``
        ends them all), so no other is read: a bulk upsert of contracts that
        flag no one reads nothing here.
        """
        reason = Justification("contract", contract.id)
        wanted = _pending_people(contract)
        if not wanted and not was_pending:
            return []
        rows = open_for(session, reason) if was_pending else []
        why = (
            EndReason.REMOVED_FROM_CONTRACT
            if _is_pending(contract)
            else EndReason.CONTRACT_NO_LONGER_PENDING
        )
        emitted = self.end(session, [r for r in rows if r.cpf not in wanted], why, now)
        today = now.date()
        kept = {r.cpf for r in rows if r.cpf in wanted and r.valid_until >= today}
        until = today + dt.timedelta(days=CONTRACT_PENDING_DAYS)
        for cpf in sorted(wanted - kept):
            person = person_of(session, cpf)
            if person is None:  # no party holds the CPF: no one to name
                continue
            purpose = FlagPurpose.CONTRACT_PENDING
            linked = self.link(session, person, reason, purpose, until, now, actor)
            emitted += linked.emitted
        return emitted

    def link(
        self,
        session: Session,
        person: Party,
        reason: Justification,
        purpose: FlagPurpose,
        valid_until: dt.date,
        now: dt.datetime,
        actor: str,
    ) -> Linked:
        """Add ``reason`` for ``person``; announce it if nothing else flags them.

        An open, valid row of the same person and reason is kept as it is; an
        open one past its validity is closed and replaced.
        """
        cpf = person.tax_id
        assert cpf is not None
        today = now.date()
        same = [r for r in open_for(session, reason) if r.cpf == cpf]
        valid = [r for r in same if r.valid_until >= today]
        if valid:
            return Linked(valid[0], False, [])
        _expire(same, now)
        row = AccessFlag(
            id=str(uuid.uuid4()),
            party_id=person.id,
            cpf=cpf,
            purpose=purpose.value,
            justification=reason.record,
            justification_id=reason.id,
            valid_until=valid_until,
            created_at=now,
            created_by=actor,
        )
        flagged = _valid_of(session, cpf, today)
        session.add(row)
        if any(r.announced_event_id for r in flagged):
            return Linked(row, True, [])
        return Linked(row, True, [self._announce(session, row, now)])

    def end(
        self,
        session: Session,
        rows: Sequence[AccessFlag],
        why: EndReason,
        now: dt.datetime,
    ) -> list[Emitted]:
        """End open ``rows``; unflag each person no other reason flags."""
        for row in rows:
            row.ended_at = now
            row.end_reason = why.value
        emitted: list[Emitted] = []
        for cpf in sorted({r.cpf for r in rows if r.cpf}):
            ended = [r for r in rows if r.cpf == cpf]
            emitted += self._after_end(session, cpf, ended, why, now)
        for row in rows:
            row.cpf = None  # the reason is gone, and the need for the CPF with it
        return emitted

    # Steps

    def _after_end(
        self,
        session: Session,
        cpf: str,
        ended: Sequence[AccessFlag],
        why: EndReason,
        now: dt.datetime,
    ) -> list[Emitted]:
        """Unflag the person, or move the flag the gate holds to another reason."""
        held = [r for r in ended if r.announced_event_id]
        if not held:
            return []
        remaining = _valid_of(session, cpf, now.date())
        if remaining:
            if any(r.announced_event_id for r in remaining):
                return []
            return [self._announce(session, remaining[0], now)]
        flag = held[-1]
        event = person_unflagged(flag.id, flag.party_id, cpf, why.value, now)
        for row in ended:
            row.ended_event_id = event.id
        return [self._enqueue(session, event, flag.party_id)]

    def _announce(self, session: Session, row: AccessFlag, now: dt.datetime) -> Emitted:
        person = session.get(Party, row.party_id)
        assert person is not None and row.cpf is not None
        flag = PersonFlag(
            flag_id=row.id,
            party_id=row.party_id,
            name=person.name,
            cpf=row.cpf,
            purpose=row.purpose,
            justification_record=row.justification,
            justification_id=row.justification_id,
            valid_until=row.valid_until,
        )
        event = person_flagged(flag, now)
        row.announced_event_id = event.id
        return self._enqueue(session, event, row.party_id)

    def _enqueue(self, session: Session, event: Event, party_id: str) -> Emitted:
        targets = tuple(self._outbox.enqueue(session, event))
        return Emitted(event, party_id, targets)


# The use cases of an explicit link to a lawsuit


class AccessService:
    """Links of people to lawsuits, made by the legal department.

    Each method is one transaction with its audit entry and events.
    """

    def __init__(
        self, db: Database, audit: AuditSink, outbox: Outbox, clock: Clock
    ) -> None:
        self._db = db
        self._audit = audit
        self._flags = AccessFlags(outbox)
        self._clock = clock

    def link_to_lawsuit(
        self,
        call: CallContext,
        lawsuit_id: str,
        party_id: str,
        purpose: str | None,
        valid_until: dt.date | str | None = None,
    ) -> tuple[FlagView, str]:
        """Flag the person ``party_id`` for an open lawsuit.

        Returns the flag and ``flagged``, or ``unchanged`` for a link that is
        already open.

        ``purpose`` is ``court_order`` or ``security_threat``; ``valid_until``
        defaults to 90 days from today and may be at most 180 days away.
        Raises ``NotFoundError`` for an unknown lawsuit or party,
        ``ConflictError`` for a closed or deleted lawsuit or a party that is not
        a live individual with a CPF, and ``ValidationError`` for the values.
        """
        chosen = FlagPurpose(parse_choice(LawsuitPurpose, purpose, "purpose").value)
        with self._db.transaction() as session:
            now = self._clock()
            until = _valid_until(valid_until, now.date())
            lawsuit = _open_lawsuit(session, lawsuit_id)
            person = _person(session, party_id)
            reason = Justification("lawsuit", lawsuit.id)
            linked = self._flags.link(
                session, person, reason, chosen, until, now, call.actor
            )
            emitted = linked.emitted
            outcome = "flagged" if linked.created else "unchanged"
            detail: dict[str, Any] = {
                "result": outcome,
                "purpose": chosen.value,
                "lawsuit": lawsuit.id,
                "valid_until": until,
            }
            if emitted:
                detail["access"] = audit_detail(emitted)
            self._record(session, call, person.id, detail)
            return flag_view(linked.row), outcome

    def unlink_from_lawsuit(
        self, call: CallContext, lawsuit_id: str, party_id: str
    ) -> str:
        """End the person's link to the lawsuit; ``ended`` or ``unchanged``."""
        with self._db.transaction() as session:
            now = self._clock()
            person = _person(session, party_id)
            reason = Justification("lawsuit", lawsuit_id)
            rows = [r for r in open_for(session, reason) if r.party_id == person.id]
            emitted = self._flags.end(session, rows, EndReason.LINK_REMOVED, now)
            outcome = "ended" if rows else "unchanged"
            detail: dict[str, Any] = {"result": outcome, "lawsuit": lawsuit_id}
            if emitted:
                detail["access"] = audit_detail(emitted)
            self._record(session, call, person.id, detail)
            return outcome

    def flags_of(self, call: CallContext, party_id: str) -> list[FlagView]:
        """Every flag row of the person, open and ended, oldest first."""
        with self._db.transaction() as session:
            query = (
                select(AccessFlag)
                .where(AccessFlag.party_id == party_id)
                .order_by(AccessFlag.created_at, AccessFlag.id)
            )
            rows = [flag_view(r) for r in session.scalars(query)]
            self._record(session, call, party_id, {"returned": len(rows)})
            return rows

    def _record(
        self,
        session: Session,
        call: CallContext,
        party_id: str,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type="access_flag", record_id=party_id, detail=detail
        )
        self._audit.record(session, entry)


def _valid_until(value: dt.date | str | None, today: dt.date) -> dt.date:
    until = parse_date(value, "validUntil")
    if until is None:
        return today + dt.timedelta(days=LAWSUIT_DEFAULT_DAYS)
    if until < today:
        raise ValidationError("validUntil", "must not be before today")
    if until > today + dt.timedelta(days=LAWSUIT_MAX_DAYS):
        raise ValidationError(
            "validUntil", f"must be at most {LAWSUIT_MAX_DAYS} days from today"
        )
    return until


def _open_lawsuit(session: Session, lawsuit_id: str) -> Lawsuit:
    lawsuit = session.get(Lawsuit, lawsuit_id)
    if lawsuit is None:
        raise NotFoundError("lawsuitId", "lawsuit", f"id {lawsuit_id}")
    if lawsuit.deleted_at is not None or lawsuit.status not in _OPEN_LAWSUIT:
        state = "deleted" if lawsuit.deleted_at is not None else lawsuit.status
        raise ConflictError(
            f"lawsuit {lawsuit_id} is {state}; only an open lawsuit justifies a flag"
        )
    return lawsuit


def _person(session: Session, party_id: str) -> Party:
    """The person ``party_id`` names (see ``person_of``), or a fault."""
    party = session.get(Party, party_id)
    if party is None:
        raise NotFoundError("partyId", "party", f"id {party_id}")
    person = None
    if party.kind == PartyKind.INDIVIDUAL.value and party.tax_id:
        person = person_of(session, party.tax_id)
    if person is None:
        raise ConflictError(
            f"party {party_id} is not a live individual with a CPF; only a "
            "person can be flagged"
        )
    return person
