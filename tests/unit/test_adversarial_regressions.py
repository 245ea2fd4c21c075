"""Defects an adversarial run found; each test fails without its fix."""

from __future__ import annotations

import datetime as dt

import pytest

from adapter.domain.identifiers import cnj_check_digits, normalize_cnj, normalize_cpf
from adapter.domain.provisions import validate_provision
from adapter.errors import ValidationError
from adapter.inbound.app import spyne_fault
from adapter.inbound.mapping import record_key


def test_full_width_digits_are_not_a_cpf() -> None:
    with pytest.raises(ValidationError, match="a CPF has 11 digits"):
        normalize_cpf("５２９９８２２４７２５")


@pytest.mark.parametrize("year", ["0000", str(dt.date.today().year + 1)])
def test_cnj_year_outside_1900_to_this_year_is_refused(year: str) -> None:
    dd = cnj_check_digits("1", year, "8", "26", "0100")
    with pytest.raises(ValidationError, match="CNJ year AAAA must be between 1900"):
        normalize_cnj(f"0000001-{dd}.{year}.8.26.0100")


def test_provision_dated_in_the_future_is_refused() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="reportingDate: must not be after today"):
        validate_provision("lawsuit-1", tomorrow, "probable", "10.00")


def test_get_with_both_id_and_key_is_refused() -> None:
    assert record_key("abc", None, None) == ("abc", None)
    with pytest.raises(ValidationError, match="not both"):
        record_key("abc", "SAP", "X-1")


def test_schema_fault_never_echoes_the_value_sent() -> None:
    fault = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b"<s:Fault><faultcode>s:Client.SchemaValidationError</faultcode><faultstring>"
        b":1:0:ERROR:SCHEMASV:SCHEMAV_CVC_DATATYPE_VALID_1_2_1: Element "
        b"'{urn:ponte:legal:v1}pageSize': '52998224725x' is not a valid value of the "
        b"atomic type 'xs:integer'.</faultstring></s:Fault></s:Body></s:Envelope>"
    )
    code, message = spyne_fault(fault)
    assert code == "Client.SchemaValidationError"
    assert "52998224725" not in message
    assert "pageSize" in message and "xs:integer" in message
