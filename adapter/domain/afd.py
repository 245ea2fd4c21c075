"""Read AFD time-clock files: Portaria MTP 671/2021 (Anexo V) and Portaria 1510/2009.

The AFD (Arquivo Fonte de Dados) is the file a REP writes: one fixed-width record
per line, ISO-8859-1, each starting with its NSR (9 digits) and record type::

    report = parse_afd(raw_bytes)
    report.sha256          # of the bytes exactly as received
    report.header          # employer, REP, period, layout version
    report.punches         # time-clock punches that passed every check
    report.refused         # RefusedLine(line_number, nsr, reason), one per bad line
    report.warnings        # findings that do not refuse a line (trailer, NSR gaps)

A bad line is reported and the rest of the file is read. Only a file that is not
an AFD at all (no header record) raises ``ValidationError("file", ...)``. Reasons
never carry a CPF or PIS, so they are safe to log.

Checks, in order, for each record after the header:

1. length for its type (``record length 49, expected 50 for type 3``): refused;
2. CRC-16 of types 1 to 5 (Portaria 671 only): refused;
3. SHA-256 chain of type 7: refused (see the first-link choice below);
4. NSR sequence (``_judge_nsr``): a gap is a warning, a repeat or a step back
   refuses the line;
5. the content: timestamps, employee CPF (671) or PIS (1510), the on-line flag.

After the last line, the trailer counts are compared with the records present
(refused ones included, since the REP wrote them): a mismatch is a warning.

Layout facts and the sources relied on
--------------------------------------
- General rules of the 671 layout (ISO-8859-1, CRLF, DH format
  ``AAAA-MM-ddThh:mm:00ZZZZZ``, CRC-16 on types 1 to 5, SHA-256 in field 8 of
  type 7): "Leiaute do Arquivo Fonte de Dados - AFD" (gov.br), as transcribed at
  pt.scribd.com/document/678529092, rules 1 to 9.
- Record lengths and positions (671): /work/shared/reference/legal-domain.md
  section 2.7, cross-checked against public implementations (a Laravel time-clock
  module's AFD import tests: type 1 INPI 190-206, generation DH 227-250, version
  251-253; type 3 DH 011-034, CPF 035-046, CRC 047-050; type 7 of 137; trailer of
  64 with ``9`` in position 64) and a REP-P changelog giving types 2 (331), 4 (73),
  5 (118) and 6 (36).
- CRC-16: rule 8 names "CRC-16 CCITT-TRUE (CRC-16/KERMIT)" for REP-A and REP-P,
  check value ``0x2189`` for ``123456789``, written as 4 hex digits in that order.
  It covers the record's bytes before the CRC field.
- Type-7 chain: rule 9 says only that field 8 is SHA-256. Every public
  implementation found (a PostgreSQL REP-P store, an Odoo l10n_br model, a Java
  REP-P AFD builder) hashes fields 1 to 7 (positions 1-73, as written) followed by
  field 8 of the previous type-7 record, and nothing for the first one. They
  disagree on hex case (upper vs lower), so the comparison ignores case and the
  previous hash is chained exactly as written. See ``type7_hash``.
- Portaria 1510 (Anexo I): field positions per ``mayconwisley/LeitorFiscal``
  ``LeitorAEJ/AFD/Portaria_1510/*.cs``: header fields up to position 232
  (ddmmaaaa dates, hhmm generation time) then a CRC in 233-236; type 2 of 299;
  type 3 of 34 (NSR, ``3``, ddmmaaaa, hhmm, PIS of 12); type 4 of 34; type 5 of
  87; type 6 of 24; trailer of 55 (counts of types 2 to 6, ``9`` at 55). The
  header of 232 without CRC and the trailer of 46 without the type-6 count (the
  2009 text as remembered, no source found here) are accepted as well.

Choices where the sources are silent or disagree
------------------------------------------------
- The chain links type-7 records only, skipping other types between them (the
  PostgreSQL store selects the previous type 7; the others say "registro
  anterior" without a type). A record chains from field 8 of the previous type-7
  record of the right length as written, even when that record was refused, so
  one altered punch refuses one line, and an altered hash refuses two.
- A partial export may start after the REP's first type-7 record, whose hash is
  then not in the file. The first type-7 record that does not chain from the
  empty seed is therefore a warning, unless the file starts at NSR 1, where
  nothing can precede it: then it is refused. See ``_first_link_is_strict``.
- A gap in the NSR sequence proves a record is missing, not that the present
  one is false, so it is a warning; a repeated or decreasing NSR is refused.
  See ``_judge_nsr``.
- CRC-16/KERMIT is checked on every 671 record of types 1 to 5. The layout
  prescribes it for REP-A and REP-P only; a REP-C may use another variant. When
  every CRC in a file fails, a warning says so.
- The 1510 header CRC (236 revision) is not checked: no source names its variant.
- The collector id (type 7, field 6) is kept as written; the on-line flag must be
  ``0`` (on-line) or ``1`` (off-line).
- Seconds are kept as written, although the layout fixes them at ``00``.
- Layout versions other than ``003`` and ``004`` are read the same way, with a
  warning.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from adapter.domain.identifiers import normalize_cnpj, normalize_cpf
from adapter.errors import ValidationError

HEADER_PREFIX = "0000000001"  # NSR 000000000 followed by record type 1
TRAILER_NSR = 999999999
SIGNATURE_MARK = "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S"
TYPE7_CHAIN_SEED = ""  # what the first type-7 record chains from
KNOWN_671_VERSIONS = frozenset({"003", "004"})

_KERMIT_POLY = 0x8408  # 0x1021 reflected
_PIS_WEIGHTS = (3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_DH = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-])(\d\d)(\d\d)", re.ASCII
)
_DIGITS = re.compile(r"\d+", re.ASCII)


class AfdLayout(enum.StrEnum):
    PORTARIA_671 = "671"  # Portaria MTP 671/2021, Anexo V
    PORTARIA_1510 = "1510"  # Portaria MTE 1510/2009, Anexo I (legacy)


@dataclass(frozen=True)
class AfdHeader:
    """The type-1 record: who kept the records, on which REP, for which period.

    ``employer_id`` is the normalized CNPJ or CPF, or the text as written when its
    check digits fail (the header line is then in ``AfdReport.refused``).
    ``generated_at`` is aware for 671 and naive local time for 1510.
    """

    layout: AfdLayout
    layout_version: str | None  # "003"/"004" for 671, None for 1510
    employer_id_type: int  # 1 = CNPJ, 2 = CPF
    employer_id: str
    cno_caepf: str | None  # CNO/CAEPF (671) or CEI (1510), when filled
    company_name: str
    rep_id: str  # REP-P INPI registration or REP-C manufacture number
    start_date: dt.date
    end_date: dt.date
    generated_at: dt.datetime


@dataclass(frozen=True)
class Punch:
    """One time-clock punch (record type 3 or 7) that passed every check.

    ``timestamp`` is aware (offset from the record) for 671 and naive local time
    for 1510. The employee is identified by CPF (671) or PIS (1510). The type-7
    fields are None for type 3.
    """

    line_number: int
    nsr: int
    record_type: int
    timestamp: dt.datetime
    employee_cpf: str | None = None
    employee_pis: str | None = None
    recorded_at: dt.datetime | None = None
    collector_id: str | None = None  # 01 mobile, 02 browser, 03 desktop, 04/05
    online: bool | None = None
    hash: str | None = None  # field 8 as written


@dataclass(frozen=True)
class RefusedLine:
    """A line that was not accepted, and the first rule it broke."""

    line_number: int
    nsr: int | None
    reason: str


@dataclass(frozen=True)
class AfdWarning:
    """A finding that refuses no line: trailer counts, NSR gaps, chain anchor."""

    line_number: int | None
    nsr: int | None
    reason: str


@dataclass(frozen=True)
class AfdReport:
    """What ``parse_afd`` read; ``record_counts`` is keyed by record type."""

    sha256: str
    header: AfdHeader
    punches: tuple[Punch, ...]
    record_counts: Mapping[str, int]
    trailer_counts: Mapping[str, int] | None
    signature_lines: int
    refused: tuple[RefusedLine, ...]
    warnings: tuple[AfdWarning, ...]
    line_count: int

    @property
    def layout(self) -> AfdLayout:
        return self.header.layout


class _Refused(Exception):
    """Raised inside the reader to refuse the current line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- integrity functions ----------------------------------------------------------


