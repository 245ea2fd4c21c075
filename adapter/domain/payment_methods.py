"""How a payment order is paid: boleto, PIX, bank transfer or judicial deposit guide.

Boleto layout (FEBRABAN), 44-digit barcode::

    bank(3) currency(1, always 9) DV(1) factor(4) value in cents(10) free field(25)

The 47-digit linha digitável carries the same digits in five fields: fields 1 to
3 (bank, currency and the free field) each end with a mod-10 check digit,
field 4 is the barcode's general check digit and field 5 is factor + value.

Not covered yet: the 48-digit arrecadação line of utility and tax guides
(first digit 8), and bank-specific check digits of agencies and accounts.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from adapter.domain.identifiers import normalize_cnj, normalize_cnpj, normalize_cpf
from adapter.domain.lawsuits import optional_text, parse_choice
from adapter.domain.parties import normalize_any_tax_id, required_text
from adapter.errors import ValidationError

FACTOR_BASE = dt.date(1997, 10, 7)  # factor 0 (FEBRABAN)
_FACTOR_CYCLE = 9000  # factors run 1000..9999, then restart (2025-02-22 is 1000)
_MASK = re.compile(r"[\s.\-]")


# Boleto: check digits


def mod10_digit(digits: str) -> int:
    """Mod-10 DV of a linha digitável field: weights 2,1 from the right."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_digit(digits: str) -> int:
    """General DV of a barcode: weights 2..9 from the right; 0, 10 and 11 give 1."""
    total = sum(
        int(char) * (2 + position % 8) for position, char in enumerate(reversed(digits))
    )
    digit = 11 - total % 11
    return 1 if digit in (0, 10, 11) else digit


def _digits(value: str | None, field: str, size: int, name: str) -> str:
    text = _MASK.sub("", required_text(value, field, 80))
    if not re.fullmatch(rf"\d{{{size}}}", text):
        raise ValidationError(field, f"a {name} has {size} digits")
    return text


def validate_barcode(value: str | None, field: str = "barcode") -> str:
    """The 44 digits of a boleto barcode, once its layout and general DV check."""
    code = _digits(value, field, 44, "boleto barcode")
    if code[3] != "9":
        raise ValidationError(field, "currency code (4th digit) must be 9, the real")
    if int(code[4]) != mod11_digit(code[:4] + code[5:]):
        raise ValidationError(field, "general check digit does not match (mod 11)")
    return code


def validate_digitable_line(value: str | None, field: str = "digitableLine") -> str:
    """The 47 digits of a linha digitável, once its field DVs and general DV check."""
    line = _digits(value, field, 47, "linha digitável")
    for number, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        if int(line[end]) != mod10_digit(line[start:end]):
            raise ValidationError(
                field, f"check digit of field {number} does not match (mod 10)"
            )
    validate_barcode(_line_to_barcode(line), field)
    return line


def _line_to_barcode(line: str) -> str:
    free = line[4:9] + line[10:20] + line[21:31]
    return line[:4] + line[32] + line[33:47] + free


def digitable_line_to_barcode(line: str, field: str = "digitableLine") -> str:
    """The 44-digit barcode a valid linha digitável stands for."""
    return _line_to_barcode(validate_digitable_line(line, field))


def barcode_to_digitable_line(barcode: str, field: str = "barcode") -> str:
    """The 47-digit linha digitável of a valid barcode (no mask)."""
    code = validate_barcode(barcode, field)
    free = code[19:]
    parts = [code[:4] + free[:5], free[5:15], free[15:]]
    fields = [part + str(mod10_digit(part)) for part in parts]
    return "".join(fields) + code[4] + code[5:19]


# Boleto: due-date factor and amount


def due_date_factor(due_date: dt.date) -> int:
    """FEBRABAN due-date factor, restarting at 1000 on 2025-02-22."""
    days = (due_date - FACTOR_BASE).days
    if days < 1000:
        raise ValidationError("dueDate", "must not be before 2000-07-03 (factor 1000)")
    return (days - 1000) % _FACTOR_CYCLE + 1000


def factor_to_date(factor: int, reference: dt.date) -> dt.date | None:
    """The due date of ``factor`` nearest to ``reference``; factor 0 means none.

    Factors repeat every 9000 days, so ``reference`` (such as today or the
    order's issue date) picks the cycle.
    """
    if factor == 0:
        return None
    cycles = round(((reference - FACTOR_BASE).days - factor) / _FACTOR_CYCLE)
    return FACTOR_BASE + dt.timedelta(days=factor + max(cycles, 0) * _FACTOR_CYCLE)


