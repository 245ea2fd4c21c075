"""Time-clock punches (marcações de ponto) sent by an HR system, and AFD uploads.

A punch is evidence in a labour suit (TST Súmula 338): it is never edited and
never deleted. A wrong punch is answered by a correction, which is a new punch
with a key of its own. The rules here are pure; storing and comparing with what
is stored belong to ``adapter.app.punches``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapter.domain.afd import AfdHeader
from adapter.domain.identifiers import mask_tax_id, normalize_cpf
from adapter.domain.lawsuits import optional_text
from adapter.domain.parties import normalize_any_tax_id, required_text
from adapter.errors import ValidationError

# The same sentences in every fault that states the rule.
NEVER_EDITED = "punches are never edited; send a correction as a new punch"
NEVER_DELETED = (
    "punches are evidence and are never deleted; "
    "send a correction as a new punch instead"
)

# How far ahead of the server's clock a punch may be (clock skew of a REP).
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
DEFAULT_LOCAL_ZONE = "America/Sao_Paulo"

_PIS_WEIGHTS = (3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class PunchInput:
    """A punch as an HR system sends it, checked by ``validate_punch``."""

    source_system: str
    external_id: str
    employee_cpf: str  # 11 digits
    punched_at: dt.datetime  # aware, with the offset the client sent
    collector: str | None


@dataclass(frozen=True)
class AfdUpload:
    """An AFD file to import, checked by ``validate_afd_upload``."""

    file_name: str
    employer_tax_id: str  # CNPJ (14) or CPF (11), normalized
    content: bytes  # exactly as received
    local_zone: str  # IANA zone of a Portaria 1510 file's local times


def validate_punch(
    *,
    source_system: str | None,
    external_id: str | None,
    employee_cpf: str | None,
    punched_at: dt.datetime | None,
    collector: str | None = None,
    now: dt.datetime | None = None,
) -> PunchInput:
    """Check every field of a punch; raise ``ValidationError`` at the first break.

    ``punched_at`` must carry its UTC offset: a wall-clock time alone is
    ambiguous across Brazil's four zones. ``now`` defaults to the current time.
    """
    source = required_text(source_system, "sourceSystem", 40)
    external = required_text(external_id, "externalId", 80)
    cpf = normalize_cpf(required_text(employee_cpf, "employeeCpf", 20), "employeeCpf")
    when = _punch_time(punched_at, now or dt.datetime.now(dt.UTC))
    return PunchInput(
        source_system=source,
        external_id=external,
        employee_cpf=cpf,
        punched_at=when,
        collector=optional_text(collector, "collector", 40),
    )


def _punch_time(value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        raise ValidationError("punchedAt", "is required")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            "punchedAt", "must carry its UTC offset, e.g. 2026-09-24T08:00:00-03:00"
        )
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError("punchedAt", "must not be in the future")
    return value


def normalize_pis(value: str, field: str = "employeePis") -> str:
    """The 11 digits of a PIS/PASEP/NIT, its mod 11 check digit verified."""
    digits = re.sub(r"[.\-\s]", "", value)
    if not re.fullmatch(r"\d{11}", digits) or digits == "0" * 11:
        raise ValidationError(field, "a PIS has 11 digits")
    total = sum(int(c) * w for c, w in zip(digits, _PIS_WEIGHTS, strict=False))
    rest = total % 11
    if int(digits[10]) != (0 if rest < 2 else 11 - rest):
        raise ValidationError(field, "PIS check digit does not match (mod 11)")
    return digits


def check_local_zone(name: str | None, default: str = DEFAULT_LOCAL_ZONE) -> str:
    """The IANA zone a Portaria 1510 file's local times were written in."""
    zone = optional_text(name, "localTimeZone", 64) or default
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "localTimeZone", "must be an IANA time zone such as America/Sao_Paulo"
        ) from None
    return zone


def validate_afd_upload(
    *,
    file_name: str | None,
    employer_tax_id: str | None,
    content: bytes | None,
    local_zone: str | None = None,
    default_zone: str = DEFAULT_LOCAL_ZONE,
) -> AfdUpload:
    """Check the fields that come with an AFD; the file itself is read later."""
    name = required_text(file_name, "fileName", 200)
    employer = normalize_any_tax_id(
        required_text(employer_tax_id, "employerTaxId", 20), "employerTaxId"
    )
    if content is None:
        raise ValidationError("content", "is required")
    return AfdUpload(
        name, employer, content, check_local_zone(local_zone, default_zone)
    )


def check_employer(header: AfdHeader, employer_tax_id: str) -> None:
    """Refuse a file whose header names another employer than the caller said.

    A header whose employer id fails its check digits is not compared: that
    header line is reported as refused, and the file is kept as evidence.
    """
    try:
        written = normalize_any_tax_id(header.employer_id, "employerTaxId")
    except ValidationError:
        return
    if written != employer_tax_id:
        raise ValidationError(
            "employerTaxId",
            f"the AFD header names employer {mask_tax_id(written)}, "
            f"not {mask_tax_id(employer_tax_id)}",
        )
