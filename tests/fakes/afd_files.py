"""Generate valid AFD files (Portaria 671/2021 and 1510/2009) for tests.

The CRC-16 and the type-7 SHA-256 chain are computed here independently of
``adapter.domain.afd``, so the tests check the parser against a second reading
of the layout rather than against itself::

    data = build_afd_671([FakePunch(WHEN), FakePunch(WHEN, record_type=7)])
    data = build_afd_1510([(dt.datetime(2012, 3, 1, 8), pis_with_check("1204567890"))])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BRT = dt.timezone(dt.timedelta(hours=-3))
EMPLOYER_CNPJ = "11222333000181"
DEVELOPER_CNPJ = "44555666000199"
CPF = "52998224725"  # synthetic, valid check digits
OTHER_CPF = "12345678909"
SIGNATURE = "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S".ljust(100)


@dataclass(frozen=True)
class FakePunch:
    """A type-3 (REP-C/REP-A) or type-7 (REP-P) punch to write."""

    when: dt.datetime
    cpf: str = CPF
    record_type: int = 3
    collector: str = "02"
    online: bool = True


@dataclass(frozen=True)
class FakeEvent:
    """A type-6 sensitive REP event (07 service available, 08 unavailable)."""

    when: dt.datetime
    code: str = "07"


@dataclass(frozen=True)
class FakeEmployee:
    """A type-5 employee inclusion (I), change (A) or deletion (E)."""

    when: dt.datetime
    cpf: str = CPF
    name: str = "JOAO DA SILVA"
    operation: str = "I"


FakeRecord = FakePunch | FakeEvent | FakeEmployee


def kermit(data: bytes) -> int:
    """CRC-16/KERMIT, bit by bit (the parser uses a table)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def with_crc(body: str) -> str:
    return body + f"{kermit(body.encode('latin-1')):04X}"


def dh(when: dt.datetime) -> str:
    """``AAAA-MM-ddThh:mm:00ZZZZZ``."""
    return when.strftime("%Y-%m-%dT%H:%M:00%z")


def pis_with_check(base: str) -> str:
    """A PIS from its first 10 digits plus the mod-11 check digit."""
    total = sum(
        int(c) * w for c, w in zip(base, (3, 2, 9, 8, 7, 6, 5, 4, 3, 2), strict=True)
    )
    rest = total % 11
    return base + str(0 if rest < 2 else 11 - rest)


# --- Portaria 671 ---------------------------------------------------------------


def header_671(start: dt.date, end: dt.date, version: str = "004") -> str:
    body = (
        "000000000" + "1" + "1" + EMPLOYER_CNPJ + " " * 14
        + "EMPRESA FICTICIA DE TESTES LTDA".ljust(150) + "BR512021000123456"
        + start.isoformat() + end.isoformat()
        + dh(dt.datetime.combine(end, dt.time(23, 0), BRT)) + version
        + "1" + DEVELOPER_CNPJ + " " * 30
    )  # fmt: skip
    return with_crc(body)


def _type3(nsr: int, punch: FakePunch) -> str:
    return with_crc(f"{nsr:09d}3{dh(punch.when)}0{punch.cpf}")


def _type7(nsr: int, punch: FakePunch, previous: str, upper: bool) -> str:
    flag = "0" if punch.online else "1"
    fields = f"{nsr:09d}7{dh(punch.when)}0{punch.cpf}{dh(punch.when)}"
    fields += punch.collector + flag
    digest = hashlib.sha256((fields + previous).encode("latin-1")).hexdigest()
    return fields + (digest.upper() if upper else digest)


def _type5(nsr: int, record: FakeEmployee) -> str:
    body = f"{nsr:09d}5{dh(record.when)}{record.operation}0{record.cpf}"
    return with_crc(body + record.name.ljust(52) + " " * 4 + OTHER_CPF)


def _type6(nsr: int, record: FakeEvent) -> str:
    return f"{nsr:09d}6{dh(record.when)}{record.code}"


def build_afd_671(
    records: Iterable[FakeRecord],
    *,
    first_nsr: int = 1,
    nsrs: Sequence[int] | None = None,
    newline: str = "\r\n",
    chain_seed: str = "",
    trailer_overrides: Mapping[str, int] | None = None,
    version: str = "004",
    upper_hex: bool = False,
) -> bytes:
    """A valid 671 AFD: header, ``records`` numbered from ``first_nsr`` (or with
    the explicit ``nsrs``), trailer and signature line.

    ``chain_seed`` is what the first type-7 record chains from (a partial export
    chains from a hash outside the file); ``trailer_overrides`` falsifies counts;
    ``upper_hex`` writes (and chains) type-7 hashes in upper case, as some REPs do.
    """
    items = list(records)
    numbers = iter(nsrs) if nsrs is not None else itertools.count(first_nsr)
    lines, counts, previous = [], dict.fromkeys("234567", 0), chain_seed
    for record, nsr in zip(items, numbers, strict=False):
        line = _record_671(nsr, record, previous, upper_hex)
        if line[9] == "7":
            previous = line[73:]
        counts[line[9]] += 1
        lines.append(line)
    dates = [r.when.date() for r in items] or [dt.date(2026, 9, 24)]
    counts.update(trailer_overrides or {})
    trailer = "999999999" + "".join(f"{counts[k]:09d}" for k in "234567") + "9"
    head = header_671(min(dates), max(dates), version)
    return newline.join([head, *lines, trailer, SIGNATURE, ""]).encode("latin-1")


def _record_671(nsr: int, record: FakeRecord, previous: str, upper: bool) -> str:
    if isinstance(record, FakeEvent):
        return _type6(nsr, record)
    if isinstance(record, FakeEmployee):
        return _type5(nsr, record)
    if record.record_type == 7:
        return _type7(nsr, record, previous, upper)
    return _type3(nsr, record)


# --- Portaria 1510 --------------------------------------------------------------


def build_afd_1510(
    punches: Iterable[tuple[dt.datetime, str]],
    *,
    first_nsr: int = 1,
    newline: str = "\r\n",
) -> bytes:
    """A valid 1510 AFD: 232-character header, type-3 punches of (local time, PIS)
    and a 46-character trailer."""
    items = list(punches)
    dates = [when.date() for when, _ in items] or [dt.date(2012, 3, 1)]
    lines = [
        f"{nsr:09d}3{when:%d%m%Y%H%M}{pis.zfill(12)}"
        for nsr, (when, pis) in enumerate(items, start=first_nsr)
    ]
    header = (
        "000000000" + "1" + "1" + EMPLOYER_CNPJ + "0" * 12
        + "EMPRESA FICTICIA DE TESTES LTDA".ljust(150) + "00004000070000001"
        + f"{min(dates):%d%m%Y}{max(dates):%d%m%Y}{max(dates):%d%m%Y}1800"
    )  # fmt: skip
    trailer = f"999999999{0:09d}{len(lines):09d}{0:09d}{0:09d}9"
    return newline.join([header, *lines, trailer, ""]).encode("latin-1")
