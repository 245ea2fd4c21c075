"""The real TOTVS RM wsDataServer contract, loaded offline, called on a fake host.

Needs ``../shared/realdata/totvs-rm-wsdataserver`` (skipped without it).
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from requests.auth import HTTPBasicAuth
from zeep.exceptions import Fault, TransportError
from zeep.plugins import Plugin
from zeep.proxy import ServiceProxy

from adapter import xmlutil
from adapter.errors import ContractError
from adapter.outbound.wsdl import BundleTransport, load_wsdl, operation_signature
from tests.fakes.rm_server import FakeRM
from tests.realdata import require

pytestmark = pytest.mark.realdata

RM = require("totvs-rm-wsdataserver")
WSDL = RM / "dataserver.wsdl"
BUNDLE = Path(__file__).resolve().parents[2] / "mappings" / "totvs-rm" / "contract"
IMPORT_BASE = "https://rm.example.com:1251/wsDataServer/mex?xsd="
BINDING = "{http://www.totvs.com/}RM_IwsDataServer"
USER, PASSWORD = "ponte", "s3cret"
CONTEXTO = "CODCOLIGADA=1;CODSISTEMA=G;CODUSUARIO=mestre"
RECORD = "<GlbUsuario><GUsuario><CODUSUARIO>novo</CODUSUARIO></GUsuario></GlbUsuario>"


@pytest.fixture
def fake() -> Iterator[FakeRM]:
    with FakeRM(wsdl_path=WSDL, bundle=BUNDLE, user=USER, password=PASSWORD) as rm:
        yield rm


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with _session(PASSWORD) as basic:
        yield basic


def _session(password: str) -> requests.Session:
    session = requests.Session()
    session.auth = HTTPBasicAuth(USER, password)
    return session


def _service(fake: FakeRM, session: requests.Session) -> ServiceProxy:
    client = load_wsdl(str(WSDL), bundle=BUNDLE, timeout=5, session=session)
    return client.create_service(BINDING, fake.endpoint)


def _save(service: ServiceProxy, **kwargs: object) -> object:
    return service.SaveRecord(
        DataServerName="GlbUsuarioData", XML=RECORD, Contexto=CONTEXTO, **kwargs
    )


def _bundle_without(tmp_path: Path, name: str) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    (bundle / name).unlink()
    return bundle


# Loading the contract


def test_real_wsdl_loads_with_the_bundle_and_exposes_save_record() -> None:
    client = load_wsdl(str(WSDL), bundle=BUNDLE)

    params = operation_signature(client, "RM_IwsDataServer", "SaveRecord")

    assert params == ["DataServerName", "XML", "Contexto"]


def test_every_message_part_of_the_real_wsdl_resolves_in_the_bundle() -> None:
    client = load_wsdl(str(WSDL), bundle=BUNDLE)
    root = xmlutil.parse(WSDL.read_bytes())
    tns = root.get("targetNamespace")
    parts = root.iterfind("{http://schemas.xmlsoap.org/wsdl/}message/*")
    names = {part.get("element").split(":", 1)[1] for part in parts}

    missing = set()
    for name in names:
        try:
            client.get_element(f"{{{tns}}}{name}")
        except zeep.exceptions.LookupError:
            missing.add(name)

    assert len(names) == 34
    assert missing == set()


@pytest.mark.parametrize(
    ("port", "operation", "params"),
    [
        ("RM_IwsDataServer", "ReadView", ["DataServerName", "Filtro", "Contexto"]),
        (
            "RM_IwsDataServer",
            "ReadRecord",
            ["DataServerName", "PrimaryKey", "Contexto"],
        ),
        ("RM_IwsDataServer", "IsValidDataServer", ["DataServerName"]),
        (
            "RM_IwsDataServer",
            "ReadLookupView",
            ["DataServerName", "Filtro", "Contexto", "OwnerData"],
        ),
        (
            "RM_IwsDataServer",
            "SaveRecordEmail",
            ["DataServerName", "XML", "Contexto", "Usuario", "Senha"],
        ),
        ("RM_IwsBase", "AutenticaAcesso", []),
        ("RM_IRMSServer", "Implements", ["type"]),
    ],
)
def test_operation_signature_lists_the_input_parameters_in_order(
    port: str, operation: str, params: list[str]
) -> None:
    client = load_wsdl(str(WSDL), bundle=BUNDLE)

    assert operation_signature(client, port, operation) == params


def test_unknown_port_and_operation_are_contract_errors() -> None:
    client = load_wsdl(str(WSDL), bundle=BUNDLE)

    with pytest.raises(ContractError, match=r"no port RM_Nope .*RM_IwsDataServer"):
        operation_signature(client, "RM_Nope", "SaveRecord")
    with pytest.raises(ContractError, match="no operation SaveRecord"):
        operation_signature(client, "RM_IwsBase", "SaveRecord")


def test_loading_without_the_bundle_names_the_xsd0_url() -> None:
    with pytest.raises(ContractError, match=re.escape(f"{IMPORT_BASE}xsd0 ")):
        load_wsdl(str(WSDL))


def test_bundle_missing_xsd2_names_xsd2_and_the_expected_file(tmp_path: Path) -> None:
    bundle = _bundle_without(tmp_path, "xsd2.xsd")

    with pytest.raises(ContractError) as caught:
        load_wsdl(str(WSDL), bundle=bundle)

    message = str(caught.value)
    assert f"schema {IMPORT_BASE}xsd2 is not in the bundle {bundle}" in message
    assert f"(expected {bundle / 'xsd2.xsd'})" in message
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_malformed_bundle_schema_is_a_contract_error_naming_the_file(
    tmp_path: Path,
) -> None:
    bundle = _bundle_without(tmp_path, "xsd1.xsd")
    (bundle / "xsd1.xsd").write_text("<xs:schema", encoding="utf-8")

    with pytest.raises(ContractError, match=re.escape(f"{bundle / 'xsd1.xsd'}")):
        load_wsdl(str(WSDL), bundle=bundle)


def test_bundle_missing_a_message_element_does_not_load(tmp_path: Path) -> None:
    bundle = _bundle_without(tmp_path, "xsd0.xsd")
    schema = (BUNDLE / "xsd0.xsd").read_text(encoding="utf-8")
    holed = re.sub(
        r'<xs:element name="SaveRecord">.*?</xs:element>\n',
        "",
        schema,
        count=1,
        flags=re.S,
    )
    (bundle / "xsd0.xsd").write_text(holed, encoding="utf-8")

    with pytest.raises(ContractError, match="SaveRecord_InputMessage"):
        load_wsdl(str(WSDL), bundle=bundle)


def test_bundle_transport_matches_the_xsd_query_in_any_case() -> None:
    transport = BundleTransport(str(WSDL), BUNDLE, timeout=5)

    content = transport.load("https://rm.example.com:1251/wsDataServer/MEX?XSD=XSD1")

    assert content == (BUNDLE / "xsd1.xsd").read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/types.xsd",
        "http://rm.example.com:1251/wsDataServer/mex?xsd=../../etc/passwd",
    ],
)
def test_bundle_transport_refuses_other_remote_schemas(url: str) -> None:
    transport = BundleTransport(str(WSDL), BUNDLE, timeout=5)

    with pytest.raises(ContractError, match=re.escape(url)):
        transport.load(url)


def test_wsdl_from_the_host_loads_without_fetching_its_schemas(
    fake: FakeRM, session: requests.Session
) -> None:
    client = load_wsdl(fake.wsdl_url, bundle=BUNDLE, timeout=5, session=session)

    result = client.bind("wsDataServer", "RM_IwsDataServer").SaveRecord(
        DataServerName="GlbUsuarioData", XML=RECORD, Contexto=CONTEXTO
    )

    assert result == "1;1001"
    assert fake.downloads == ["/wsDataServer/MEX?wsdl"]


def test_host_schemas_are_refused_without_a_bundle(fake: FakeRM) -> None:
    with pytest.raises(ContractError, match=re.escape(f"{fake.base_url}/mex?xsd=xsd0")):
        load_wsdl(fake.wsdl_url, timeout=5)

    assert fake.downloads == ["/wsDataServer/MEX?wsdl"]


def test_fake_serves_the_bundle_schemas(fake: FakeRM) -> None:
    response = requests.get(f"{fake.base_url}/mex?xsd=xsd3", timeout=5)

    assert response.status_code == 200
    assert response.content == (BUNDLE / "xsd3.xsd").read_bytes()


# Calling SaveRecord on the fake host


def test_save_record_returns_the_new_primary_key(
    fake: FakeRM, session: requests.Session
) -> None:
    service = _service(fake, session)

    first, second = _save(service), _save(service)

    assert (first, second) == ("1;1001", "1;1002")
    saved = fake.accepted[0]
    assert (saved.data_server, saved.xml, saved.contexto) == (
        "GlbUsuarioData",
        RECORD,
        CONTEXTO,
    )
    assert _soap_action(saved.headers) == (
        '"http://www.totvs.com/IwsDataServer/SaveRecord"'
    )


def test_rm_business_error_comes_back_as_the_result_text(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("rm_error")

    result = _save(_service(fake, session))

    assert isinstance(result, str)
    assert result.startswith("Violação de chave estrangeira")
    assert fake.accepted == []


def test_permission_fault_raises_a_client_fault(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("client_fault")

    with pytest.raises(Fault, match="sem permissão") as caught:
        _save(_service(fake, session))

    assert "Client" in caught.value.code


def test_server_fault_raises_a_server_fault(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("server_fault")

    with pytest.raises(Fault, match="internal error") as caught:
        _save(_service(fake, session))

    assert "Server" in caught.value.code


def test_http_503_raises_a_transport_error_with_the_status(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("http503")

    with pytest.raises(TransportError) as caught:
        _save(_service(fake, session))

    assert caught.value.status_code == 503


def test_dropped_connection_raises_connection_error_after_the_request_arrived(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("drop")

    with pytest.raises(requests.exceptions.ConnectionError):
        _save(_service(fake, session))

    assert [r.xml for r in fake.received] == [RECORD]
    assert fake.accepted == []


def test_wrong_password_gets_401_and_is_not_processed(fake: FakeRM) -> None:
    with _session("wrong") as wrong, pytest.raises(TransportError) as caught:
        _save(_service(fake, wrong))

    assert caught.value.status_code == 401
    assert fake.unauthorized == 1
    assert fake.received == []


def test_delay_step_answers_after_the_delay(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script(("delay", 0.3))
    service = _service(fake, session)

    started = time.monotonic()
    result = _save(service)

    assert result == "1;1001"
    assert time.monotonic() - started >= 0.3


def test_script_steps_are_consumed_in_order_then_accept(
    fake: FakeRM, session: requests.Session
) -> None:
    fake.script("http503", "rm_error")
    service = _service(fake, session)

    with pytest.raises(TransportError):
        _save(service)
    outcomes = [_save(service), _save(service)]

    assert outcomes[0].startswith("Violação")
    assert outcomes[1] == "1;1001"
    assert len(fake.received) == 3


def test_unknown_step_is_refused(fake: FakeRM) -> None:
    with pytest.raises(ValueError, match="sleep"):
        fake.script(("sleep", 1))


class _PinnedMessageId(Plugin):
    """Pin the wsa:MessageID zeep adds, as a retry of the same event would."""

    def __init__(self, value: str) -> None:
        self.value = value

    def egress(
        self,
        envelope: etree._Element,
        http_headers: dict[str, str],
        operation: object,
        binding_options: dict[str, object],
    ) -> tuple[etree._Element, dict[str, str]]:
        found = envelope.find(
            f"{{{xmlutil.SOAP11_ENV}}}Header/{{{xmlutil.WSA}}}MessageID"
        )
        assert found is not None
        found.text = self.value
        return envelope, http_headers


def _pinned_service(
    fake: FakeRM, session: requests.Session, message_id: str
) -> ServiceProxy:
    client = load_wsdl(str(WSDL), bundle=BUNDLE, timeout=5, session=session)
    client.plugins.append(_PinnedMessageId(message_id))
    return client.create_service(BINDING, fake.endpoint)


def test_zeep_sends_a_fresh_wsa_message_id_on_every_call(
    fake: FakeRM, session: requests.Session
) -> None:
    service = _service(fake, session)

    _save(service)
    _save(service)

    ids = [r.message_id for r in fake.received]
    assert all(i is not None and i.startswith("urn:uuid:") for i in ids)
    assert len(fake.unique_message_ids) == 2


def test_dedupe_answers_a_repeated_message_id_with_the_same_key(
    session: requests.Session,
) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    with FakeRM(bundle=BUNDLE, user=USER, password=PASSWORD, dedupe=True) as fake:
        service = _pinned_service(fake, session, message_id)
        answers = [_save(service), _save(service)]

    assert answers == ["1;1001", "1;1001"]
    assert fake.duplicates == 1
    assert len(fake.accepted) == 1
    assert fake.unique_message_ids == {message_id}


def test_without_dedupe_a_repeated_message_id_creates_a_second_record(
    fake: FakeRM, session: requests.Session
) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    service = _pinned_service(fake, session, message_id)

    answers = [_save(service), _save(service)]

    assert answers == ["1;1001", "1;1002"]
    assert fake.duplicates == 0
    assert fake.unique_message_ids == {message_id}


def _soap_action(headers: dict[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "soapaction"), None)


def test_soap_target_sends_a_username_token_ponte_itself_would_accept(
    fake: FakeRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lxml import etree

    from adapter.config import load_settings
    from adapter.credentials.usernametoken import read_token
    from adapter.outbound.caller import SoapCaller
    from adapter.xmlutil import SOAP11_ENV

    monkeypatch.setenv("PONTE_TEST_RM_BASIC", PASSWORD)
    monkeypatch.setenv("PONTE_TEST_RM_TOKEN", "token-s3cret")
    settings = load_settings(
        None,
        data_dir=tmp_path,
        targets=[
            {
                "name": "rm",
                "wsdl": str(WSDL),
                "schema_bundle": str(BUNDLE),
                "endpoint": fake.endpoint,
                "mapping": str(tmp_path / "unused.xsl"),
                "auth": {
                    "basic_user": USER,
                    "basic_password_env": "PONTE_TEST_RM_BASIC",
                    "username_token_user": "ponte-erp",
                    "username_token_password_env": "PONTE_TEST_RM_TOKEN",
                },
            }
        ],
    )
    target = settings.target("rm")
    params = {"DataServerName": "GlbUsuarioData", "XML": RECORD, "Contexto": CONTEXTO}

    result = SoapCaller(settings).call(target, params, message_id="urn:uuid:1")

    header = etree.fromstring(fake.received[-1].body).find(f"{{{SOAP11_ENV}}}Header")
    token = read_token(header)
    assert (token.username, token.digest) == ("ponte-erp", True)
    assert b"token-s3cret" not in fake.received[-1].body
    assert result.request_text is not None and "token-s3cret" not in result.request_text
