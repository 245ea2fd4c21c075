"""Events of a lawsuit and of its provision: provision.changed, lawsuit.closed.

``provision.changed`` carries the figure before and after the change and the
ledger movements it implies (CPC 25, ``adapter.domain.provisions``): a
constitution, increase or reversal of the provisioned amount (only probable
losses are booked) and a disclosure while the loss is possible. Its business
key is the lawsuit's, ``provision:<lawsuit id>``, so a ledger receives a
lawsuit's movements in the order they were made.

- ``reporting``: a new reporting date; ``before`` is the previous one, if any.
- ``revision``: a new figure for the same reporting date.
- ``withdrawal``: the latest reporting date was deleted; ``after`` is the one
  it had followed, if any.

``lawsuit.closed`` is written when a stored lawsuit moves to ``closed``; a
lawsuit first sent already closed (an import of history) writes none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from adapter.domain.events import (
    LAWSUIT_CLOSED,
    PROVISION_CHANGED,
    Event,
    add,
    add_fields,
    build,
    business_key,
    day,
    money,
)
from adapter.domain.provisions import Movement, ProvisionSnapshot


@dataclass(frozen=True)
class ProvisionChange:
    provision_id: str
    source_system: str
    external_id: str
    lawsuit_id: str
    lawsuit_number: str | None  # CNJ digits; None for a case without one
    cause: str  # reporting, revision, withdrawal
    currency: str
    before: ProvisionSnapshot | None
    after: ProvisionSnapshot | None
    movements: tuple[Movement, ...]


@dataclass(frozen=True)
class LawsuitClosure:
    id: str
    source_system: str
    external_id: str
    kind: str
    cnj_number: str | None
    area: str
    company_role: str
    previous_status: str
    closure_date: dt.date
    closure_reason: str


def _figure(parent: etree._Element, name: str, f: ProvisionSnapshot | None) -> None:
    if f is None:
        return
    add_fields(
        add(parent, name, None),
        (
            ("reportingDate", day(f.reporting_date)),
            ("classification", f.classification.value),
            ("amount", money(f.amount)),
            ("provisionedAmount", money(f.provisioned)),
        ),
    )


def provision_changed(change: ProvisionChange, now: dt.datetime) -> Event:
    def fill(body: etree._Element) -> None:
        add_fields(
            body,
            (
                ("id", change.provision_id),
                ("sourceSystem", change.source_system),
                ("externalId", change.external_id),
                ("lawsuitId", change.lawsuit_id),
                ("lawsuitNumber", change.lawsuit_number),
                ("cause", change.cause),
                ("currency", change.currency),
            ),
        )
        _figure(body, "before", change.before)
        _figure(body, "after", change.after)
        lines = add(body, "movements", None)
        for m in change.movements:
            add_fields(
                add(lines, "movement", None),
                (
                    ("kind", m.kind.value),
                    ("amount", money(m.amount)),
                    ("debit", None if m.debit is None else m.debit.value),
                    ("credit", None if m.credit is None else m.credit.value),
                ),
            )

    key = business_key("provision", change.lawsuit_id)
    return build(PROVISION_CHANGED, key, now, fill)


def lawsuit_closed(closure: LawsuitClosure, now: dt.datetime) -> Event:
    def fill(body: etree._Element) -> None:
        add_fields(
            body,
            (
                ("id", closure.id),
                ("sourceSystem", closure.source_system),
                ("externalId", closure.external_id),
                ("kind", closure.kind),
                ("cnjNumber", closure.cnj_number),
                ("area", closure.area),
                ("companyRole", closure.company_role),
                ("previousStatus", closure.previous_status),
                ("closureDate", day(closure.closure_date)),
                ("closureReason", closure.closure_reason),
            ),
        )

    return build(LAWSUIT_CLOSED, business_key("lawsuit", closure.id), now, fill)
