"""Mappings: the shipped profile folders, their checks, and the profiles that
read each target's answers.

The shipped folders are tested as data (every sample of every folder); the
failure modes on throwaway copies in ``tmp_path``. Answers are parsed by
zeep from the contracts' own WSDLs (``mappings/*/contract/examples``), and,
for TOTVS RM, from the real captures in ``../shared/realdata`` (skipped
without them). No sockets.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree

from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome
from adapter.domain.events import EVENTS_NS
from adapter.errors import ConfigurationError, MappingError, TransportError
from adapter.mappings.catalog import ProfileFolder, profile_folders, read_xml
from adapter.mappings.samples import Status, difference, run_folder, same
from adapter.mappings.stylesheet import NothingToSend
from adapter.mappings.validate import DocumentCheck
from adapter.mappings.xslt import Mapping
from adapter.outbound.caller import CallResult
from adapter.outbound.event_json import EVENTS_SCHEMA
from adapter.outbound.profiles import Found, Reader
from adapter.outbound.profiles_access import AccessControlGate
from adapter.outbound.profiles_generic import GenericEvent, element_values
from adapter.outbound.profiles_protheus import ProtheusPayables
from adapter.outbound.profiles_sap import SapAccDocument, document_key
from adapter.outbound.wsdl import load_wsdl
from adapter.runtime import Runtime
from tests.realdata import REALDATA
from tests.unit.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
FOLDERS = {f.name: f for f in profile_folders(MAPPINGS)}
SAP = MAPPINGS / "sap"
PROTHEUS = MAPPINGS / "protheus"
RFC = "urn:sap-com:document:sap:rfc:functions"


def _sample(folder: str, name: str) -> bytes:
    return (MAPPINGS / folder / "samples" / f"{name}.input.xml").read_bytes()


def _target(**values: Any) -> TargetSettings:
    fields: dict[str, Any] = {
        "name": "t",
        "kind": "soap",
        "operation": "ZPONTE_ACC_DOCUMENT_POST",
        "params": {},
    }
    return TargetSettings.model_construct(**(fields | values))


# The shipped folders


def test_the_five_profiles_ship() -> None:
    assert sorted(FOLDERS) == [
        "access-control",
        "generic",
        "protheus",
        "sap",
        "totvs-rm",
    ]
    assert {f.profile for f in FOLDERS.values()} == {
        "access-control",
        "generic",
        "protheus-payables",
        "sap-acc-document",
        "totvs-rm-dataserver",
    }


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_sample_input_is_a_valid_canonical_event(name: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(EVENTS_SCHEMA)))
    samples = FOLDERS[name].samples()

    invalid = [s.name for s in samples if not schema.validate(read_xml(s.input))]

    assert samples and invalid == []


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_mapping_has_a_sample_and_every_sample_passes(name: str) -> None:
    untested, results = run_folder(FOLDERS[name])

    assert untested == []
    assert [
        (r.sample.name, r.error, r.diff) for r in results if r.status != "passed"
    ] == []


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_sample_output_keeps_its_contract(name: str) -> None:
    folder = FOLDERS[name]
    check = DocumentCheck.for_folder(folder)
    mapping = Mapping.load(folder.path, check=False)
    assert check is not None

    broken = []
    for sample in folder.samples():
        stylesheet = mapping.stylesheet_for(sample.event_type())
        output = stylesheet.apply(read_xml(sample.input))
        if output.tag == "{urn:ponte:mappings:v1}nothing-to-send":
            continue
        broken += check.check(output, stylesheet.document).violations

    assert broken == []


def test_rm_mapping_output_is_the_one_the_delivery_tests_expect() -> None:
    mapped = Mapping.load(MAPPINGS / "totvs-rm" / "payment_order.approved.xsl").apply(
        _sample("totvs-rm", "payment_order.approved")
    )

    flan = mapped.find("FLAN")
    assert flan is not None
    assert [c.tag for c in flan][:4] == [
        "CODCOLIGADA",
        "IDLAN",
        "NUMERODOCUMENTO",
        "PAGREC",
    ]
    assert flan.findtext("VALORORIGINAL") == "15230.45"
    assert flan.findtext("DATAVENCIMENTO") == "2026-12-20T00:00:00"


# A folder chooses the mapping by event type


def test_a_folder_maps_each_event_type_with_its_own_file() -> None:
    mapping = Mapping.load(SAP)

    posting = mapping.apply(_sample("sap", "payment_order.approved"))
    provision = mapping.apply(_sample("sap", "provision.changed.increase"))

    assert posting.find("ACCOUNTPAYABLE") is not None
    assert provision.find("ACCOUNTPAYABLE") is None
    assert provision.findtext("DOCUMENTHEADER/DOC_TYPE") == "SA"


def test_an_event_type_the_folder_does_not_map_is_refused_naming_what_it_maps() -> None:
    mapping = Mapping.load(SAP)
    closed = _sample("generic", "lawsuit.closed")

    with pytest.raises(
        MappingError,
        match=r"no mapping for lawsuit\.closed events \(it maps "
        r"payment_order\.approved, provision\.changed\)",
    ):
        mapping.apply(closed)


def test_default_xsl_maps_every_type_without_a_file() -> None:
    mapping = Mapping.load(MAPPINGS / "generic")

    for name in ("contract.created", "lawsuit.closed"):
        event = _sample("generic", name)
        assert same(mapping.apply(event), etree.fromstring(event))


def test_a_single_file_maps_every_event_it_is_given() -> None:
    mapping = Mapping.load(MAPPINGS / "totvs-rm" / "payment_order.approved.xsl")

    assert mapping.apply(_sample("sap", "provision.changed.increase")).tag == "FinLAN"


def test_a_change_without_ledger_movement_has_nothing_to_send() -> None:
    mapping = Mapping.load(SAP)

    with pytest.raises(NothingToSend, match="disclosure only") as caught:
        mapping.apply(_sample("sap", "provision.changed.disclosure-only"))

    assert caught.value.path.name == "provision.changed.xsl"


def test_provision_reversal_debits_the_provision_and_credits_the_reversal() -> None:
    mapped = Mapping.load(SAP).apply(_sample("sap", "provision.changed.reclassified"))

    lines = [
        (i.findtext("GL_ACCOUNT"), a.findtext("AMT_DOCCUR"))
        for i, a in zip(
            mapped.iterfind("ACCOUNTGL/item"),
            mapped.iterfind("CURRENCYAMOUNT/item"),
            strict=True,
        )
    ]
    assert lines == [("0000219100", "50000.00"), ("0000475900", "-50000.00")]


# Mistakes in a mapping, reported with the file and the line


def _xsl(tmp_path: Path, body: str, name: str = "payment_order.approved.xsl") -> Path:
    path = tmp_path / name
    path.write_text(
        '<xsl:stylesheet version="1.0" '
        'xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        'xmlns:ev="urn:ponte:events:v1">\n' + body + "\n</xsl:stylesheet>\n",
        encoding="utf-8",
    )
    return path


def test_xml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = _xsl(tmp_path, '<xsl:template match="/">\n<a>\n</xsl:template>')

    with pytest.raises(
        MappingError, match=rf"^{path}:4: Opening and ending tag mismatch"
    ):
        Mapping.load(path)


def test_xpath_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = _xsl(
        tmp_path,
        '<xsl:template match="/">\n'
        '<a><xsl:value-of select="ev:id(("/></a>\n</xsl:template>',
    )

    with pytest.raises(
        MappingError, match=rf"^{path}:3: .*could not compile select expression"
    ):
        Mapping.load(path)


def test_unknown_xslt_instruction_names_the_file_and_line(tmp_path: Path) -> None:
    path = _xsl(
        tmp_path,
        '<xsl:template match="/">\n<a><xsl:valueof select="1"/></a>\n</xsl:template>',
    )

    with pytest.raises(
        MappingError, match=rf"^{path}:3: xsl:valueof is not an XSLT 1.0 element"
    ):
        Mapping.load(path)


def test_external_documents_are_refused_while_mapping(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text("<s>do not read</s>")
    path = _xsl(
        tmp_path,
        '<xsl:template match="/"><a>'
        f"<xsl:value-of select=\"document('{secret}')\"/>"
        "</a></xsl:template>",
    )

    with pytest.raises(MappingError, match=str(path)):
        Mapping.load(path).apply(_sample("sap", "payment_order.approved"))


def _folder_copy(tmp_path: Path, source: Path) -> Path:
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    return copy


def test_a_template_that_writes_nothing_stops_the_load_naming_the_sample(
    tmp_path: Path,
) -> None:
    folder = _folder_copy(tmp_path, MAPPINGS / "protheus")
    xsl = folder / "payment_order.approved.xsl"
    xsl.write_text(xsl.read_text().replace('match="/ev:event"', 'match="/ev:nope"'))

    with pytest.raises(MappingError) as caught:
        Mapping.load(folder)

    message = str(caught.value)
    assert f"{xsl}: the mapping wrote no element for this event" in message
    assert "(sample payment_order.approved.input.xml)" in message


def test_an_element_the_contract_does_not_allow_stops_the_load_at_its_line(
    tmp_path: Path,
) -> None:
    folder = _folder_copy(tmp_path, SAP)
    xsl = folder / "payment_order.approved.xsl"
    text = xsl.read_text()
    xsl.write_text(
        text.replace(
            "<BUS_ACT>RFBU</BUS_ACT>",
            "<BUS_ACT>RFBU</BUS_ACT>\n        <BUS_AREA>X</BUS_AREA>",
        )
    )
    line = next(
        n for n, t in enumerate(xsl.read_text().splitlines(), 1) if "<BUS_AREA>" in t
    )

    with pytest.raises(MappingError) as caught:
        Mapping.load(folder)

    message = str(caught.value)
    assert (
        f"{xsl}:{line}: /ZPONTE_ACC_DOCUMENT_POST/DOCUMENTHEADER/BUS_AREA (output line"
        in message
    )
    assert "Element 'BUS_AREA': This element is not expected" in message
    assert (
        "against zws_ponte_acc_document.wsdl, operation ZPONTE_ACC_DOCUMENT_POST"
        in message
    )


def test_worker_start_up_refuses_a_mapping_that_breaks_its_contract(
    tmp_path: Path, database_url: str
) -> None:
    from adapter.delivery.worker import DeliveryWorker
    from adapter.runtime import build_runtime

    folder = _folder_copy(tmp_path, SAP)
    xsl = folder / "payment_order.approved.xsl"
    xsl.write_text(
        xsl.read_text().replace(
            "substring($po/ev:externalId, 1, 16)",
            "concat($po/ev:externalId, ' is far too long for char16')",
        )
    )
    settings = make_settings(tmp_path, database_url)
    target = settings.targets[0].model_copy(update={"mapping": folder})
    runtime: Runtime = build_runtime(settings.model_copy(update={"targets": (target,)}))
    try:
        with pytest.raises(ConfigurationError) as caught:
            DeliveryWorker(runtime).prepare()
    finally:
        runtime.db.dispose()

    message = str(caught.value)
    assert message.startswith("target rm-finance: ")
    assert f"{xsl}:" in message and "REF_DOC_NO" in message and "maxLength" in message


def test_a_mapping_file_named_after_no_event_type_is_refused(tmp_path: Path) -> None:
    folder = _folder_copy(tmp_path, MAPPINGS / "protheus")
    (folder / "payment_order.approved.xsl").rename(folder / "payment_order.aproved.xsl")

    with pytest.raises(
        MappingError,
        match=r"payment_order\.aproved\.xsl: a mapping is named after the event type",
    ):
        Mapping.load(folder)


def test_a_sample_without_its_expected_output_is_refused(tmp_path: Path) -> None:
    folder = _folder_copy(tmp_path, MAPPINGS / "protheus")
    (folder / "samples" / "payment_order.approved.expected.xml").unlink()

    with pytest.raises(
        MappingError,
        match=r"approved\.input\.xml: no payment_order\.approved\.expected\.xml beside",
    ):
        ProfileFolder.load(folder).samples()


def test_an_unknown_manifest_key_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = _folder_copy(tmp_path, MAPPINGS / "protheus")
    manifest = folder / "profile.toml"
    manifest.write_text(
        manifest.read_text().replace("[contract]", "[contract]\nwsld = 'x'")
    )

    with pytest.raises(MappingError, match=rf"{manifest}: unknown key contract\.wsld"):
        ProfileFolder.load(folder)


# Checking an output against the contract


def test_every_violation_names_the_path_and_the_output_line() -> None:
    check = DocumentCheck.for_folder(FOLDERS["sap"])
    assert check is not None
    mapped = Mapping.load(SAP).apply(_sample("sap", "payment_order.approved"))
    mapped.find("DOCUMENTHEADER/DOC_DATE").text = "03.12.2026"  # type: ignore[union-attr]
    mapped.find("ACCOUNTPAYABLE/item/ITEM_TEXT").text = "x" * 51  # type: ignore[union-attr]

    checked = check.check(mapped)

    found = {(v.path, v.output_text[:12]) for v in checked.violations}
    assert found == {
        ("/ZPONTE_ACC_DOCUMENT_POST/ACCOUNTPAYABLE/item/ITEM_TEXT", "<ITEM_TEXT>x"),
        ("/ZPONTE_ACC_DOCUMENT_POST/DOCUMENTHEADER/DOC_DATE", "<DOC_DATE>03"),
    }
    lines = checked.output.splitlines()
    for violation in checked.violations:
        assert lines[violation.output_line - 1].strip() == violation.output_text


def test_repeated_elements_are_named_by_position() -> None:
    check = DocumentCheck.for_folder(FOLDERS["sap"])
    assert check is not None
    mapped = Mapping.load(SAP).apply(_sample("sap", "payment_order.approved"))
    mapped.findall("CURRENCYAMOUNT/item")[1].find("AMT_DOCCUR").text = "1.234"  # type: ignore[union-attr]

    (violation,) = check.check(mapped).violations

    assert (
        violation.path == "/ZPONTE_ACC_DOCUMENT_POST/CURRENCYAMOUNT/item[2]/AMT_DOCCUR"
    )
    assert "fractionDigits" in violation.message


def test_the_wrong_body_element_is_a_violation() -> None:
    check = DocumentCheck.for_folder(FOLDERS["sap"])
    assert check is not None
    wrong = etree.fromstring(f'<r:ZPONTE_ACC_DOCUMENT_FIND xmlns:r="{RFC}"/>')

    (violation,) = check.check(wrong).violations

    assert (
        "the operation's input is {" + RFC + "}ZPONTE_ACC_DOCUMENT_POST"
        in violation.message
    )


# Comparing outputs


def test_comparison_ignores_prefixes_indentation_and_comments() -> None:
    one = etree.fromstring('<a:x xmlns:a="urn:n"><a:y>1</a:y><!-- c --></a:x>')
    other = etree.fromstring('<x xmlns="urn:n">\n  <y>1</y>\n</x>')

    assert same(one, other)


@pytest.mark.parametrize(
    "other",
    [
        '<x xmlns="urn:other"><y>1</y></x>',
        '<x xmlns="urn:n"><y xmlns="">1</y></x>',
        '<x xmlns="urn:n"><y> 1</y></x>',
        '<x xmlns="urn:n"><y>1</y><y>1</y></x>',
    ],
)
def test_comparison_sees_namespaces_text_and_order(other: str) -> None:
    assert not same(
        etree.fromstring('<x xmlns="urn:n"><y>1</y></x>'), etree.fromstring(other)
    )


def test_a_mismatch_diff_names_both_sides_and_the_changed_line() -> None:
    expected = etree.fromstring("<r><a>1</a><b>2</b></r>")
    actual = etree.fromstring("<r><a>1</a><b>3</b></r>")

    diff = difference(expected, actual, Path("s.expected.xml"), Path("m.xsl"))

    assert diff.splitlines()[:2] == [
        "--- expected (s.expected.xml)",
        "+++ mapped by m.xsl",
    ]
    assert "-  <b>2</b>" in diff and "+  <b>3</b>" in diff


def test_a_changed_mapping_fails_its_sample_with_a_diff(tmp_path: Path) -> None:
    folder = _folder_copy(tmp_path, MAPPINGS / "protheus")
    xsl = folder / "payment_order.approved.xsl"
    xsl.write_text(xsl.read_text().replace("select=\"'JUR'\"", "select=\"'PNT'\""))

    _, results = run_folder(ProfileFolder.load(folder))

    assert {r.status for r in results} == {Status.FAILED}
    assert "-    <E2_PREFIXO>JUR</E2_PREFIXO>" in (results[0].diff or "")
    assert "+    <E2_PREFIXO>PNT</E2_PREFIXO>" in (results[0].diff or "")


# Profiles: the mapped body becomes zeep's parameters, unchanged


def _client(folder: str, wsdl: str) -> zeep.Client:
    return load_wsdl(str(MAPPINGS / folder / "contract" / wsdl))


def _body(
    client: zeep.Client, operation: str, params: dict[str, Any]
) -> etree._Element:
    envelope = client.create_message(client.service, operation, **params)
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    return body[0]


@pytest.mark.parametrize(
    "sample", ["payment_order.approved", "provision.changed.reclassified"]
)
def test_sap_parameters_are_sent_as_the_mapping_wrote_them(sample: str) -> None:
    mapped = Mapping.load(SAP).apply(_sample("sap", sample))
    client = _client("sap", "zws_ponte_acc_document.wsdl")

    params = SapAccDocument().parameters(_target(), mapped)

    assert same(_body(client, "ZPONTE_ACC_DOCUMENT_POST", params), mapped)


def test_sap_body_for_another_operation_is_a_mapping_error() -> None:
    mapped = Mapping.load(SAP).apply(_sample("sap", "payment_order.approved"))

    with pytest.raises(
        MappingError, match="the target's operation is ZPONTE_ACC_DOCUMENT_FIND"
    ):
        SapAccDocument().parameters(
            _target(operation="ZPONTE_ACC_DOCUMENT_FIND"), mapped
        )


def test_element_values_keep_repeats_as_lists_and_empty_fields_as_text() -> None:
    values = element_values(
        etree.fromstring("<r><t><item><a/></item><item><a>2</a></item></t><e/></r>")
    )

    assert values == {"t": {"item": [{"a": ""}, {"a": "2"}]}, "e": ""}


def _reply(client: zeep.Client, operation: str, answer: Path) -> Any:
    response = requests.Response()
    response.status_code = 200
    response._content = answer.read_bytes()
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    binding = next(
        iter(next(iter(client.wsdl.services.values())).ports.values())
    ).binding
    return binding.process_reply(client, binding.get(operation), response)


def _sap_answer(name: str, operation: str = "ZPONTE_ACC_DOCUMENT_POST") -> Any:
    client = _client("sap", "zws_ponte_acc_document.wsdl")
    return _reply(client, operation, SAP / "contract" / "examples" / name)


def test_sap_posting_is_delivered_with_the_document_number() -> None:
    verdict = SapAccDocument().interpret(_sap_answer("post-posted.response.xml"))

    assert (verdict.outcome, verdict.result) == (
        Outcome.DELIVERED,
        "1900000012/1000/2026",
    )


def test_sap_refusal_in_return_is_parked_with_the_messages() -> None:
    verdict = SapAccDocument().interpret(_sap_answer("post-refused.response.xml"))

    assert (verdict.outcome, verdict.error_class) == (Outcome.PARKED, "business_error")
    assert "E RW 609: Erro no documento" in (verdict.detail or "")
    assert "Nenhum fornecedor com CPF/CNPJ" in (verdict.detail or "")


def test_sap_answer_without_key_or_error_is_uncertain() -> None:
    verdict = SapAccDocument().interpret({"OBJ_KEY": "", "RETURN": None})

    assert (verdict.outcome, verdict.error_class) == (Outcome.UNCERTAIN, "unreadable")


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("190000001210002026", "1900000012/1000/2026"),
        ("$", None),
        ("", None),
        ("XYZ", "XYZ"),
    ],
)
def test_sap_document_key_reads_obj_key(key: str, shown: str | None) -> None:
    assert document_key(key) == shown


def _reader(answer: Any, calls: list[tuple[str, dict[str, str]]]) -> Reader:
    def read(operation: str, params: dict[str, str]) -> CallResult:
        calls.append((operation, params))
        if isinstance(answer, Exception):
            raise answer
        return CallResult(answer, 200, 5)

    return read


def test_sap_reconcile_asks_by_event_id_and_finds_the_document() -> None:
    mapped = Mapping.load(SAP).apply(_sample("sap", "payment_order.approved"))
    calls: list[tuple[str, dict[str, str]]] = []
    found = _sap_answer("find-found.response.xml", "ZPONTE_ACC_DOCUMENT_FIND")

    asked = SapAccDocument().reconcile(_target(), mapped, _reader(found, calls))

    assert calls == [
        (
            "ZPONTE_ACC_DOCUMENT_FIND",
            {
                "COMP_CODE": "1000",
                "PONTE_EVENT_ID": "0b6f4f7e-2f0a-4d53-8d8c-6f3e2b1a9c01",
            },
        )
    ]
    assert (asked.found, asked.key) == (Found.FOUND, "1900000012/1000/2026")


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("find-none.response.xml", Found.NOT_FOUND),
        (TransportError("t: timed out", sent=True), Found.UNKNOWN),
    ],
)
def test_sap_reconcile_not_found_and_unknown(answer: Any, found: Found) -> None:
    mapped = Mapping.load(SAP).apply(_sample("sap", "payment_order.approved"))
    if isinstance(answer, str):
        answer = _sap_answer(answer, "ZPONTE_ACC_DOCUMENT_FIND")

    asked = SapAccDocument().reconcile(_target(), mapped, _reader(answer, []))

    assert asked.found is found


def test_real_soamanager_contract_takes_a_mapped_body_unchanged() -> None:
    wsdl = (
        REALDATA / "sap-soamanager-zws-bapi" / "zws_bapi_salesorder_create_binding.wsdl"
    )
    if not wsdl.is_file():
        pytest.skip(f"real data {wsdl} is not available")
    client = load_wsdl(str(wsdl))
    mapped = etree.fromstring(
        f'<r:ZBAPI_SALESORDER_CREATE xmlns:r="{RFC}"><CUST_PO>PO-1</CUST_PO>'
        "<CUST_PO_DATE>2026-12-03</CUST_PO_DATE><IT_SO_ITEM><item><MATERIAL_NO>12</MATERIAL_NO>"
        "<MATERIAL>M</MATERIAL><UNIT>EA</UNIT><QTY>1.000</QTY><CUST_MATERIAL/>"
        "<PLANT>1000</PLANT><SHIPPING_POINT>1000</SHIPPING_POINT>"
        "<DELIVERY_DATE>2026-12-10</DELIVERY_DATE></item></IT_SO_ITEM>"
        "<ORDER_TYPE>OR</ORDER_TYPE><SALES_CHANNEL>10</SALES_CHANNEL>"
        "<SALES_DIVISION>00</SALES_DIVISION><SALES_ORG>1000</SALES_ORG>"
        "<SHIP_TO_PARTY>C1</SHIP_TO_PARTY><SOLD_TO_PARTY>C1</SOLD_TO_PARTY>"
        "</r:ZBAPI_SALESORDER_CREATE>"
    )

    body = _body(client, "ZBAPI_SALESORDER_CREATE", element_values(mapped))

    assert same(body, mapped)
    assert body[0].tag == "CUST_PO"  # unqualified, as SOAMANAGER declares it


def test_protheus_parameters_are_sent_as_the_mapping_wrote_them() -> None:
    mapped = Mapping.load(PROTHEUS).apply(_sample("protheus", "payment_order.approved"))
    client = _client("protheus", "WSPONTEFIN.wsdl")

    params = ProtheusPayables().parameters(_target(operation="INCLUITITULO"), mapped)

    assert same(_body(client, "INCLUITITULO", params), mapped)


def _protheus_answer(name: str, operation: str = "INCLUITITULO") -> Any:
    client = _client("protheus", "WSPONTEFIN.wsdl")
    return _reply(client, operation, PROTHEUS / "contract" / "examples" / name)


def test_protheus_inclusion_is_delivered_with_the_se2_key() -> None:
    verdict = ProtheusPayables().interpret(
        _protheus_answer("incluititulo-ok.response.xml")
    )

    assert (verdict.outcome, verdict.result) == (
        Outcome.DELIVERED,
        "01  JUR2026-0042 DP 00012301",
    )


def test_protheus_refusal_is_parked_with_the_first_line_of_the_message() -> None:
    verdict = ProtheusPayables().interpret(
        _protheus_answer("incluititulo-refused.response.xml")
    )

    assert (verdict.outcome, verdict.error_class) == (Outcome.PARKED, "business_error")
    assert verdict.detail == "Protheus refused: Natureza 2201 invalida ou bloqueada"


def test_protheus_reconcile_finds_the_payable_by_idponte() -> None:
    mapped = Mapping.load(PROTHEUS).apply(_sample("protheus", "payment_order.approved"))
    calls: list[tuple[str, dict[str, str]]] = []
    found = _protheus_answer("consultatitulo-found.response.xml", "CONSULTATITULO")

    asked = ProtheusPayables().reconcile(_target(), mapped, _reader(found, calls))

    assert calls == [
        ("CONSULTATITULO", {"IDPONTE": "0b6f4f7e-2f0a-4d53-8d8c-6f3e2b1a9c01"})
    ]
    assert (asked.found, asked.key) == (Found.FOUND, "01  JUR2026-0042 DP 00012301")


@pytest.mark.parametrize(
    "sample", ["payment_order.approved", "contract.created", "lawsuit.closed"]
)
def test_generic_sends_the_canonical_event_as_it_is(sample: str) -> None:
    event = _sample("generic", sample)
    mapped = Mapping.load(MAPPINGS / "generic").apply(event)
    client = _client("generic", "ponte-receiver-v1.wsdl")

    params = GenericEvent().parameters(_target(operation="ReceiveEvent"), mapped)

    assert same(_body(client, "ReceiveEvent", params), etree.fromstring(event))


def test_generic_receipt_is_the_key_and_find_event_reconciles() -> None:
    mapped = etree.fromstring(_sample("generic", "lawsuit.closed"))
    calls: list[tuple[str, dict[str, str]]] = []

    verdict = GenericEvent().interpret("R-77")
    asked = GenericEvent().reconcile(
        _target(), mapped, _reader({"found": True, "receipt": "R-77"}, calls)
    )

    assert (verdict.outcome, verdict.result) == (Outcome.DELIVERED, "R-77")
    assert calls == [("FindEvent", {"eventId": "0b6f4f7e-2f0a-4d53-8d8c-6f3e2b1a9c0b"})]
    assert (asked.found, asked.key) == (Found.FOUND, "R-77")


def test_generic_refuses_anything_but_a_canonical_event() -> None:
    with pytest.raises(MappingError, match="sends a canonical event"):
        GenericEvent().parameters(_target(), etree.fromstring("<other/>"))


# Access control: only what a gate needs


@pytest.mark.parametrize(
    "sample", ["person.flagged", "person.flagged.contract-pending", "person.unflagged"]
)
def test_a_gate_never_learns_why_a_person_is_flagged(sample: str) -> None:
    event = etree.fromstring(_sample("access-control", sample))
    mapped = Mapping.load(MAPPINGS / "access-control").apply(etree.tostring(event))
    sent = etree.tostring(mapped, encoding="unicode")
    secret_fields = (
        "purpose",
        "justification/ev:id",
        "justification/ev:record",
        "reason",
    )

    body = event[5]  # the event's body element
    withheld = [
        text
        for name in secret_fields
        if (text := body.findtext(f"ev:{name}", namespaces={"ev": EVENTS_NS}))
    ]
    assert withheld, "the sample should carry something to withhold"
    assert [w for w in withheld if w in sent] == []
    assert event.findtext(f"{{{EVENTS_NS}}}businessKey") not in sent


def test_a_gate_action_comes_from_the_purpose() -> None:
    mapping = Mapping.load(MAPPINGS / "access-control")

    court = mapping.apply(_sample("access-control", "person.flagged"))
    pending = mapping.apply(
        _sample("access-control", "person.flagged.contract-pending")
    )

    ns = {"acc": "urn:ponte:access:v1"}
    assert court.findtext("acc:action", namespaces=ns) == "deny_entry"
    assert pending.findtext("acc:action", namespaces=ns) == "refer_to_reception"


def test_the_gate_profile_sends_the_document_and_keeps_the_gates_ref() -> None:
    mapped = Mapping.load(MAPPINGS / "access-control").apply(
        _sample("access-control", "person.unflagged")
    )
    gate = AccessControlGate()

    params = gate.parameters(_target(), mapped)

    assert same(etree.fromstring(params["body"].encode()), mapped)
    assert gate.interpret('{"ref": "G-9"}').result == "G-9"
    assert gate.interpret("OK").result is None
    with pytest.raises(MappingError, match="takes acc:flag or acc:unflag"):
        gate.parameters(_target(), etree.fromstring("<x/>"))


# TOTVS RM: the real answers, through the real contract and the bundle


def _rm_answer(name: str) -> Any:
    folder = REALDATA / "totvs-rm-wsdataserver"
    if not folder.is_dir():
        pytest.skip(f"real data {folder} is not available")
    client = load_wsdl(
        str(folder / "dataserver.wsdl"), bundle=MAPPINGS / "totvs-rm" / "contract"
    )
    binding = client.wsdl.services["wsDataServer"].ports["RM_IwsDataServer"].binding
    response = requests.Response()
    response.status_code = 200
    response._content = (folder / name).read_bytes()
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    return binding.process_reply(client, binding.get("SaveRecord"), response)


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ("dataserver-saverecord.xml", Outcome.DELIVERED),
        ("dataserver-saverecord-fk-error.xml", Outcome.PARKED),
    ],
)
def test_rm_real_answers_are_read_by_its_profile(answer: str, outcome: Outcome) -> None:
    from adapter.outbound.profiles import TotvsRmDataServer

    verdict = TotvsRmDataServer().interpret(_rm_answer(answer))

    assert verdict.outcome is outcome
