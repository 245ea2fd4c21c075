"""Brazilian identifiers: CPF, CNPJ (numeric and alphanumeric) and CNJ numbers.

Each ``normalize_*`` function returns the canonical, unmasked form or raises
``ValidationError`` naming the field and the rule that failed.
"""

from __future__ import annotations

import datetime as dt
import re

from adapter.errors import ValidationError

_CNPJ_W1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W2 = (6, *_CNPJ_W1)
# ASCII only: \d would also accept Arabic-Indic or full-width digits.
_CNJ_MASKED = re.compile(
    r"([0-9]{1,7})-([0-9]{2})\.([0-9]{4})\.([0-9])\.([0-9]{2})\.([0-9]{4})"
)
FIRST_CNJ_YEAR = 1900


def _mod11_digit(total: int) -> int:
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def normalize_cpf(value: str, field: str = "taxId") -> str:
    """Return the 11 digits of a CPF; masks (``123.456.789-09``) are accepted."""
    digits = re.sub(r"[.\-\s]", "", value)
    if not re.fullmatch(r"[0-9]{11}", digits):
        raise ValidationError(field, "a CPF has 11 digits")
    if digits == digits[0] * 11:
        raise ValidationError(field, "a CPF cannot have all digits equal")
    numbers = [int(c) for c in digits]
    for size in (9, 10):
        total = sum(
            n * w for n, w in zip(numbers, range(size + 1, 1, -1), strict=False)
        )
        if numbers[size] != _mod11_digit(total):
            raise ValidationError(field, "CPF check digits do not match (mod 11)")
    return digits


def normalize_cnpj(value: str, field: str = "taxId") -> str:
    """Return the 14 characters of a CNPJ, numeric or alphanumeric (IN RFB 2.229/2024).

    The first 12 characters may be ``0-9A-Z`` (valued ``ord(c) - 48``); the two
    check digits are always numeric.
    """
    chars = re.sub(r"[./\-\s]", "", value).upper()
    if not re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", chars):
        raise ValidationError(
            field, "a CNPJ has 12 letters or digits followed by 2 check digits"
        )
    if chars == chars[0] * 14:
        raise ValidationError(field, "a CNPJ cannot have all characters equal")
    values = [ord(c) - 48 for c in chars[:12]]
    for weights in (_CNPJ_W1, _CNPJ_W2):
        values.append(
            _mod11_digit(sum(v * w for v, w in zip(values, weights, strict=True)))
        )
    if chars[12:] != f"{values[12]}{values[13]}":
        raise ValidationError(field, "CNPJ check digits do not match (mod 11)")
    return chars


def normalize_cnj(value: str, field: str = "lawsuitNumber") -> str:
    """Return the 20 digits of a CNJ unified number (Res. CNJ 65/2008).

    Accepts ``NNNNNNN-DD.AAAA.J.TR.OOOO`` (leading zeros of NNNNNNN may be
    omitted) or 20 bare digits. The check digits follow ISO 7064 mod 97-10.
    """
    text = value.strip()
    match = _CNJ_MASKED.fullmatch(text)
    if match:
        seq, dd, year, segment, court, origin = match.groups()
        digits = f"{int(seq):07d}{dd}{year}{segment}{court}{origin}"
    elif re.fullmatch(r"[0-9]{20}", text):
        digits = text
    else:
        raise ValidationError(
            field, "a CNJ number reads NNNNNNN-DD.AAAA.J.TR.OOOO or has 20 digits"
        )
    seq, dd, rest = digits[:7], digits[7:9], digits[9:]
    if int(seq + rest + dd) % 97 != 1:
        raise ValidationError(field, "CNJ check digits do not match (ISO 7064 mod 97)")
    if digits[13] == "0":
        raise ValidationError(field, "CNJ judicial segment J must be 1 to 9")
    year = int(digits[9:13])
    if not FIRST_CNJ_YEAR <= year <= dt.date.today().year:
        raise ValidationError(
            field, f"CNJ year AAAA must be between {FIRST_CNJ_YEAR} and this year"
        )
    return digits


def cnj_check_digits(seq: str, year: str, segment: str, court: str, origin: str) -> str:
    """The two check digits for the given parts (used to build test numbers)."""
    base = f"{int(seq):07d}{year}{segment}{court}{origin}00"
    return f"{98 - int(base) % 97:02d}"


def format_cnj(digits: str) -> str:
    """``NNNNNNN-DD.AAAA.J.TR.OOOO`` for 20 stored digits."""
    d = digits
    return f"{d[:7]}-{d[7:9]}.{d[9:13]}.{d[13]}.{d[14:16]}.{d[16:]}"


def mask_cpf(value: str) -> str:
    """LGPD display form: only the middle six digits, ``***.456.789-**``."""
    digits = re.sub(r"\D", "", value)
    if len(digits) != 11:
        return "***"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_tax_id(value: str) -> str:
    """Mask a CPF; a company's CNPJ is public and shown as it is."""
    compact = re.sub(r"[.\-/\s]", "", value)
    return mask_cpf(compact) if len(compact) == 11 else compact