def _kermit_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _KERMIT_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _kermit_table()


def crc16(data: bytes) -> int:
    """CRC-16/KERMIT (CCITT-TRUE) of ``data``, as Anexo V prescribes.

    Polynomial 0x1021 reflected (0x8408), initial value 0, input and output
    reflected, no final XOR: ``crc16(b"123456789") == 0x2189``.
    """
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def type7_hash(fields: str, previous_hash: str) -> str:
    """The SHA-256 (lowercase hex) that field 8 of a type-7 record must hold.

    ``fields`` is positions 1 to 73 of the record as written; ``previous_hash`` is
    field 8 of the previous type-7 record as written, or ``TYPE7_CHAIN_SEED``.
    """
    return hashlib.sha256((fields + previous_hash).encode("latin-1")).hexdigest()


def _crc_matches(record: str) -> bool:
    written = record[-4:]
    if not _HEX4.fullmatch(written):
        return False
    return int(written, 16) == crc16(record[:-4].encode("latin-1"))


def _judge_nsr(previous: int | None, nsr: int) -> tuple[bool, str] | None:
    """None when ``nsr`` follows ``previous``, else (refuse the line?, reason).

    A gap is reported and the record kept; a repeat or a step back is refused.
    """
    if previous is None or nsr == previous + 1:
        return None
    if nsr <= previous:
        return True, f"NSR {nsr:09d} repeats or goes back after {previous:09d}"
    return False, f"NSR {nsr:09d} is not the next after {previous:09d}"