@dataclass(frozen=True)
class Boleto:
    """The facts a barcode carries."""

    barcode: str
    bank: str  # COMPE code
    factor: int  # 0 when the boleto has no due date
    amount_cents: int  # 0 when the amount is left to the payer
    free_field: str  # 25 digits defined by the bank

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_cents) / 100

    def due_date(self, reference: dt.date) -> dt.date | None:
        """See ``factor_to_date``."""
        return factor_to_date(self.factor, reference)


def parse_boleto(barcode: str, field: str = "barcode") -> Boleto:
    """Check a 44-digit barcode and read bank, factor, amount and free field."""
    code = validate_barcode(barcode, field)
    return Boleto(
        barcode=code,
        bank=code[:3],
        factor=int(code[5:9]),
        amount_cents=int(code[9:19]),
        free_field=code[19:],
    )


def check_boleto_matches(
    barcode: str, amount: Decimal, due_date: dt.date, field: str = "barcode"
) -> None:
    """Raise ``ValidationError`` unless value and due date inside are the order's."""
    boleto = parse_boleto(barcode, field)
    cents = amount * 100
    if cents != cents.to_integral_value() or boleto.amount_cents != int(cents):
        raise ValidationError(
            field,
            f"value {boleto.amount} inside differs from the order amount {amount}",
        )
    expected = due_date_factor(due_date)
    if boleto.factor != expected:
        raise ValidationError(
            field,
            f"due-date factor {boleto.factor:04d} inside differs from "
            f"{expected} for the order due date {due_date.isoformat()}",
        )


# PIX


class PixKeyType(enum.StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"
    EMAIL = "email"
    PHONE = "phone"
    EVP = "evp"  # random key (UUID)


@dataclass(frozen=True)
class PixKey:
    type: PixKeyType
    key: str  # normalized: unmasked documents, +55 phone, lower-case EVP


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"\+55\d{10,11}")
_EVP = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_EMAIL_KEY = 77  # DICT limit for e-mail keys


def _pix_email(key: str) -> str:
    if len(key) > MAX_EMAIL_KEY or not _EMAIL.fullmatch(key):
        raise ValidationError("pixKey", "an e-mail key reads name@domain, 77 at most")
    return key


def _pix_phone(key: str) -> str:
    phone = re.sub(r"[\s()\-]", "", key)
    if not _PHONE.fullmatch(phone):
        raise ValidationError(
            "pixKey", "a phone key is +55 followed by 10 or 11 digits"
        )
    return phone


def _pix_evp(key: str) -> str:
    evp = key.lower()
    if not _EVP.fullmatch(evp):
        raise ValidationError("pixKey", "a random (EVP) key is a 36-character UUID")
    return evp


def validate_pix_key(key_type: str | None, key: str | None) -> PixKey:
    """Check a PIX key against its declared type (an 11-digit key may be either)."""
    kind = parse_choice(PixKeyType, key_type, "pixKeyType")
    text = required_text(key, "pixKey", 100)
    if kind is PixKeyType.CPF:
        normalized = normalize_cpf(text, "pixKey")
    elif kind is PixKeyType.CNPJ:
        normalized = normalize_cnpj(text, "pixKey")
    elif kind is PixKeyType.EMAIL:
        normalized = _pix_email(text)
    elif kind is PixKeyType.PHONE:
        normalized = _pix_phone(text)
    else:
        normalized = _pix_evp(text)
    return PixKey(type=kind, key=normalized)


# Bank transfer (TED / PIX by account)


class AccountType(enum.StrEnum):
    CHECKING = "checking"  # conta corrente
    SAVINGS = "savings"  # poupança
    PAYMENT = "payment"  # conta de pagamento


@dataclass(frozen=True)
class BankAccount:
    bank_code: str  # COMPE, 3 digits
    agency: str
    agency_digit: str | None
    account: str
    account_digit: str
    account_type: AccountType
    holder_tax_id: str


_AGENCY = re.compile(r"(\d{1,5})(?:-([0-9X]))?")
_ACCOUNT = re.compile(r"(\d{1,20})-?([0-9X])")


