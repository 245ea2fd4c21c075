"""Tolerant where real clients are sloppy: empty tags, encodings, SOAPAction, Basic."""

from __future__ import annotations

import base64

import requests

from tests.conftest import Installation
from tests.integration.test_inbound_faults import (  # the module-scoped server
    PASSWORD,
    envelope,
    new_id,
    party_name,
    post,
    server,
    soap_fault,
)

__all__ = ["server"]  # the fixture is used by name


def upsert(external_id: str, name: str, extra: str = "") -> str:
    return (
        "<p:UpsertParty><p:party><p:sourceSystem>TEST</p:sourceSystem>"
        f"<p:externalId>{external_id}</p:externalId><p:kind>foreign</p:kind>"
        f"{extra}<p:name>{name}</p:name></p:party></p:UpsertParty>"
    )


def test_empty_optional_element_is_treated_as_absent(server: Installation) -> None:
    external_id = new_id("EMPTY")
    body = envelope(upsert(external_id, "Vazio Ltda", extra="<p:taxId/>"))
    response = post(server, body.encode())
    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "Vazio Ltda"


def test_nil_optional_element_is_treated_as_absent(server: Installation) -> None:
    external_id = new_id("NIL")
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    nil = f'<p:taxId xmlns:xsi="{xsi}" xsi:nil="true"/>'
    response = post(
        server, envelope(upsert(external_id, "Nulo Ltda", extra=nil)).encode()
    )
    assert response.status_code == 200, response.text


def test_empty_required_element_is_refused_naming_it(server: Installation) -> None:
    response = post(server, envelope(upsert(new_id("REQ"), "")).encode())
    fault = soap_fault(response)
    assert "SchemaValidation" in fault.code
    assert "name" in fault.message


def test_windows_1252_request_is_decoded(server: Installation) -> None:
    external_id = new_id("CP1252")
    text = envelope(upsert(external_id, "Ação “Justa” Ltda"), encoding="windows-1252")
    response = post(server, text.encode("cp1252"), **{"Content-Type": "text/xml"})
    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "Ação “Justa” Ltda"


def test_unquoted_soap_action_is_accepted(server: Installation) -> None:
    external_id = new_id("UNQUOTED")
    body = envelope(upsert(external_id, "Sem Aspas Ltda")).encode()
    response = post(server, body, SOAPAction="UpsertParty")
    assert response.status_code == 200, response.text


def test_any_namespace_prefix_is_accepted(server: Installation) -> None:
    external_id = new_id("PREFIX")
    text = envelope(upsert(external_id, "Prefixo Ltda"))
    for old, new in (("p", "leg"), ("soap", "S")):
        text = text.replace(f"<{old}:", f"<{new}:").replace(f"</{old}:", f"</{new}:")
        text = text.replace(f"xmlns:{old}=", f"xmlns:{new}=")
    response = post(server, text.encode())
    assert response.status_code == 200, response.text


def test_http_basic_authenticates_like_totvs_clients(server: Installation) -> None:
    external_id = new_id("BASIC")
    body = envelope(upsert(external_id, "Basic Ltda"), header="").encode()
    token = base64.b64encode(f"erp:{PASSWORD}".encode()).decode()
    response = post(server, body, Authorization=f"Basic {token}")
    assert response.status_code == 200, response.text
    wrong = base64.b64encode(b"erp:not-the-password").decode()
    refused = post(server, body, Authorization=f"Basic {wrong}")
    assert "Client.Authentication" in soap_fault(refused).code


def test_wsdl_is_served_with_the_configured_address(server: Installation) -> None:
    wsdl = requests.get(f"{server.url}?wsdl", timeout=10)
    assert wsdl.status_code == 200
    assert f'location="{server.url}"' in wsdl.text