def _first_link_is_strict(first_nsr: int | None) -> bool:
    """Whether the first type-7 record must chain from ``TYPE7_CHAIN_SEED``.

    Only a file that starts at NSR 1 is known to hold the REP's first record.
    """
    return first_nsr == 1


# --- field parsers ----------------------------------------------------------------


@lru_cache(maxsize=64)
def _offset(sign: str, hours: str, minutes: str) -> dt.timezone:
    if int(minutes) >= 60:
        raise ValueError("offset minutes")
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return dt.timezone(-delta if sign == "-" else delta)


def _parse_dh(text: str) -> dt.datetime:
    """A 671 ``AAAA-MM-ddThh:mm:ssZZZZZ`` field as an aware datetime."""
    match = _DH.fullmatch(text)
    if match is None:
        raise _Refused(f"timestamp {text!r} is not AAAA-MM-ddThh:mm:00ZZZZZ")
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    try:
        zone = _offset(sign, oh, om)
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), 0, zone)
    except ValueError:
        raise _Refused(f"timestamp {text!r} is not a valid date and time") from None


def _parse_local(date8: str, time4: str) -> dt.datetime:
    """A 1510 ``ddmmaaaa`` + ``hhmm`` pair as a naive local datetime."""
    if not (_DIGITS.fullmatch(date8 + time4) and len(date8 + time4) == 12):
        raise _Refused(f"date and time {date8!r} {time4!r} are not ddmmaaaa hhmm")
    try:
        day = dt.datetime(int(date8[4:]), int(date8[2:4]), int(date8[:2]))
        return day.replace(hour=int(time4[:2]), minute=int(time4[2:]))
    except ValueError:
        raise _Refused(f"date {date8!r} {time4!r} is not a valid date") from None


@lru_cache(maxsize=8192)
def _employee_cpf(field: str) -> str:
    """The 11 digits of a 12-position, zero-padded CPF field."""
    if field[:1] != "0" or not _DIGITS.fullmatch(field):
        raise _Refused("invalid CPF (12 digits, the first one 0, expected)")
    try:
        return normalize_cpf(field[1:], "employeeCpf")
    except ValidationError as exc:
        raise _Refused(f"invalid CPF ({exc.rule})") from None


def _mod11(total: int) -> int:
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


@lru_cache(maxsize=8192)
def _employee_pis(field: str) -> str:
    """The 11 digits of a 12-position PIS/PASEP/NIT field (mod 11 check digit)."""
    digits = field[1:]
    if field[:1] != "0" or not _DIGITS.fullmatch(field) or set(digits) == {"0"}:
        raise _Refused("invalid PIS (12 digits, the first one 0, expected)")
    total = sum(int(c) * w for c, w in zip(digits, _PIS_WEIGHTS, strict=False))
    if int(digits[10]) != _mod11(total):
        raise _Refused("invalid PIS (check digit does not match, mod 11)")
    return digits


