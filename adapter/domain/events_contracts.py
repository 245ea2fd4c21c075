"""Events of a contract: created, renewed, changed, ended.

All four share one body (``ContractChange`` in the schema): the contract as
it now stands, the date the change takes effect, the amendment that made it
(when one did), the names of the fields that changed, and the terms before
and after. ``before`` is absent only for ``contract.created``.

Which event a change is:

- an upsert that creates the contract: ``contract.created``, effective on the
  start date;
- an upsert that moves it to ``ended`` or ``terminated``: ``contract.ended``;
- a renewal amendment: ``contract.renewed``; a term, value or scope amendment:
  ``contract.changed``; both effective on the amendment's effective date;
- any other upsert that changes it: ``contract.changed``.

An upsert carries no effective date, so an upsert's change takes effect on
the day it is recorded; an end takes effect on the contract's end date when
that has already passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from adapter.domain.contracts import ContractTerms
from adapter.domain.events import (
    CONTRACT_CHANGED,
    CONTRACT_CREATED,
    CONTRACT_ENDED,
    CONTRACT_RENEWED,
    Event,
    add,
    add_fields,
    build,
    business_key,
    day,
    money,
)

CONTRACT_EVENTS = frozenset(
    {CONTRACT_CREATED, CONTRACT_RENEWED, CONTRACT_CHANGED, CONTRACT_ENDED}
)
_FINAL = frozenset({"ended", "terminated"})


@dataclass(frozen=True)
class ContractRef:
    """The contract as it stands after the change, terms apart."""

    id: str
    source_system: str
    external_id: str
    number: str
    type: str
    currency: str
    auto_renewal: bool
    renewal_months: int | None
    notice_days: int | None
    parties: tuple[tuple[str, str], ...]  # (role, taxId)


@dataclass(frozen=True)
class AmendmentRef:
    number: int
    type: str
    signed_at: dt.date | None


@dataclass(frozen=True)
class ContractChange:
    contract: ContractRef
    effective_date: dt.date
    after: ContractTerms
    before: ContractTerms | None = None
    amendment: AmendmentRef | None = None
    changed: tuple[str, ...] = ()  # SOAP names of the fields that changed


def upsert_event_type(created: bool, before: str | None, after: str) -> str:
    """The event of an upsert that changed a contract from status ``before``."""
    if created:
        return CONTRACT_CREATED
    if after in _FINAL and before != after:
        return CONTRACT_ENDED
    return CONTRACT_CHANGED


def amendment_event_type(amendment_type: str) -> str:
    return CONTRACT_RENEWED if amendment_type == "renewal" else CONTRACT_CHANGED


def end_effective_date(end_date: dt.date | None, today: dt.date) -> dt.date:
    """An end takes effect today, or on the end date when that already passed."""
    return today if end_date is None else min(end_date, today)


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _contract(parent: etree._Element, c: ContractRef) -> None:
    element = add(parent, "contract", None)
    add_fields(
        element,
        (
            ("id", c.id),
            ("sourceSystem", c.source_system),
            ("externalId", c.external_id),
            ("number", c.number),
            ("type", c.type),
            ("currency", c.currency),
            ("autoRenewal", _boolean(c.auto_renewal)),
            ("renewalMonths", c.renewal_months),
            ("noticeDays", c.notice_days),
        ),
    )
    parties = add(element, "parties", None)
    for role, tax_id in c.parties:
        add_fields(add(parties, "party", None), (("role", role), ("taxId", tax_id)))


def _terms(parent: etree._Element, name: str, t: ContractTerms) -> None:
    add_fields(
        add(parent, name, None),
        (
            ("version", t.version),
            ("status", t.status),
            ("object", t.object),
            ("value", money(t.value)),
            ("startDate", day(t.start_date)),
            ("endDate", day(t.end_date)),
        ),
    )


def contract_event(event_type: str, change: ContractChange, now: dt.datetime) -> Event:
    """The ``event_type`` event (one of ``CONTRACT_EVENTS``) of ``change``."""
    if event_type not in CONTRACT_EVENTS:
        raise ValueError(f"{event_type} is not a contract event")

    def fill(body: etree._Element) -> None:
        _contract(body, change.contract)
        add(body, "effectiveDate", day(change.effective_date))
        a = change.amendment
        if a is not None:
            add_fields(
                add(body, "amendment", None),
                (
                    ("number", a.number),
                    ("type", a.type),
                    ("signedAt", day(a.signed_at)),
                ),
            )
        for name in change.changed:
            add(body, "changedField", name)
        if change.before is not None:
            _terms(body, "before", change.before)
        _terms(body, "after", change.after)

    return build(event_type, business_key("contract", change.contract.id), now, fill)