def _bank_code(value: str | None) -> str:
    code = required_text(value, "bankCode", 3)
    if not re.fullmatch(r"\d{3}", code):
        raise ValidationError("bankCode", "a COMPE bank code has 3 digits")
    return code


def validate_bank_account(
    bank_code: str | None,
    agency: str | None,
    account: str | None,
    account_type: str | None,
    holder_tax_id: str | None,
) -> BankAccount:
    """Check the account data of a transfer; raise at the first rule broken.

    ``agency`` is 1 to 5 digits with an optional ``-DV``; ``account`` ends with
    its check digit (``12345-6``). The DVs' bank-specific algorithms are not
    checked.
    """
    code = _bank_code(bank_code)
    agency_match = _AGENCY.fullmatch(required_text(agency, "agency", 7).upper())
    if not agency_match:
        raise ValidationError("agency", "an agency has 1 to 5 digits and optional -DV")
    account_match = _ACCOUNT.fullmatch(required_text(account, "account", 22).upper())
    if not account_match:
        raise ValidationError("account", "an account has up to 20 digits and a DV")
    return BankAccount(
        bank_code=code,
        agency=agency_match[1],
        agency_digit=agency_match[2],
        account=account_match[1],
        account_digit=account_match[2],
        account_type=parse_choice(AccountType, account_type, "accountType"),
        holder_tax_id=normalize_any_tax_id(
            required_text(holder_tax_id, "holderTaxId", 20), "holderTaxId"
        ),
    )


def _same_holder(holder: str, other: str) -> bool:
    # Branches of one company share the CNPJ root (first 8 characters).
    if len(holder) == len(other) == 14:
        return holder[:8] == other[:8]
    return holder == other


def check_holder_matches(
    holder_tax_id: str,
    beneficiary_tax_id: str,
    authorized_tax_ids: Iterable[str] = (),
) -> None:
    """Raise ``ValidationError`` unless the holder may receive for the beneficiary.

    The holder must be the beneficiary (for a company, any branch of it), or one
    of ``authorized_tax_ids``: lawyers whose power of attorney includes powers
    to receive and give discharge (CPC art. 105).
    """
    holder = normalize_any_tax_id(holder_tax_id, "holderTaxId")
    beneficiary = normalize_any_tax_id(beneficiary_tax_id, "beneficiaryTaxId")
    if _same_holder(holder, beneficiary):
        return
    authorized = {normalize_any_tax_id(t, "holderTaxId") for t in authorized_tax_ids}
    if holder not in authorized:
        raise ValidationError(
            "holderTaxId",
            "must be the beneficiary or a lawyer with powers to receive",
        )


# Judicial deposit guide


class DepositBank(enum.StrEnum):
    BB = "bb"  # Banco do Brasil, COMPE 001
    CEF = "cef"  # Caixa Econômica Federal, COMPE 104


_DEPOSIT_BANK_CODES = {"001": DepositBank.BB, "104": DepositBank.CEF}


@dataclass(frozen=True)
class DepositGuide:
    bank: DepositBank
    guide_number: str
    judicial_account: str
    cnj_number: str  # 20 digits
    court_unit: str | None  # vara


def _deposit_bank(value: str | None) -> DepositBank:
    text = (value or "").strip()
    if text in _DEPOSIT_BANK_CODES:
        return _DEPOSIT_BANK_CODES[text]
    return parse_choice(DepositBank, text, "bank")


def _code(value: str | None, field: str, name: str) -> str:
    text = _MASK.sub("", required_text(value, field, 40)).replace("/", "").upper()
    if not re.fullmatch(r"[0-9A-Z]{1,30}", text):
        raise ValidationError(field, f"a {name} has up to 30 letters or digits")
    return text


def validate_deposit_guide(
    bank: str | None,
    guide_number: str | None,
    judicial_account: str | None,
    cnj_number: str | None,
    court_unit: str | None = None,
) -> DepositGuide:
    """Check a judicial deposit guide (BB or CEF); the CNJ number is required.

    ``bank`` is ``bb``/``cef`` or the COMPE code ``001``/``104``.
    """
    return DepositGuide(
        bank=_deposit_bank(bank),
        guide_number=_code(guide_number, "guideNumber", "guide number"),
        judicial_account=_code(judicial_account, "judicialAccount", "judicial account"),
        cnj_number=normalize_cnj(
            required_text(cnj_number, "cnjNumber", 30), "cnjNumber"
        ),
        court_unit=optional_text(court_unit, "courtUnit", 120),
    )