def _online(flag: str) -> bool:
    if flag not in ("0", "1"):
        raise _Refused(f"on-line flag {flag!r} is neither 0 nor 1")
    return flag == "0"


def _leading_nsr(line: str) -> int | None:
    head = line[:9]
    return int(head) if len(head) == 9 and head.isascii() and head.isdigit() else None


# --- punches per layout -----------------------------------------------------------


def _punch_671(number: int, line: str, nsr: int, kind: str) -> Punch:
    when, cpf = _parse_dh(line[10:34]), _employee_cpf(line[34:46])
    if kind == "3":
        return Punch(number, nsr, 3, when, employee_cpf=cpf)
    return Punch(
        number,
        nsr,
        7,
        when,
        employee_cpf=cpf,
        recorded_at=_parse_dh(line[46:70]),
        collector_id=line[70:72],
        online=_online(line[72]),
        hash=line[73:137],
    )


def _punch_1510(number: int, line: str, nsr: int, kind: str) -> Punch:
    when = _parse_local(line[10:18], line[18:22])
    return Punch(number, nsr, 3, when, employee_pis=_employee_pis(line[22:34]))


@dataclass(frozen=True)
class _Layout:
    name: AfdLayout
    lengths: Mapping[str, int]  # record type -> length, header and trailer apart
    crc_types: frozenset[str]
    trailers: Mapping[int, tuple[str, ...]]  # trailer length -> counted types
    punch: Callable[[int, str, int, str], Punch]


_P671 = _Layout(
    AfdLayout.PORTARIA_671,
    {"2": 331, "3": 50, "4": 73, "5": 118, "6": 36, "7": 137},
    frozenset("12345"),
    {64: ("2", "3", "4", "5", "6", "7")},
    _punch_671,
)
_P1510 = _Layout(
    AfdLayout.PORTARIA_1510,
    {"2": 299, "3": 34, "4": 34, "5": 87, "6": 24},
    frozenset(),
    {46: ("2", "3", "4", "5"), 55: ("2", "3", "4", "5", "6")},
    _punch_1510,
)


# --- header -----------------------------------------------------------------------


def _detect_layout(line: str) -> _Layout:
    """671 by its 302-character header, 1510 by its shorter one (232 or 236)."""
    if not line.startswith(HEADER_PREFIX):
        raise ValidationError(
            "file", "an AFD starts with a header record (NSR 000000000, type 1)"
        )
    if len(line) == 302:
        return _P671
    if len(line) in (232, 236):
        return _P1510
    raise ValidationError(
        "file",
        f"header length {len(line)} is neither Portaria 671 (302) "
        "nor Portaria 1510 (232 or 236)",
    )


def _header_when(
    name: str, parse: Callable[..., dt.datetime], *parts: str
) -> dt.datetime:
    """A header date or timestamp; a header that cannot be read is not an AFD."""
    try:
        return parse(*parts)
    except _Refused as refusal:
        raise ValidationError("file", f"header {name}: {refusal.reason}") from None


def _employer_id(kind: str, raw: str) -> tuple[int, str, str | None]:
    """(id type, normalized id or raw text, reason to refuse the header or None)."""
    text = raw.strip()
    try:
        if kind == "1":
            return 1, normalize_cnpj(text, "employerId"), None
        if kind == "2":
            cpf = text[3:] if len(text) == 14 and text.startswith("000") else text
            return 2, normalize_cpf(cpf, "employerId"), None
    except ValidationError as exc:
        label = "CNPJ" if kind == "1" else "CPF"
        return int(kind), text, f"invalid employer {label} ({exc.rule})"
    raise ValidationError("file", f"header employer id type {kind!r} is not 1 or 2")


def _header_671(line: str) -> tuple[AfdHeader, str | None]:
    id_type, employer, problem = _employer_id(line[10], line[11:25])
    header = AfdHeader(
        layout=AfdLayout.PORTARIA_671,
        layout_version=line[250:253],
        employer_id_type=id_type,
        employer_id=employer,
        cno_caepf=_optional(line[25:39]),
        company_name=line[39:189].strip(),
        rep_id=line[189:206].strip(),
        start_date=_header_when("start date", _iso_day, line[206:216]).date(),
        end_date=_header_when("end date", _iso_day, line[216:226]).date(),
        generated_at=_header_when("generated at", _parse_dh, line[226:250]),
    )
    return header, problem


