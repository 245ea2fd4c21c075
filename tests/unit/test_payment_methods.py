"""Payment methods: boleto, PIX keys, bank accounts and judicial deposit guides.

The boleto fixture is the worked example of the legal-domain notes §2.4: bank
001, due 2026-03-31 (factor 1402), R$ 1.234,56.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapter.domain.payment_methods import (
    AccountType,
    DepositBank,
    PixKeyType,
    barcode_to_digitable_line,
    check_boleto_matches,
    check_holder_matches,
    digitable_line_to_barcode,
    due_date_factor,
    factor_to_date,
    mod10_digit,
    mod11_digit,
    parse_boleto,
    validate_bank_account,
    validate_barcode,
    validate_deposit_guide,
    validate_digitable_line,
    validate_pix_key,
)
from adapter.errors import ValidationError

BARCODE = "00199140200001234560000001234567800000000117"
LINE = "00190.00009 01234.567806 00000.001172 9 14020000123456"
LINE_DIGITS = "00190000090123456780600000001172914020000123456"
DUE = dt.date(2026, 3, 31)
AMOUNT = Decimal("1234.56")


def replace_at(text: str, index: int, char: str) -> str:
    return text[:index] + char + text[index + 1 :]


def other_digit(char: str) -> str:
    return str((int(char) + 1) % 10)


# Boleto: check digits and conversion


def test_worked_example_barcode_is_valid() -> None:
    assert validate_barcode(BARCODE) == BARCODE


def test_worked_example_general_dv_is_mod_11_of_the_other_43_digits() -> None:
    assert mod11_digit(BARCODE[:4] + BARCODE[5:]) == 9


@pytest.mark.parametrize(
    ("digits", "dv"),
    [
        ("0", 1),  # 11 - 0 = 11 becomes 1
        ("6", 1),  # 6*2 = 12, 11 - 1 = 10 becomes 1
        ("5", 1),  # 5*2 = 10, 11 - 10 = 1
        ("4", 3),  # 4*2 = 8, 11 - 8 = 3
        ("11", 6),  # 1*2 + 1*3 = 5, 11 - 5 = 6: weights grow from the right
        ("100000000", 9),  # the 9th digit from the right weighs 2 again
    ],
)
def test_mod_11_results_10_and_11_become_1(digits: str, dv: int) -> None:
    assert mod11_digit(digits) == dv


def test_mod_10_sums_the_digits_of_each_product() -> None:
    # 001900000: weights from the right 2,1,2,...: 9*2 = 18 counts as 1 + 8.
    assert mod10_digit("001900000") == 9
    assert mod10_digit("0123456780") == 6


def test_barcode_with_a_wrong_general_dv_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"barcode: general check digit .*mod 11"):
        validate_barcode(replace_at(BARCODE, 4, "8"))


def test_barcode_with_a_changed_amount_is_refused() -> None:
    with pytest.raises(ValidationError, match="barcode: general check digit"):
        validate_barcode(replace_at(BARCODE, 18, "7"))


@pytest.mark.parametrize("value", [BARCODE[:-1], BARCODE + "1", "A" + BARCODE[1:], ""])
def test_barcode_must_have_44_digits(value: str) -> None:
    with pytest.raises(ValidationError, match="barcode: "):
        validate_barcode(value)


def test_barcode_length_rule_is_stated() -> None:
    with pytest.raises(
        ValidationError, match="barcode: a boleto barcode has 44 digits"
    ):
        validate_barcode(BARCODE[:-1])


def test_barcode_currency_code_must_be_9() -> None:
    other = BARCODE[:3] + "0" + "_" + BARCODE[5:]
    dv = mod11_digit(other[:4] + other[5:])
    with pytest.raises(ValidationError, match=r"barcode: currency code .* must be 9"):
        validate_barcode(replace_at(other, 4, str(dv)))


@pytest.mark.parametrize("value", [LINE, LINE_DIGITS])
def test_worked_example_line_is_valid_with_or_without_mask(value: str) -> None:
    assert validate_digitable_line(value) == LINE_DIGITS


@pytest.mark.parametrize(("index", "field"), [(9, 1), (20, 2), (31, 3)])
def test_line_with_a_wrong_field_dv_is_refused(index: int, field: int) -> None:
    broken = replace_at(LINE_DIGITS, index, other_digit(LINE_DIGITS[index]))
    with pytest.raises(
        ValidationError,
        match=rf"digitableLine: check digit of field {field} .*mod 10",
    ):
        validate_digitable_line(broken)


def test_line_with_a_changed_amount_fails_the_general_dv() -> None:
    broken = replace_at(LINE_DIGITS, 46, "7")
    with pytest.raises(ValidationError, match="digitableLine: general check digit"):
        validate_digitable_line(broken)


def test_line_must_have_47_digits() -> None:
    with pytest.raises(ValidationError, match=r"digitableLine: .* has 47 digits"):
        validate_digitable_line(LINE_DIGITS[:-1])


def test_line_converts_to_the_worked_example_barcode() -> None:
    assert digitable_line_to_barcode(LINE) == BARCODE


def test_barcode_converts_to_the_worked_example_line() -> None:
    assert barcode_to_digitable_line(BARCODE) == LINE_DIGITS


# Boleto: factor, amount and due date


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (dt.date(2000, 7, 3), 1000),
        (dt.date(2025, 2, 21), 9999),
        (dt.date(2025, 2, 22), 1000),
        (DUE, 1402),
    ],
)
def test_due_date_factor_restarts_at_1000_on_2025_02_22(
    day: dt.date, factor: int
) -> None:
    assert due_date_factor(day) == factor


def test_due_date_before_factor_1000_has_no_factor() -> None:
    with pytest.raises(ValidationError, match="dueDate: must not be before 2000-07-03"):
        due_date_factor(dt.date(2000, 7, 2))


@pytest.mark.parametrize(
    ("factor", "reference", "expected"),
    [
        (1402, dt.date(2026, 1, 1), DUE),
        (1402, dt.date(2001, 1, 1), dt.date(2001, 8, 9)),
        (9999, dt.date(2025, 3, 1), dt.date(2025, 2, 21)),
        (1000, dt.date(2025, 3, 1), dt.date(2025, 2, 22)),
        (0, dt.date(2026, 1, 1), None),
    ],
)
def test_factor_reads_as_the_due_date_nearest_the_reference(
    factor: int, reference: dt.date, expected: dt.date | None
) -> None:
    assert factor_to_date(factor, reference) == expected


def test_worked_example_barcode_carries_bank_amount_and_due_date() -> None:
    boleto = parse_boleto(BARCODE)
    assert (boleto.bank, boleto.factor, boleto.amount_cents) == ("001", 1402, 123456)
    assert boleto.amount == AMOUNT
    assert boleto.free_field == "0000001234567800000000117"
    assert boleto.due_date(dt.date(2026, 3, 1)) == DUE


def test_boleto_matching_the_order_passes() -> None:
    check_boleto_matches(BARCODE, AMOUNT, DUE)


@pytest.mark.parametrize("amount", [Decimal("1234.57"), Decimal("1234.555")])
def test_boleto_with_another_amount_is_refused(amount: Decimal) -> None:
    with pytest.raises(ValidationError, match=r"barcode: value 1234.56 inside differs"):
        check_boleto_matches(BARCODE, amount, DUE)


def test_boleto_with_another_due_date_is_refused() -> None:
    with pytest.raises(
        ValidationError, match="barcode: due-date factor 1402 inside differs from 1403"
    ):
        check_boleto_matches(BARCODE, AMOUNT, dt.date(2026, 4, 1))


# PIX


@pytest.mark.parametrize(
    ("key_type", "key", "expected"),
    [
        ("cpf", "123.456.789-09", "12345678909"),
        ("cnpj", "11.222.333/0001-81", "11222333000181"),
        ("CNPJ", "12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("email", "juridico@empresa.com.br", "juridico@empresa.com.br"),
        ("phone", "+55 (11) 98765-4321", "+5511987654321"),
        ("phone", "+551133334444", "+551133334444"),
        (
            "evp",
            "123E4567-E89B-12D3-A456-426614174000",
            "123e4567-e89b-12d3-a456-426614174000",
        ),
    ],
)
def test_valid_pix_keys_are_normalized(key_type: str, key: str, expected: str) -> None:
    pix = validate_pix_key(key_type, key)
    assert (pix.type, pix.key) == (PixKeyType(key_type.lower()), expected)


@pytest.mark.parametrize(
    ("key_type", "key", "rule"),
    [
        ("cpf", "123.456.789-08", "CPF check digits"),
        ("cnpj", "11.222.333/0001-82", "CNPJ check digits"),
        ("email", "juridico.empresa.com.br", "e-mail key"),
        ("email", "juridico@empresa", "e-mail key"),
        ("email", "a" * 70 + "@empresa.com", "77 at most"),
        ("phone", "11987654321", r"\+55 followed by 10 or 11 digits"),
        ("phone", "+55119876543210", r"\+55 followed by 10 or 11 digits"),
        ("phone", "+1 202 555 0100", r"\+55 followed"),
        ("evp", "123e4567e89b12d3a456426614174000", "36-character UUID"),
        ("evp", "123e4567-e89b-12d3-a456-42661417400g", "36-character UUID"),
    ],
)
def test_bad_pix_keys_name_the_rule(key_type: str, key: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"pixKey: .*{rule}"):
        validate_pix_key(key_type, key)


def test_an_11_digit_key_is_judged_by_its_declared_type() -> None:
    assert validate_pix_key("cpf", "12345678909").key == "12345678909"
    with pytest.raises(ValidationError, match="pixKey: a phone key"):
        validate_pix_key("phone", "12345678909")


def test_pix_key_type_must_be_known() -> None:
    with pytest.raises(ValidationError, match="pixKeyType: must be one of cpf"):
        validate_pix_key("iban", "x")


# Bank account


def test_valid_bank_account_is_split_into_parts() -> None:
    account = validate_bank_account(
        "001", "1234-X", "12345-6", "checking", "123.456.789-09"
    )
    assert (account.agency, account.agency_digit) == ("1234", "X")
    assert (account.account, account.account_digit) == ("12345", "6")
    assert account.account_type is AccountType.CHECKING
    assert account.holder_tax_id == "12345678909"


def test_agency_without_dv_is_accepted() -> None:
    account = validate_bank_account("104", "1", "0001-2", "savings", "11222333000181")
    assert (account.agency, account.agency_digit) == ("1", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", "1234", "12345-6", "checking"), "bankCode: a COMPE bank code has 3"),
        (("0001", "1234", "12345-6", "checking"), "bankCode: is longer than 3"),
        (("001", "123456", "12345-6", "checking"), "agency: an agency has 1 to 5"),
        (("001", "12-34", "12345-6", "checking"), "agency: an agency has 1 to 5"),
        (("001", "1234", "-6", "checking"), "account: an account has up to 20"),
        (("001", "1234", "12345-", "checking"), "account: an account has up to 20"),
        (("001", "1234", "12345-6", "investment"), "accountType: must be one of"),
        (("001", "", "12345-6", "checking"), "agency: is required"),
    ],
)
def test_bad_bank_account_names_the_field(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_bank_account(*args, "123.456.789-09")


def test_bank_account_holder_must_have_a_valid_tax_id() -> None:
    with pytest.raises(ValidationError, match=r"holderTaxId: .*mod 11"):
        validate_bank_account("001", "1234", "12345-6", "payment", "123.456.789-08")


def test_holder_equal_to_beneficiary_matches() -> None:
    check_holder_matches("123.456.789-09", "12345678909")


def test_holder_at_another_branch_of_the_beneficiary_matches() -> None:
    check_holder_matches("11.222.333/0002-62", "11.222.333/0001-81")


def test_holder_other_than_the_beneficiary_is_refused() -> None:
    with pytest.raises(ValidationError, match="holderTaxId: must be the beneficiary"):
        check_holder_matches("529.982.247-25", "123.456.789-09")


def test_holder_that_is_an_authorized_lawyer_matches() -> None:
    check_holder_matches(
        "529.982.247-25", "123.456.789-09", authorized_tax_ids=["52998224725"]
    )


# Judicial deposit guide


@pytest.mark.parametrize(("bank", "expected"), [("BB", "bb"), ("104", "cef")])
def test_valid_deposit_guide_is_normalized(bank: str, expected: str) -> None:
    guide = validate_deposit_guide(
        bank, "0123.4567.8901", "4600-1234567-8", "0084500-31.2009.5.09.0091"
    )
    assert guide.bank is DepositBank(expected)
    assert guide.guide_number == "012345678901"
    assert guide.judicial_account == "460012345678"
    assert guide.cnj_number == "00845003120095090091"
    assert guide.court_unit is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("itau", "1", "2", "0084500-31.2009.5.09.0091"), "bank: must be one of bb"),
        (("bb", "", "2", "0084500-31.2009.5.09.0091"), "guideNumber: is required"),
        (("bb", "1#", "2", "0084500-31.2009.5.09.0091"), "guideNumber: a guide"),
        (("bb", "1", "", "0084500-31.2009.5.09.0091"), "judicialAccount: is required"),
        (("bb", "1", "2", ""), "cnjNumber: is required"),
        (("bb", "1", "2", "0084500-32.2009.5.09.0091"), "cnjNumber: .*mod 97"),
    ],
)
def test_bad_deposit_guide_names_the_field(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_deposit_guide(*args)
