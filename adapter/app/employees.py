"""Employees from HR systems: upsert one or many, read, soft-delete, page.

The CPF is personal data (LGPD): audit entries and fault messages show it
masked (``***.456.789-**``), and nothing here logs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from adapter.app.context import CallContext
from adapter.app.records import (
    ItemResult,
    Upserted,
    apply_bulk,
    check_bulk_size,
    find_by_keys,
    find_record,
    upsert_row,
    validate_all,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.domain.employees import EmployeeInput
from adapter.domain.identifiers import mask_cpf
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.db import Database
from adapter.storage.models_employees import Employee
from adapter.storage.paging import Cursor, keyset, next_cursor

Clock = Callable[[], dt.datetime]
Key = tuple[str, str]
Registration = tuple[str, str]  # employer CNPJ, registration number (matrícula)


@dataclass(frozen=True)
class EmployeeView:
    id: str
    source_system: str
    external_id: str
    cpf: str
    registration_number: str
    employer_tax_id: str
    name: str
    admission_date: dt.date
    termination_date: dt.date | None
    termination_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


_FIELDS = tuple(EmployeeView.__dataclass_fields__)


def employee_view(row: Employee) -> EmployeeView:
    return EmployeeView(**{name: getattr(row, name) for name in _FIELDS})


@dataclass(frozen=True)
class EmployeeFilter:
    employer_tax_id: str | None = None
    cpf: str | None = None
    active_only: bool = False  # no terminationDate
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


def employee_values(data: EmployeeInput) -> dict[str, Any]:
    return {
        "cpf": data.cpf,
        "registration_number": data.registration_number,
        "employer_tax_id": data.employer_tax_id,
        "name": data.name,
        "admission_date": data.admission_date,
        "termination_date": data.termination_date,
        "termination_reason": data.termination_reason,
    }


def _key(data: EmployeeInput) -> Key:
    return data.source_system, data.external_id


def _registration(row: Employee | EmployeeInput) -> Registration:
    return row.employer_tax_id, row.registration_number


class _Registrations:
    """Which live employee holds each registration number at each employer.

    Loaded once for a whole bulk call and kept current as items apply.
    """

    def __init__(self, session: Session, wanted: Iterable[Registration]) -> None:
        pairs = list(dict.fromkeys(wanted))
        self._holders: dict[Registration, str] = {}
        for start in range(0, len(pairs), 500):
            query = select(Employee).where(
                tuple_(Employee.employer_tax_id, Employee.registration_number).in_(
                    pairs[start : start + 500]
                ),
                Employee.deleted_at.is_(None),
            )
            for row in session.scalars(query):
                self._holders[_registration(row)] = row.id

    def check(self, data: EmployeeInput, existing: Employee | None) -> None:
        """``ConflictError`` when another live employee has the registration."""
        holder = self._holders.get(_registration(data))
        if holder is not None and (existing is None or holder != existing.id):
            raise ConflictError(
                f"registrationNumber {data.registration_number} at employer "
                f"{data.employer_tax_id} already belongs to employee {holder}"
            )

    def moved(self, before: Registration | None, row: Employee) -> None:
        if before is not None and self._holders.get(before) == row.id:
            del self._holders[before]
        self._holders[_registration(row)] = row.id


class EmployeeService:
    """Each method is one transaction with its audit entries."""

    def __init__(self, db: Database, audit: AuditSink, clock: Clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def upsert(
        self, call: CallContext, data: EmployeeInput
    ) -> tuple[EmployeeView, str]:
        with self._db.transaction() as session:
            existing = find_by_keys(session, Employee, [_key(data)]).get(_key(data))
            held = _Registrations(session, [_registration(data)])
            done, entry = self._upsert_one(session, call, data, existing, held)
            if entry is not None:
                self._audit.record(session, entry)
            return employee_view(done.row), done.outcome

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], EmployeeInput],
    ) -> list[ItemResult]:
        """Upsert up to 10,000 employees; one bad item does not stop the others."""
        check_bulk_size(items, "employees")
        good, results = validate_all(items, validate, _key)
        entries: list[AuditRecord] = []
        with self._db.transaction() as session:
            existing = find_by_keys(session, Employee, (_key(d) for _, d in good))
            held = _Registrations(session, (_registration(d) for _, d in good))

            def apply(data: EmployeeInput) -> tuple[str, str]:
                done, entry = self._upsert_one(
                    session, call, data, existing.get(_key(data)), held
                )
                if entry is not None:
                    entries.append(entry)
                return done.row.id, done.outcome

            apply_bulk(good, results, lambda d: d.external_id, apply)
            self._audit.record_many(session, entries)
        return [results[i] for i in range(len(items))]

    def _upsert_one(
        self,
        session: Session,
        call: CallContext,
        data: EmployeeInput,
        existing: Employee | None,
        held: _Registrations,
    ) -> tuple[Upserted[Employee], AuditRecord | None]:
        """Apply one employee; every rule is checked before anything changes."""
        held.check(data, existing)
        before = None if existing is None else _registration(existing)

        done = upsert_row(
            session,
            Employee,
            _key(data),
            employee_values(data),
            self._clock(),
            existing,
        )
        held.moved(before, done.row)
        if done.outcome == "unchanged":
            return done, None
        # apply_fields has already masked the CPF in ``changes``.
        detail = {"result": done.outcome, **done.changes}
        return done, self._entry(call, done.row.id, detail)

    def get(
        self,
        call: CallContext,
        *,
        employee_id: str | None = None,
        key: Key | None = None,
        cpf: str | None = None,
    ) -> EmployeeView:
        """An employee by id, by the HR system's key, or by CPF.

        By CPF, the live employee with that CPF; when several bonds share it,
        the one still active, and ``ConflictError`` if that does not settle it.
        """
        with self._db.transaction() as session:
            if cpf is not None:
                row = self._by_cpf(session, cpf)
                detail = {"cpf": mask_cpf(cpf)}
            else:
                row = self._find(session, employee_id, key)
                detail = {}
            self._audit.record(session, self._entry(call, row.id, detail))
            return employee_view(row)

    def delete(
        self,
        call: CallContext,
        *,
        employee_id: str | None = None,
        key: Key | None = None,
    ) -> EmployeeView:
        """Soft-delete; the employee stays readable and an upsert brings it back."""
        with self._db.transaction() as session:
            row = self._find(session, employee_id, key)
            result = "already deleted"
            if row.deleted_at is None:
                now = self._clock()
                row.deleted_at = now
                row.updated_at = now
                result = "deleted"
            self._audit.record(session, self._entry(call, row.id, {"result": result}))
            return employee_view(row)

    def query(
        self,
        call: CallContext,
        where: EmployeeFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[EmployeeView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        query = select(Employee)
        if where.employer_tax_id is not None:
            query = query.where(Employee.employer_tax_id == where.employer_tax_id)
        if where.cpf is not None:
            query = query.where(Employee.cpf == where.cpf)
        if where.active_only:
            query = query.where(Employee.termination_date.is_(None))
        if where.modified_since is not None:
            query = query.where(Employee.updated_at >= where.modified_since)
        if not where.include_deleted:
            query = query.where(Employee.deleted_at.is_(None))
        with self._db.transaction() as session:
            rows = list(session.scalars(keyset(query, Employee, cursor, size)))
            following = next_cursor(rows, size)
            detail: dict[str, Any] = {"returned": len(rows)}
            if where.cpf is not None:
                detail["cpf"] = mask_cpf(where.cpf)
            self._audit.record(session, self._entry(call, None, detail))
            return [employee_view(r) for r in rows], following

    def _by_cpf(self, session: Session, cpf: str) -> Employee:
        query = select(Employee).where(
            Employee.cpf == cpf, Employee.deleted_at.is_(None)
        )
        rows = list(session.scalars(query))
        if len(rows) > 1:
            rows = [r for r in rows if r.termination_date is None] or rows
        if not rows:
            raise NotFoundError("cpf", "employee", f"cpf {mask_cpf(cpf)}")
        if len(rows) > 1:
            raise ConflictError(
                f"cpf {mask_cpf(cpf)} matches {len(rows)} employees; "
                "ask by id or by sourceSystem and externalId"
            )
        return rows[0]

    def _find(
        self, session: Session, employee_id: str | None, key: Key | None
    ) -> Employee:
        row: Employee = find_record(session, Employee, "employee", employee_id, key)
        return row

    @staticmethod
    def _entry(
        call: CallContext, record_id: str | None, detail: dict[str, Any]
    ) -> AuditRecord:
        return call.audit_record(
            "ok", record_type="employee", record_id=record_id, detail=detail
        )