def _optional(text: str) -> str | None:
    """A filled optional field, stripped; None when blank or all zeros."""
    value = text.strip()
    return value if value.strip("0") else None


def _iso_day(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise _Refused(f"date {text!r} is not AAAA-MM-dd") from None


def _header_1510(line: str) -> tuple[AfdHeader, str | None]:
    id_type, employer, problem = _employer_id(line[10], line[11:25])
    header = AfdHeader(
        layout=AfdLayout.PORTARIA_1510,
        layout_version=None,
        employer_id_type=id_type,
        employer_id=employer,
        cno_caepf=_optional(line[25:37]),
        company_name=line[37:187].strip(),
        rep_id=line[187:204].strip(),
        start_date=_header_when(
            "start date", _parse_local, line[204:212], "0000"
        ).date(),
        end_date=_header_when("end date", _parse_local, line[212:220], "0000").date(),
        generated_at=_header_when(
            "generated at", _parse_local, line[220:228], line[228:232]
        ),
    )
    return header, problem


# --- the reader -------------------------------------------------------------------


class _Reader:
    """Reads the records after the header, one line at a time, keeping the state
    the checks need: the previous NSR, the previous type-7 hash, the counts."""

    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.counts: Counter[str] = Counter({"1": 1})
        self.punches: list[Punch] = []
        self.refused: list[RefusedLine] = []
        self.warnings: list[AfdWarning] = []
        self.signature_lines = 0
        self.last_nsr: int | None = None
        self.first_nsr: int | None = None
        self.previous_hash: str | None = None
        self.trailer_line: int | None = None
        self.trailer_counts: dict[str, int] | None = None
        self.crc_checked = self.crc_failed = 0

    def read_header(self, line: str, header: AfdHeader, problem: str | None) -> None:
        """Check the header's CRC and employer id, and note an unknown version."""
        try:
            if "1" in self.layout.crc_types:
                self._check_crc(line)
            if problem is not None:
                raise _Refused(problem)
        except _Refused as refusal:
            self.refused.append(RefusedLine(1, 0, refusal.reason))
        version = header.layout_version
        if version is not None and version not in KNOWN_671_VERSIONS:
            self.warn(1, 0, f"layout version {version!r} is not 003 or 004")

    def read(self, number: int, line: str) -> None:
        """Read one line; a broken rule becomes a ``RefusedLine``."""
        nsr = _leading_nsr(line)
        try:
            self._dispatch(number, line, nsr)
        except _Refused as refusal:
            shown = None if nsr == TRAILER_NSR else nsr
            self.refused.append(RefusedLine(number, shown, refusal.reason))

    def _dispatch(self, number: int, line: str, nsr: int | None) -> None:
        if not line:
            raise _Refused("blank line")
        if line.startswith(SIGNATURE_MARK):
            self.signature_lines += 1
        elif nsr is None:
            raise _Refused("the record does not start with a 9-digit NSR")
        elif nsr == TRAILER_NSR:
            self._read_trailer(number, line)
        else:
            self._read_record(number, line, nsr)

    def _read_record(self, number: int, line: str, nsr: int) -> None:
        kind = line[9:10]
        if kind == "1":
            raise _Refused("a second header record")
        expected = self.layout.lengths.get(kind)
        if expected is None:
            raise _Refused(f"unknown record type {kind!r}")
        self.counts[kind] += 1
        if self.trailer_line is not None:
            raise _Refused("record after the trailer")
        if self.first_nsr is None:
            self.first_nsr = nsr

        self._check_integrity(number, line, nsr, kind, expected)
        self._check_sequence(number, nsr)
        if kind in ("3", "7"):
            self.punches.append(self.layout.punch(number, line, nsr, kind))

    def _check_integrity(
        self, number: int, line: str, nsr: int, kind: str, expected: int
    ) -> None:
        try:
            if len(line) != expected:
                raise _Refused(
                    f"record length {len(line)}, expected {expected} for type {kind}"
                )
            if kind in self.layout.crc_types:
                self._check_crc(line)
            if kind == "7":
                self._check_chain(number, line, nsr)
        except _Refused:
            # A damaged record whose NSR is the expected one still holds its place,
            # so the next record is not reported as a gap.
            if self.last_nsr is not None and nsr == self.last_nsr + 1:
                self.last_nsr = nsr
            raise

    def _check_crc(self, line: str) -> None:
        self.crc_checked += 1
        if not _crc_matches(line):
            self.crc_failed += 1
            raise _Refused("CRC-16 does not match")

    def _check_chain(self, number: int, line: str, nsr: int) -> None:
        previous, self.previous_hash = self.previous_hash, line[73:137]
        seed = TYPE7_CHAIN_SEED if previous is None else previous
        if type7_hash(line[:73], seed) == line[73:137].lower():
            return
        if previous is None and not _first_link_is_strict(self.first_nsr):
            self.warn(
                number,
                nsr,
                "the first type-7 record does not chain from an empty "
                "value: its predecessor is outside this file, its hash is unchecked",
            )
            return
        raise _Refused("hash chain broken: SHA-256 does not match the previous record")

    def _check_sequence(self, number: int, nsr: int) -> None:
        verdict = _judge_nsr(self.last_nsr, nsr)
        if verdict is not None and verdict[0]:
            raise _Refused(verdict[1])
        if verdict is not None:
            self.warn(number, nsr, verdict[1])
        self.last_nsr = nsr

    def _read_trailer(self, number: int, line: str) -> None:
        self.counts["9"] += 1
        if self.trailer_line is not None:
            raise _Refused("a second trailer record")
        kinds = self.layout.trailers.get(len(line))
        if kinds is None:
            lengths = " or ".join(str(n) for n in self.layout.trailers)
            raise _Refused(f"record length {len(line)}, expected {lengths} for type 9")
        if line[-1] != "9" or not _DIGITS.fullmatch(line):
            raise _Refused("a trailer holds digits only and ends with 9")
        self.trailer_line = number
        self.trailer_counts = {
            kind: int(line[9 + 9 * i : 18 + 9 * i]) for i, kind in enumerate(kinds)
        }

    def warn(self, number: int | None, nsr: int | None, reason: str) -> None:
        self.warnings.append(AfdWarning(number, nsr, reason))

    def finish(self) -> None:
        """Compare the trailer with what was read; flag a foreign CRC variant."""
        if self.trailer_counts is None:
            self.warn(None, None, "the file has no trailer (type 9) record")
        else:
            self._compare_trailer(self.trailer_counts)
        if self.crc_checked > 1 and self.crc_failed == self.crc_checked:
            self.warn(
                None,
                None,
                "every CRC-16 fails: the REP may use a variant other "
                "than CRC-16/KERMIT (a REP-C is not bound to it)",
            )

    def _compare_trailer(self, counts: Mapping[str, int]) -> None:
        for kind, declared in counts.items():
            if declared != self.counts[kind]:
                self.warn(
                    self.trailer_line,
                    None,
                    f"trailer counts {declared} type-{kind} "
                    f"records, the file has {self.counts[kind]}",
                )


# --- entry point ------------------------------------------------------------------


def _split_lines(data: bytes) -> list[str]:
    """Lines of ``data`` without their CRLF or LF; ISO-8859-1 maps byte to char."""
    lines = data.decode("latin-1").split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_header(line: str) -> tuple[_Layout, AfdHeader, str | None]:
    layout = _detect_layout(line)
    header, problem = (_header_671 if layout is _P671 else _header_1510)(line)
    return layout, header, problem


def parse_afd(data: bytes) -> AfdReport:
    """Read an AFD byte-exact and report its header, punches and refused lines.

    Raises ``ValidationError("file", ...)`` when ``data`` is not an AFD: empty, or
    its first line is not a Portaria 671 or 1510 header. Every other problem is
    reported in ``refused`` or ``warnings`` and the rest of the file is read.
    """
    lines = _split_lines(data)
    if not lines:
        raise ValidationError("file", "an AFD cannot be empty")
    layout, header, problem = _read_header(lines[0])

    reader = _Reader(layout)
    reader.read_header(lines[0], header, problem)
    for number, line in enumerate(lines[1:], start=2):
        reader.read(number, line)
    reader.finish()

    return AfdReport(
        sha256=hashlib.sha256(data).hexdigest(),
        header=header,
        punches=tuple(reader.punches),
        record_counts={
            k: reader.counts[k] for k in sorted({"1", "9", *layout.lengths})
        },
        trailer_counts=reader.trailer_counts,
        signature_lines=reader.signature_lines,
        refused=tuple(reader.refused),
        warnings=tuple(reader.warnings),
        line_count=len(lines),
    )
