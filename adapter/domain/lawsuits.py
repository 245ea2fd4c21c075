"""Lawsuits (processos): CNJ number parts, classifications and the status lifecycle.

Also home of the small value parsers the other domain modules share (choices,
optional text, dates, money, flags, bounded integers), next to ``required_text``
in ``parties``. Every parser treats ``None`` and an empty string as absent and
raises ``ValidationError(field, rule)`` naming the SOAP field.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from adapter.domain.identifiers import normalize_cnj
from adapter.domain.parties import required_text
from adapter.domain.payments import MAX_AMOUNT
from adapter.errors import ConflictError, ValidationError

E = TypeVar("E", bound=enum.StrEnum)

# Judicial segment J of a CNJ number (Res. CNJ 65/2008, art. 1 §4).
SEGMENT_NAMES: dict[int, str] = {
    1: "STF",
    2: "CNJ",
    3: "STJ",
    4: "Justiça Federal",
    5: "Justiça do Trabalho",
    6: "Justiça Eleitoral",
    7: "Justiça Militar da União",
    8: "Justiça Estadual",
    9: "Justiça Militar Estadual",
}


# Shared value parsers


def is_absent(value: object) -> bool:
    """True for ``None`` and for a string that is empty once stripped."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_choice(choices: type[E], value: str | None, field: str) -> E:
    """The member of ``choices`` whose value is ``value`` (case-insensitive)."""
    try:
        return choices((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise ValidationError(field, f"must be one of {allowed}") from None


def optional_text(value: str | None, field: str, max_length: int) -> str | None:
    """Like ``required_text``, but absent text gives ``None``."""
    return None if is_absent(value) else required_text(value, field, max_length)


def parse_date(value: dt.date | str | None, field: str) -> dt.date | None:
    """A calendar date, given as ``date`` or ISO ``YYYY-MM-DD``; absent gives None."""
    if is_absent(value):
        return None
    if isinstance(value, dt.datetime):
        raise ValidationError(field, "must be a date without a time of day")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(field, "must be a date written YYYY-MM-DD") from None


def required_date(value: dt.date | str | None, field: str) -> dt.date:
    """Like ``parse_date``, but the date is required."""
    date = parse_date(value, field)
    if date is None:
        raise ValidationError(field, "is required")
    return date


def parse_money(value: Decimal | str | int | None, field: str) -> Decimal | None:
    """A BRL amount with at most 2 decimals (sign unchecked); floats are refused."""
    if is_absent(value):
        return None
    if isinstance(value, float):
        raise ValidationError(field, "must be a decimal, never a binary float")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(field, "must be a decimal number") from None
    if not amount.is_finite():
        raise ValidationError(field, "must be a decimal number")
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(field, f"must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(field, "must have at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def non_negative_amount(value: Decimal | str | int | None, field: str) -> Decimal:
    """A required amount that may be zero but not negative."""
    amount = parse_money(value, field)
    if amount is None:
        raise ValidationError(field, "is required")
    if amount < 0:
        raise ValidationError(field, "must not be negative")
    return amount


def parse_currency(value: str | None, field: str = "currency") -> str:
    """The ISO 4217 code; only BRL is handled, and an absent currency means BRL."""
    code = "BRL" if is_absent(value) else (value or "").strip().upper()
    if code != "BRL":
        raise ValidationError(field, "must be BRL, the only currency supported")
    return code


def parse_flag(value: bool | str | None, field: str) -> bool:
    """A boolean, also as ``true``/``false``/``1``/``0``; absent means false."""
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in {"", "false", "0"}:
        return False
    if text in {"true", "1"}:
        return True
    raise ValidationError(field, "must be true or false")


def parse_count(value: int | str | None, field: str, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high``; absent gives None."""
    if is_absent(value):
        return None
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, "must be a whole number") from None
    if not low <= number <= high:
        raise ValidationError(field, f"must be from {low} to {high}")
    return number


# CNJ number


@dataclass(frozen=True)
class CnjParts:
    """The parts of a CNJ number ``NNNNNNN-DD.AAAA.J.TR.OOOO``."""

    sequence: str  # NNNNNNN, 7 digits
    check: str  # DD
    year: int  # AAAA, year the case was filed
    segment: int  # J, 1..9
    court: str  # TR, 2 digits (00 for the superior courts)
    origin: str  # OOOO, 4 digits (0000 for courts and councils)

    @property
    def segment_name(self) -> str:
        """The branch of the judiciary, such as ``Justiça do Trabalho``."""
        return SEGMENT_NAMES[self.segment]

    @property
    def digits(self) -> str:
        """The 20 digits as stored."""
        return (
            f"{self.sequence}{self.check}{self.year:04d}{self.segment}"
            f"{self.court}{self.origin}"
        )


def parse_cnj(digits: str, field: str = "cnjNumber") -> CnjParts:
    """Check a CNJ number (masked or 20 digits) and split it into its parts."""
    d = normalize_cnj(digits, field)
    return CnjParts(
        sequence=d[:7],
        check=d[7:9],
        year=int(d[9:13]),
        segment=int(d[13]),
        court=d[14:16],
        origin=d[16:],
    )


# Lawsuit


class LawsuitKind(enum.StrEnum):
    JUDICIAL = "judicial"
    ADMINISTRATIVE = "administrative"  # administrativo: no CNJ number
    EXTRAJUDICIAL = "extrajudicial"  # extrajudicial: no CNJ number


class Area(enum.StrEnum):
    LABOR = "labor"  # trabalhista
    CIVIL = "civil"  # cível
    CONSUMER = "consumer"  # consumidor
    TAX = "tax"  # tributário
    ENVIRONMENTAL = "environmental"  # ambiental
    REGULATORY = "regulatory"  # regulatório
    CRIMINAL = "criminal"  # criminal


class CompanyRole(enum.StrEnum):
    PLAINTIFF = "plaintiff"  # polo ativo
    DEFENDANT = "defendant"  # polo passivo


class Risk(enum.StrEnum):
    PROBABLE = "probable"  # provável
    POSSIBLE = "possible"  # possível
    REMOTE = "remote"  # remoto


class LawsuitStatus(enum.StrEnum):
    ACTIVE = "active"  # ativo
    SUSPENDED = "suspended"  # suspenso
    CLOSED = "closed"  # encerrado
    ARCHIVED = "archived"  # arquivado


# A closed lawsuit may be reopened, and an archived one unarchived (desarquivado).
LAWSUIT_TRANSITIONS: dict[LawsuitStatus, frozenset[LawsuitStatus]] = {
    LawsuitStatus.ACTIVE: frozenset({LawsuitStatus.SUSPENDED, LawsuitStatus.CLOSED}),
    LawsuitStatus.SUSPENDED: frozenset({LawsuitStatus.ACTIVE, LawsuitStatus.CLOSED}),
    LawsuitStatus.CLOSED: frozenset({LawsuitStatus.ARCHIVED, LawsuitStatus.ACTIVE}),
    LawsuitStatus.ARCHIVED: frozenset({LawsuitStatus.ACTIVE}),
}
_ENDED = frozenset({LawsuitStatus.CLOSED, LawsuitStatus.ARCHIVED})


@dataclass(frozen=True)
class LawsuitInput:
    """What an ERP sends for a lawsuit, checked by ``validate_lawsuit``.

    ``warnings`` holds facts worth showing that do not reject the lawsuit.
    """

    source_system: str
    external_id: str
    kind: LawsuitKind
    cnj_number: str | None  # 20 digits
    cnj: CnjParts | None
    area: Area
    company_role: CompanyRole
    claim_value: Decimal
    risk: Risk
    status: LawsuitStatus
    filing_date: dt.date
    closure_date: dt.date | None
    closure_reason: str | None
    warnings: tuple[str, ...] = ()


def check_lawsuit_transition(
    current: LawsuitStatus,
    new: LawsuitStatus,
    *,
    closure_date: dt.date | None = None,
    closure_reason: str | None = None,
) -> None:
    """Raise ``ConflictError`` unless ``new`` may follow ``current``.

    Closing also needs ``closure_date`` and ``closure_reason`` (``ValidationError``).
    """
    if new not in LAWSUIT_TRANSITIONS[current]:
        raise ConflictError(
            f"a lawsuit in status {current.value} cannot become {new.value}"
        )
    if new is LawsuitStatus.CLOSED:
        _require_closure(closure_date, closure_reason)


def _require_closure(date: dt.date | None, reason: str | None) -> None:
    if date is None:
        raise ValidationError("closureDate", "is required when status is closed")
    if not reason:
        raise ValidationError("closureReason", "is required when status is closed")


def _cnj_for_kind(kind: LawsuitKind, cnj_number: str | None) -> CnjParts | None:
    if is_absent(cnj_number):
        if kind is LawsuitKind.JUDICIAL:
            raise ValidationError("cnjNumber", "is required for a judicial lawsuit")
        return None
    return parse_cnj(required_text(cnj_number, "cnjNumber", 30))


def _check_filing(filing: dt.date, today: dt.date) -> None:
    if filing > today:
        raise ValidationError("filingDate", "must not be after today")


def _check_closure(
    status: LawsuitStatus, filing: dt.date, date: dt.date | None, reason: str | None
) -> None:
    if status is LawsuitStatus.CLOSED:
        _require_closure(date, reason)
    elif status not in _ENDED and (date or reason):
        field = "closureDate" if date else "closureReason"
        raise ValidationError(
            field, "is only allowed when status is closed or archived"
        )
    if date is not None and date < filing:
        raise ValidationError("closureDate", "must not be before filingDate")


def _warnings(cnj: CnjParts | None, filing: dt.date) -> tuple[str, ...]:
    # §2.1: the filing year normally equals AAAA; a mismatch is worth a look only.
    if cnj is not None and cnj.year != filing.year:
        return (f"filingDate: year {filing.year} differs from CNJ year {cnj.year}",)
    return ()


def validate_lawsuit(
    *,
    source_system: str | None,
    external_id: str | None,
    kind: str | None,
    cnj_number: str | None,
    area: str | None,
    company_role: str | None,
    claim_value: Decimal | str | int | None,
    risk: str | None,
    status: str | None,
    filing_date: dt.date | str | None,
    closure_date: dt.date | str | None = None,
    closure_reason: str | None = None,
    today: dt.date | None = None,
) -> LawsuitInput:
    """Check every field of a lawsuit; raise ``ValidationError`` at the first break.

    ``today`` defaults to the current date; tests pass a fixed one.
    """
    source = required_text(source_system, "sourceSystem", 40)
    external = required_text(external_id, "externalId", 80)
    lawsuit_kind = parse_choice(LawsuitKind, kind, "kind")
    cnj = _cnj_for_kind(lawsuit_kind, cnj_number)
    lawsuit_area = parse_choice(Area, area, "area")
    role = parse_choice(CompanyRole, company_role, "companyRole")
    value = non_negative_amount(claim_value, "claimValue")
    lawsuit_risk = parse_choice(Risk, risk, "risk")
    lawsuit_status = parse_choice(LawsuitStatus, status, "status")

    filing = required_date(filing_date, "filingDate")
    _check_filing(filing, today or dt.date.today())
    closed_on = parse_date(closure_date, "closureDate")
    reason = optional_text(closure_reason, "closureReason", 200)
    _check_closure(lawsuit_status, filing, closed_on, reason)

    return LawsuitInput(
        source_system=source,
        external_id=external,
        kind=lawsuit_kind,
        cnj_number=None if cnj is None else cnj.digits,
        cnj=cnj,
        area=lawsuit_area,
        company_role=role,
        claim_value=value,
        risk=lawsuit_risk,
        status=lawsuit_status,
        filing_date=filing,
        closure_date=closed_on,
        closure_reason=reason,
        warnings=_warnings(cnj, filing),
    )
