"""Events for an access-control system: a person is flagged, or no longer is.

Data minimisation (LGPD art. 6 III; legal-domain notes §4.1): a flag carries
the person's name and CPF, a generic purpose code, the record that justifies
it (``lawsuit`` or ``contract`` and Ponte's id, never a lawsuit number, claim
or amount) and the last day it is valid. An unflag carries only the flag it
ends, the CPF and why. The gate keeps at most one flag per CPF: a later
``person.flagged`` for the same person replaces the earlier one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from adapter.domain.events import (
    PERSON_FLAGGED,
    PERSON_UNFLAGGED,
    Event,
    add,
    add_fields,
    build,
    business_key,
    day,
)


@dataclass(frozen=True)
class PersonFlag:
    flag_id: str
    party_id: str
    name: str
    cpf: str  # 11 digits
    purpose: str
    justification_record: str  # lawsuit or contract
    justification_id: str
    valid_until: dt.date


def person_flagged(flag: PersonFlag, now: dt.datetime) -> Event:
    def fill(body: etree._Element) -> None:
        add_fields(
            body,
            (
                ("flagId", flag.flag_id),
                ("name", flag.name),
                ("cpf", flag.cpf),
                ("purpose", flag.purpose),
            ),
        )
        add_fields(
            add(body, "justification", None),
            (("record", flag.justification_record), ("id", flag.justification_id)),
        )
        add(body, "validUntil", day(flag.valid_until))

    return build(PERSON_FLAGGED, business_key("person", flag.party_id), now, fill)


def person_unflagged(
    flag_id: str, party_id: str, cpf: str, reason: str, now: dt.datetime
) -> Event:
    def fill(body: etree._Element) -> None:
        add_fields(body, (("flagId", flag_id), ("cpf", cpf), ("reason", reason)))

    return build(PERSON_UNFLAGGED, business_key("person", party_id), now, fill)
