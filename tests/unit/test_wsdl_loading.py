"""Loading real partner contracts: one loader, failures that say what is wrong.

Uses ``../shared/realdata`` by path (each test skips without its folder) and
the contracts shipped in ``mappings/*/contract``. Opens no sockets.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
from lxml import etree

from adapter.errors import ContractError
from adapter.outbound.wsdl import (
    client_of,
    contract_schema,
    input_element,
    load_wsdl,
    read_contract,
    schema_from_file,
)
from tests.realdata import REALDATA

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
RFC = "urn:sap-com:document:sap:rfc:functions"


def _real(subfolder: str, name: str) -> Path:
    path = REALDATA / subfolder / name
    if not path.is_file():
        pytest.skip(f"real data {path} is not available")
    return path


# The CNJ MNI 2.2.2 WSDL: four schemas it imports are not present


def test_cnj_wsdl_error_names_every_missing_schema_and_where_it_was_looked_for() -> (
    None
):
    wsdl = _real("cnj-mni-2.2.2", "servico-intercomunicacao-2.2.2.wsdl")
    looked_in = wsdl.resolve().parent.parent / "xsd"  # the loader names real paths

    with pytest.raises(ContractError) as caught:
        load_wsdl(str(wsdl))

    message = str(caught.value)
    assert "4 schemas it imports cannot be read" in message
    for name in (
        "tipos-servico-intercomunicacao-2.2.2.xsd",
        "intercomunicacao-2.2.2.xsd",
        "cda-2.2.2.xsd",
        "dados-criminais-2.2.2.xsd",
    ):
        assert f"schema {looked_in / name} does not exist" in message
        assert f"written ../xsd/{name}" in message


def test_cnj_wsdl_loads_once_its_schemas_are_where_it_looks(tmp_path: Path) -> None:
    wsdl = _real("cnj-mni-2.2.2", "servico-intercomunicacao-2.2.2.wsdl")
    copy = tmp_path / "wsdl" / wsdl.name
    copy.parent.mkdir()
    shutil.copy(wsdl, copy)
    xsd = tmp_path / "xsd"
    xsd.mkdir()
    imports = etree.parse(str(wsdl)).iter("{http://www.w3.org/2001/XMLSchema}import")
    for element in imports:
        # Stand-ins with only the namespace: enough for the loader to read.
        name = element.get("schemaLocation", "").rsplit("/", 1)[-1]
        namespace = element.get("namespace")
        (xsd / name).write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="{namespace}"/>',
            encoding="utf-8",
        )

    contract = read_contract(str(copy))

    assert len(contract.roots) == 5  # the WSDL and its four schemas


def test_one_missing_schema_of_several_is_the_only_one_named(tmp_path: Path) -> None:
    (tmp_path / "a.xsd").write_text(_schema("urn:a"), encoding="utf-8")
    wsdl = tmp_path / "two.wsdl"
    wsdl.write_text(_wsdl_importing(("urn:a", "a.xsd"), ("urn:b", "b.xsd")))

    with pytest.raises(ContractError) as caught:
        read_contract(str(wsdl))

    message = str(caught.value)
    assert f"schema {tmp_path / 'b.xsd'} does not exist" in message
    assert "a.xsd" not in message


def test_a_schema_imported_by_a_schema_is_followed(tmp_path: Path) -> None:
    (tmp_path / "a.xsd").write_text(
        _schema("urn:a", imports=(("urn:c", "sub/c.xsd"),)), encoding="utf-8"
    )
    wsdl = tmp_path / "one.wsdl"
    wsdl.write_text(_wsdl_importing(("urn:a", "a.xsd")))

    with pytest.raises(ContractError) as caught:
        read_contract(str(wsdl))

    message = str(caught.value)
    assert f"schema {tmp_path / 'sub' / 'c.xsd'} does not exist" in message


# The broken NF-e WSDL: HTTP headers saved before the XML


def test_wsdl_saved_with_http_headers_is_said_to_be_that() -> None:
    wsdl = _real(
        "nfe-sefaz", "GO_NfeConsulta2_homologacao.BROKEN-has-http-headers.wsdl"
    )

    with pytest.raises(ContractError) as caught:
        load_wsdl(str(wsdl))

    message = str(caught.value)
    assert "'HTTP/1.1 200 OK' at line 2" in message
    assert "saved with its headers" in message
    assert str(wsdl) in message


def test_not_well_formed_wsdl_names_the_file_line_and_column(tmp_path: Path) -> None:
    wsdl = tmp_path / "cut.wsdl"
    wsdl.write_text('<?xml version="1.0"?>\n<definitions>\n  <types>\n')

    with pytest.raises(
        ContractError, match=rf"{re.escape(str(wsdl))} is not well-formed XML: line \d+"
    ):
        load_wsdl(str(wsdl))


def test_wsdl_with_a_doctype_is_refused(tmp_path: Path) -> None:
    wsdl = tmp_path / "dtd.wsdl"
    wsdl.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE definitions [<!ENTITY x "y">]>\n'
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">&x;</definitions>'
    )

    with pytest.raises(ContractError, match="has a DOCTYPE; Ponte refuses DTDs"):
        load_wsdl(str(wsdl))


# SAP: the real SOAMANAGER WSDL, and ours in its style


def test_real_soamanager_wsdl_loads_with_both_bindings() -> None:
    wsdl = _real("sap-soamanager-zws-bapi", "zws_bapi_salesorder_create_binding.wsdl")

    client = load_wsdl(str(wsdl))

    ports = client.wsdl.services["ZWS_BAPI_SALESORDER_CREATE_SEV"].ports
    assert set(ports) == {
        "ZWS_BAPI_SALESORDER_CREATE_BINDING",
        "ZWS_BAPI_SALESORDER_CREATE_BINDING_soap12",
    }
    body = input_element(
        client, "ZWS_BAPI_SALESORDER_CREATE_BINDING", "ZBAPI_SALESORDER_CREATE"
    )
    assert str(body.qname)  # type: ignore[attr-defined] == f"{{{RFC}}}ZBAPI_SALESORDER_CREATE"


def test_real_soamanager_schema_validates_unqualified_fields_and_ddic_types() -> None:
    wsdl = _real("sap-soamanager-zws-bapi", "zws_bapi_salesorder_create_binding.wsdl")
    schema = contract_schema(read_contract(str(wsdl)))
    good = _sales_order("2026-12-03", "OR")

    assert schema.validate(good), schema.error_log
    assert not schema.validate(_sales_order("20261203", "TOOLONG"))
    problems = {(e.path, e.type_name) for e in schema.error_log}
    assert problems == {
        ("/urn:ZBAPI_SALESORDER_CREATE/CUST_PO_DATE", "SCHEMAV_CVC_PATTERN_VALID"),
        ("/urn:ZBAPI_SALESORDER_CREATE/ORDER_TYPE", "SCHEMAV_CVC_MAXLENGTH_VALID"),
    }


def test_real_soamanager_schema_refuses_qualified_fields() -> None:
    wsdl = _real("sap-soamanager-zws-bapi", "zws_bapi_salesorder_create_binding.wsdl")
    schema = contract_schema(read_contract(str(wsdl)))
    qualified = _sales_order("2026-12-03", "OR")
    for child in qualified:
        child.tag = f"{{{RFC}}}{child.tag}"

    assert not schema.validate(qualified)
    assert "not expected" in str(schema.error_log[0].message)


def test_ponte_sap_wsdl_has_soamanagers_shape() -> None:
    wsdl = MAPPINGS / "sap" / "contract" / "zws_ponte_acc_document.wsdl"
    root = etree.parse(str(wsdl)).getroot()
    ns = {
        "w": "http://schemas.xmlsoap.org/wsdl/",
        "x": "http://www.w3.org/2001/XMLSchema",
    }

    schema = root.find("w:types/x:schema", ns)
    assert schema is not None
    assert schema.get("targetNamespace") == RFC
    assert schema.get("elementFormDefault") is None  # locals unqualified
    post = schema.find("x:element[@name='ZPONTE_ACC_DOCUMENT_POST']", ns)
    assert post is not None
    names = [e.get("name") for e in post.iterfind(".//x:element", ns)]
    assert names == sorted(names)  # SOAMANAGER lists parameters alphabetically
    parts = {
        m.get("name"): m.find("w:part", ns).get("name")  # type: ignore[union-attr]
        for m in root.iterfind("w:message", ns)
    }
    assert parts["ZPONTE_ACC_DOCUMENT_POST"] == "parameters"
    assert parts["ZPONTE_ACC_DOCUMENT_POSTResponse"] == "parameter"
    actions = {
        o.get("soapAction")
        for o in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")
    }
    assert f"{RFC}:ZWS_PONTE_ACC_DOCUMENT:ZPONTE_ACC_DOCUMENT_POSTRequest" in actions
    client = load_wsdl(str(wsdl))
    assert len(client.wsdl.services["ZWS_PONTE_ACC_DOCUMENT_SRV"].ports) == 2


# WCF: TOTVS RM's WSDL from the local bundle, as lxml sees it


def test_rm_wsdl_schema_from_the_bundle_validates_a_save_record() -> None:
    wsdl = _real("totvs-rm-wsdataserver", "dataserver.wsdl")
    schema = contract_schema(
        read_contract(str(wsdl), bundle=MAPPINGS / "totvs-rm" / "contract")
    )
    tns = "http://www.totvs.com/"
    save = etree.fromstring(
        f'<SaveRecord xmlns="{tns}"><DataServerName>FinLanDataBR</DataServerName>'
        "<XML>&lt;FinLAN/&gt;</XML><Contexto>CODCOLIGADA=1</Contexto></SaveRecord>"
    )
    wrong = etree.fromstring(f'<SaveRecord xmlns="{tns}"><Nope/></SaveRecord>')

    assert schema.validate(save), schema.error_log
    assert not schema.validate(wrong)


def test_client_and_schema_are_built_from_what_was_read(tmp_path: Path) -> None:
    (tmp_path / "a.xsd").write_text(_schema("urn:a"), encoding="utf-8")
    wsdl = tmp_path / "one.wsdl"
    wsdl.write_text(_wsdl_importing(("urn:a", "a.xsd")))
    contract = read_contract(str(wsdl))
    (tmp_path / "a.xsd").unlink()  # gone: neither may read it again

    client = client_of(contract)
    schema = contract_schema(contract)

    assert client.get_element("{urn:a}x") is not None
    assert schema.validate(etree.fromstring('<x xmlns="urn:a">v</x>'))


class _Answer(requests.adapters.BaseAdapter):
    """A requests adapter that answers every GET with ``content`` (no socket)."""

    def __init__(self, content: bytes) -> None:
        super().__init__()
        self.content = content
        self.urls: list[str] = []

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        self.urls.append(request.url)
        response = requests.Response()
        response.status_code = 200
        response._content = self.content
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def test_a_remote_wsdl_is_fetched_once_with_one_info_line_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wsdl = MAPPINGS / "protheus" / "contract" / "WSPONTEFIN.wsdl"
    answer = _Answer(wsdl.read_bytes())
    session = requests.Session()
    session.mount("https://", answer)
    url = "https://user:S3cr3tPass@erp.example.com/ws/WSPONTEFIN.apw?WSDL&token=abc"

    with caplog.at_level(logging.INFO, logger="adapter.outbound.wsdl"):
        load_wsdl(url, session=session)

    assert len(answer.urls) == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert (
        lines == [lines[0]]
        and "wsdl=https://erp.example.com/ws/WSPONTEFIN.apw " in lines[0]
    )
    assert "outcome=ok" in lines[0]
    assert "S3cr3tPass" not in lines[0] and "token" not in lines[0]


def test_schema_file_with_a_missing_import_names_it(tmp_path: Path) -> None:
    xsd = tmp_path / "main.xsd"
    xsd.write_text(_schema("urn:m", imports=(("urn:n", "gone.xsd"),)), encoding="utf-8")

    with pytest.raises(
        ContractError, match=re.escape(f"schema {tmp_path / 'gone.xsd'} does not exist")
    ):
        schema_from_file(xsd)


def test_schema_without_target_namespace_compiles() -> None:
    schema = schema_from_file(MAPPINGS / "totvs-rm" / "contract" / "FinLanDataBR.xsd")

    assert schema.validate(etree.fromstring("<FinLAN/>"))


def _schema(namespace: str, imports: tuple[tuple[str, str], ...] = ()) -> str:
    lines = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in imports
    )
    return (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="{namespace}">{lines}'
        '<xs:element name="x" type="xs:string"/></xs:schema>'
    )


def _wsdl_importing(*imports: tuple[str, str]) -> str:
    lines = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in imports
    )
    return (
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:w">'
        f'<types><xs:schema targetNamespace="urn:w">{lines}</xs:schema></types>'
        "</definitions>"
    )


def _sales_order(date: str, order_type: str) -> etree._Element:
    return etree.fromstring(
        f'<urn:ZBAPI_SALESORDER_CREATE xmlns:urn="{RFC}">'
        f"<CUST_PO>PO-1</CUST_PO><CUST_PO_DATE>{date}</CUST_PO_DATE>"
        "<IT_SO_ITEM><item><MATERIAL_NO>000012</MATERIAL_NO><MATERIAL>M</MATERIAL>"
        "<UNIT>EA</UNIT><QTY>1.000</QTY><CUST_MATERIAL/><PLANT>1000</PLANT>"
        "<SHIPPING_POINT>1000</SHIPPING_POINT><DELIVERY_DATE>2026-12-10"
        "</DELIVERY_DATE></item></IT_SO_ITEM>"
        f"<ORDER_TYPE>{order_type}</ORDER_TYPE><SALES_CHANNEL>10</SALES_CHANNEL>"
        "<SALES_DIVISION>00</SALES_DIVISION><SALES_ORG>1000</SALES_ORG>"
        "<SHIP_TO_PARTY>C1</SHIP_TO_PARTY><SOLD_TO_PARTY>C1</SOLD_TO_PARTY>"
        "</urn:ZBAPI_SALESORDER_CREATE>"
    )
