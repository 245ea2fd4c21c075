"""The published contract cannot drift by accident."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from adapter.inbound.app import wsdl_document
from adapter.inbound.types import TNS

WSDL = Path(__file__).resolve().parents[2] / "wsdl"
DEFAULT_URL = "http://127.0.0.1:8080/soap/v1"
NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "xs": "http://www.w3.org/2001/XMLSchema",
}


def test_generated_wsdl_equals_the_committed_one() -> None:
    committed = (WSDL / "ponte-v1.wsdl").read_bytes()
    assert wsdl_document(DEFAULT_URL) == committed, (
        "the WSDL changed: if that is a decision, run "
        "`ponte wsdl --url http://127.0.0.1:8080/soap/v1 --output wsdl/ponte-v1.wsdl`"
        " and record it in the README's contract history"
    )


def test_wsdl_carries_the_configured_address_not_the_callers() -> None:
    document = etree.fromstring(wsdl_document("https://ponte.example.com/soap/v1"))
    addresses = document.xpath("//*[local-name()='address']/@location")
    assert addresses == ["https://ponte.example.com/soap/v1"]


def test_wsdl_lists_port_type_binding_service_in_that_order() -> None:
    document = etree.fromstring(wsdl_document(DEFAULT_URL))
    kinds = [etree.QName(c).localname for c in document if isinstance(c.tag, str)]
    last = {kind: i for i, kind in enumerate(kinds)}
    assert last["types"] < kinds.index("message")
    assert last["message"] < kinds.index("portType") < kinds.index("binding")
    assert kinds.index("binding") < kinds.index("service")


def test_every_operation_is_document_literal_wrapped_in_the_ponte_namespace() -> None:
    document = etree.fromstring(wsdl_document(DEFAULT_URL))
    assert document.get("targetNamespace") == TNS == "urn:ponte:legal:v1"
    operations = document.xpath("wsdl:portType/wsdl:operation/@name", namespaces=NS)
    assert sorted(operations) == [
        "AmendContract",
        "ApprovePaymentOrder",
        "CancelPaymentOrder",
        "ConfirmPaymentOrderPaid",
        "ConfirmPaymentOrderRegistered",
        "CreatePaymentOrder",
        "CreatePaymentOrders",
        "DeleteContract",
        "DeleteEmployee",
        "DeleteLawsuit",
        "DeleteParty",
        "DeletePaymentOrder",
        "DeleteProvision",
        "DeleteTimePunch",
        "GetAfdFile",
        "GetContract",
        "GetEmployee",
        "GetLawsuit",
        "GetParty",
        "GetPaymentOrder",
        "GetProvision",
        "GetProvisionHistory",
        "GetTimePunch",
        "ImportAfdFile",
        "QueryAuditEntries",
        "QueryContracts",
        "QueryEmployees",
        "QueryLawsuits",
        "QueryParties",
        "QueryPaymentOrders",
        "QueryProvisions",
        "QueryTimePunches",
        "RejectPaymentOrder",
        "SubmitPaymentOrder",
        "UpsertContract",
        "UpsertContracts",
        "UpsertEmployee",
        "UpsertEmployees",
        "UpsertLawsuit",
        "UpsertLawsuits",
        "UpsertParties",
        "UpsertParty",
        "UpsertProvision",
        "UpsertProvisions",
        "UpsertTimePunches",
    ]
    elements = set(document.xpath("//xs:schema/xs:element/@name", namespaces=NS))
    for name in operations:
        assert {name, f"{name}Response"} <= elements
    styles = document.xpath("//*[local-name()='binding']/@style")
    assert styles and set(styles) == {"document"}


def test_schema_avoids_what_erp_proxy_generators_reject() -> None:
    document = wsdl_document(DEFAULT_URL)
    for construct in (b"<xs:choice", b"<xs:any", b"substitutionGroup", b"abstract="):
        assert construct not in document
    schema = etree.fromstring(document).find(".//xs:schema", NS)
    assert schema is not None and schema.get("elementFormDefault") == "qualified"


def test_every_published_operation_has_roles_and_auditors_only_read() -> None:
    from adapter.credentials.roles import ROLES

    document = etree.fromstring(wsdl_document(DEFAULT_URL))
    operations = set(
        document.xpath("wsdl:portType/wsdl:operation/@name", namespaces=NS)
    )
    assert operations == ROLES["admin"]
    assert all(op.startswith(("Get", "Query")) for op in ROLES["auditor"])
    assert {op for op in operations if op.startswith(("Get", "Query"))} == ROLES[
        "auditor"
    ]
    assert not ROLES["finance_erp"] & {"UpsertEmployee", "QueryTimePunches"}
