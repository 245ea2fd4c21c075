"""Contracts, their status lifecycle and their amendments (aditivos).

A contract's terms are versioned: version 0 is the signed contract, and each
amendment numbered ``n`` produces version ``n``. ``apply_amendment`` returns the
new ``ContractTerms`` and leaves the old one untouched, so the history of
versions can be kept and sent to an ERP with old and new values.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from adapter.domain.lawsuits import (
    is_absent,
    parse_choice,
    parse_count,
    parse_currency,
    parse_date,
    parse_flag,
    required_date,
)
from adapter.domain.parties import normalize_any_tax_id, required_text
from adapter.domain.payments import validate_amount
from adapter.errors import ConflictError, ValidationError

MAX_RENEWAL_MONTHS = 120
MAX_NOTICE_DAYS = 365


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"  # minuta
    SIGNING = "signing"  # em assinatura
    ACTIVE = "active"  # vigente
    PENDING = "pending"  # pendente: a signature or document is missing
    ENDED = "ended"  # encerrado
    TERMINATED = "terminated"  # rescindido


# A contract under signature may go back to draft; ended and terminated are final.
CONTRACT_TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.SIGNING}),
    ContractStatus.SIGNING: frozenset(
        {ContractStatus.DRAFT, ContractStatus.ACTIVE, ContractStatus.PENDING}
    ),
    ContractStatus.ACTIVE: frozenset(
        {ContractStatus.PENDING, ContractStatus.ENDED, ContractStatus.TERMINATED}
    ),
    ContractStatus.PENDING: frozenset(
        {ContractStatus.ACTIVE, ContractStatus.TERMINATED}
    ),
    ContractStatus.ENDED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}
AMENDABLE = frozenset({ContractStatus.ACTIVE, ContractStatus.PENDING})


class ContractPartyRole(enum.StrEnum):
    COMPANY = "company"  # a company of the group
    COUNTERPARTY = "counterparty"  # supplier, client or landlord on the other side
    GUARANTOR = "guarantor"  # fiador or interveniente


class AmendmentType(enum.StrEnum):
    TERM = "term"  # prazo: extends the end date
    VALUE = "value"  # valor: changes the total value
    SCOPE = "scope"  # escopo: rewrites the object
    RENEWAL = "renewal"  # renovação: a new period after the end date


_MOVES_END = frozenset({AmendmentType.TERM, AmendmentType.RENEWAL})


@dataclass(frozen=True)
class ContractParty:
    role: ContractPartyRole
    tax_id: str  # CPF (11) or CNPJ (14), unmasked


@dataclass(frozen=True)
class ContractInput:
    """What an ERP sends for a contract, checked by ``validate_contract``."""

    number: str
    type: str
    object: str
    parties: tuple[ContractParty, ...]
    value: Decimal
    currency: str
    start_date: dt.date
    end_date: dt.date | None  # None: indeterminate term
    auto_renewal: bool
    renewal_months: int | None
    notice_days: int | None


@dataclass(frozen=True)
class ContractTerms:
    """One version of the terms that amendments change."""

    version: int  # 0 for the contract as signed, then the amendment number
    status: ContractStatus
    object: str
    value: Decimal
    start_date: dt.date
    end_date: dt.date | None


@dataclass(frozen=True)
class AmendmentInput:
    """An amendment checked against the current terms by ``validate_amendment``."""

    number: int
    type: AmendmentType
    effective_date: dt.date
    new_end_date: dt.date | None  # term and renewal amendments
    new_value: Decimal | None  # value amendments
    new_object: str | None  # scope amendments
    signed_at: dt.date | None


def check_contract_transition(current: ContractStatus, new: ContractStatus) -> None:
    """Raise ``ConflictError`` unless ``new`` may follow ``current``."""
    if new not in CONTRACT_TRANSITIONS[current]:
        raise ConflictError(
            f"a contract in status {current.value} cannot become {new.value}"
        )


def terms_of(contract: ContractInput, status: ContractStatus) -> ContractTerms:
    """Version 0 of the terms of a validated contract."""
    return ContractTerms(
        version=0,
        status=status,
        object=contract.object,
        value=contract.value,
        start_date=contract.start_date,
        end_date=contract.end_date,
    )


def notice_deadline(contract: ContractInput) -> dt.date | None:
    """Last day to refuse an automatic renewal: end date minus the notice days."""
    if not contract.auto_renewal or contract.end_date is None:
        return None
    return contract.end_date - dt.timedelta(days=contract.notice_days or 0)


# Contract


def _parse_parties(
    parties: Sequence[tuple[str | None, str | None]],
) -> tuple[ContractParty, ...]:
    result: list[ContractParty] = []
    for position, (role, tax_id) in enumerate(parties, start=1):
        field = f"parties[{position}]"
        party = ContractParty(
            role=parse_choice(ContractPartyRole, role, f"{field}.role"),
            tax_id=normalize_any_tax_id(
                required_text(tax_id, f"{field}.taxId", 20), f"{field}.taxId"
            ),
        )
        if any(p.tax_id == party.tax_id for p in result):
            raise ValidationError(f"{field}.taxId", "appears twice in parties")
        result.append(party)
    if not any(p.role is ContractPartyRole.COUNTERPARTY for p in result):
        raise ValidationError("parties", "must include at least one counterparty")
    return tuple(result)


def _check_period(start: dt.date, end: dt.date | None) -> None:
    if end is not None and end < start:
        raise ValidationError("endDate", "must not be before startDate")


def _renewal_months(
    auto_renewal: bool, value: int | str | None, end: dt.date | None
) -> int | None:
    months = parse_count(value, "renewalMonths", 1, MAX_RENEWAL_MONTHS)
    if not auto_renewal:
        if months is not None:
            raise ValidationError(
                "renewalMonths", "is only allowed when autoRenewal is true"
            )
        return None
    if months is None:
        raise ValidationError("renewalMonths", "is required when autoRenewal is true")
    if end is None:
        raise ValidationError("endDate", "is required when autoRenewal is true")
    return months


def validate_contract(
    *,
    number: str | None,
    type: str | None,
    object: str | None,
    parties: Sequence[tuple[str | None, str | None]],
    value: Decimal | str | None,
    currency: str | None,
    start_date: dt.date | str | None,
    end_date: dt.date | str | None,
    auto_renewal: bool | str | None,
    renewal_months: int | str | None,
    notice_days: int | str | None,
) -> ContractInput:
    """Check every field of a contract; raise ``ValidationError`` at the first break.

    ``parties`` is a list of ``(role, taxId)`` pairs; absent ``currency`` is BRL.
    """
    contract_number = required_text(number, "number", 40)
    contract_type = required_text(type, "type", 40)
    contract_object = required_text(object, "object", 1000)
    contract_parties = _parse_parties(parties)
    contract_value = validate_amount(value, "value")
    contract_currency = parse_currency(currency)

    start = required_date(start_date, "startDate")
    end = parse_date(end_date, "endDate")
    _check_period(start, end)
    renews = parse_flag(auto_renewal, "autoRenewal")
    months = _renewal_months(renews, renewal_months, end)

    return ContractInput(
        number=contract_number,
        type=contract_type,
        object=contract_object,
        parties=contract_parties,
        value=contract_value,
        currency=contract_currency,
        start_date=start,
        end_date=end,
        auto_renewal=renews,
        renewal_months=months,
        notice_days=parse_count(notice_days, "noticeDays", 0, MAX_NOTICE_DAYS),
    )


# Amendments


def _check_number(current: ContractTerms, number: int | str | None) -> int:
    expected = current.version + 1
    given = parse_count(number, "number", 1, 9999)
    if given is None:
        raise ValidationError("number", "is required")
    if given != expected:
        raise ValidationError(
            "number", f"must be {expected}, one after the last amendment"
        )
    return given


def _check_effective(current: ContractTerms, value: dt.date | str | None) -> dt.date:
    effective = required_date(value, "effectiveDate")
    if effective < current.start_date:
        raise ValidationError("effectiveDate", "must not be before the contract start")
    if current.end_date is not None and effective > current.end_date:
        raise ValidationError("effectiveDate", "must not be after the contract end")
    return effective


def _new_end(
    current: ContractTerms, kind: AmendmentType, value: dt.date | str | None
) -> dt.date | None:
    new_end = parse_date(value, "newEndDate")
    if kind not in _MOVES_END:
        if new_end is not None:
            raise ValidationError("newEndDate", "is only allowed to change the term")
        return None
    if new_end is None:
        raise ValidationError("newEndDate", f"is required in a {kind.value} amendment")
    if current.end_date is None:
        raise ValidationError("type", "a contract with no end date has no term to move")
    if new_end <= current.end_date:
        raise ValidationError("newEndDate", "must be after the current end date")
    return new_end


def _new_value(
    current: ContractTerms, kind: AmendmentType, value: Decimal | str | None
) -> Decimal | None:
    if kind is not AmendmentType.VALUE:
        if not is_absent(value):
            raise ValidationError("newValue", "is only allowed in a value amendment")
        return None
    new_value = validate_amount(value, "newValue")
    if new_value == current.value:
        raise ValidationError("newValue", "must differ from the current value")
    return new_value


def _new_object(kind: AmendmentType, value: str | None) -> str | None:
    if kind is not AmendmentType.SCOPE:
        if not is_absent(value):
            raise ValidationError("newObject", "is only allowed in a scope amendment")
        return None
    return required_text(value, "newObject", 1000)


def validate_amendment(
    current: ContractTerms,
    *,
    number: int | str | None,
    type: str | None,
    effective_date: dt.date | str | None,
    new_end_date: dt.date | str | None = None,
    new_value: Decimal | str | None = None,
    new_object: str | None = None,
    signed_at: dt.date | str | None = None,
) -> AmendmentInput:
    """Check an amendment against the current terms; raise at the first rule broken.

    Raises ``ConflictError`` when the contract is not active or pending, and
    ``ValidationError`` for every field rule.
    """
    if current.status not in AMENDABLE:
        raise ConflictError(
            f"a contract in status {current.status.value} cannot be amended"
        )
    kind = parse_choice(AmendmentType, type, "type")
    return AmendmentInput(
        number=_check_number(current, number),
        type=kind,
        effective_date=_check_effective(current, effective_date),
        new_end_date=_new_end(current, kind, new_end_date),
        new_value=_new_value(current, kind, new_value),
        new_object=_new_object(kind, new_object),
        signed_at=parse_date(signed_at, "signedAt"),
    )


def apply_amendment(current: ContractTerms, amendment: AmendmentInput) -> ContractTerms:
    """The terms after ``amendment``; ``current`` itself is never changed.

    Raises ``ConflictError`` if the amendment was not checked against this version.
    """
    if amendment.number != current.version + 1:
        raise ConflictError(
            f"amendment {amendment.number} cannot follow version {current.version}"
        )
    return replace(
        current,
        version=amendment.number,
        end_date=amendment.new_end_date or current.end_date,
        value=amendment.new_value or current.value,
        object=amendment.new_object or current.object,
    )
