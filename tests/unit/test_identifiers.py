"""CPF, CNPJ and CNJ check digits, with the worked examples of the domain notes."""

from __future__ import annotations

import pytest

from adapter.domain.identifiers import (
    cnj_check_digits,
    format_cnj,
    mask_cpf,
    normalize_cnj,
    normalize_cnpj,
    normalize_cpf,
)
from adapter.errors import ValidationError


@pytest.mark.parametrize("value", ["123.456.789-09", "12345678909"])
def test_valid_cpf_is_normalized_to_digits(value: str) -> None:
    assert normalize_cpf(value) == "12345678909"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("123.456.789-08", "check digits"),
        ("111.111.111-11", "all digits equal"),
        ("1234567890", "11 digits"),
        ("abc", "11 digits"),
    ],
)
def test_invalid_cpf_names_the_rule(value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=f"taxId: .*{rule}"):
        normalize_cpf(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
    ],
)
def test_numeric_and_alphanumeric_cnpj_are_accepted(value: str, expected: str) -> None:
    assert normalize_cnpj(value) == expected


@pytest.mark.parametrize(
    "value", ["11.222.333/0001-82", "12.ABC.345/01DE-36", "12.ABC.345/01DE-3A"]
)
def test_cnpj_with_wrong_check_digits_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="taxId"):
        normalize_cnpj(value)


@pytest.mark.parametrize(
    "value",
    [
        "1234567-13.2024.8.26.0100",
        "0058967-77.2016.8.19.0000",
        "0002582-62.2020.8.17.8201",
        "0000002-65.2005.4.05.8100",
        "0084500-31.2009.5.09.0091",
        "84500-31.2009.5.09.0091",  # leading zeros may be omitted
        "12345671320248260100",
    ],
)
def test_real_cnj_numbers_validate(value: str) -> None:
    digits = normalize_cnj(value)
    assert len(digits) == 20
    assert int(digits[:7] + digits[9:] + digits[7:9]) % 97 == 1


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1234567-14.2024.8.26.0100", "mod 97"),
        ("1234567-13.2024.8.26", "NNNNNNN-DD"),
        ("1234567-13.2024.0.26.0100", None),
    ],
)
def test_invalid_cnj_is_refused(value: str, rule: str | None) -> None:
    with pytest.raises(ValidationError, match="lawsuitNumber"):
        normalize_cnj(value)


def test_cnj_check_digits_match_worked_example() -> None:
    assert cnj_check_digits("1234567", "2024", "8", "26", "0100") == "13"
    assert format_cnj("12345671320248260100") == "1234567-13.2024.8.26.0100"


def test_cpf_mask_shows_only_middle_digits() -> None:
    assert mask_cpf("123.456.789-09") == "***.456.789-**"
