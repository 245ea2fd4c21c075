"""``ponte mappings test | validate | preview`` as an integration team meets them.

Every command runs as a real ``ponte`` process. None of them may open or
create the database. The first test is the CI check that every shipped
mapping passes its samples.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from adapter.outbound.wsdl import contract_schema, read_contract
from tests.conftest import Installation
from tests.realdata import REALDATA

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _sample(folder: str, name: str) -> Path:
    return MAPPINGS / folder / "samples" / f"{name}.input.xml"


def _no_database(installation: Installation) -> None:
    assert not (installation.root / "data").exists()


# ponte mappings test


def test_every_shipped_mapping_passes_its_samples(installation: Installation) -> None:
    done = installation.ponte("mappings", "test", "--dir", str(MAPPINGS))

    summary = done.stdout.strip().splitlines()[-1]
    count = int(summary.split()[0])
    assert summary == f"{count} checks: {count} passed, 0 failed"
    for profile in ("access-control", "generic", "protheus", "sap", "totvs-rm"):
        assert re.search(rf"^{profile} \(", done.stdout, re.MULTILINE)
    assert "FAIL" not in done.stdout
    _no_database(installation)


def test_a_sample_mismatch_prints_a_diff_and_exits_1(
    installation: Installation, tmp_path: Path
) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS / "protheus", root / "protheus")
    xsl = root / "protheus" / "payment_order.approved.xsl"
    xsl.write_text(xsl.read_text().replace("select=\"'DP'\"", "select=\"'NF'\""))

    done = installation.ponte("mappings", "test", "--dir", str(root), check=False)

    assert done.returncode == 1
    assert "  FAIL  payment_order.approved" in done.stdout
    assert "--- expected (payment_order.approved.expected.xml)" in done.stdout
    assert "-    <E2_TIPO>DP</E2_TIPO>" in done.stdout
    assert "+    <E2_TIPO>NF</E2_TIPO>" in done.stdout
    assert done.stdout.strip().endswith("2 checks: 0 passed, 2 failed")


def test_a_mapping_without_a_sample_fails(
    installation: Installation, tmp_path: Path
) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS / "sap", root / "sap")
    for sample in (root / "sap" / "samples").glob("provision.changed*"):
        sample.unlink()

    done = installation.ponte(
        "mappings", "test", "sap", "--dir", str(root), check=False
    )

    assert done.returncode == 1
    assert "FAIL  provision.changed.xsl: no sample uses this mapping" in done.stdout


def test_an_unknown_profile_is_a_usage_error_listing_the_profiles(
    installation: Installation,
) -> None:
    done = installation.ponte(
        "mappings", "test", "sapp", "--dir", str(MAPPINGS), check=False
    )

    assert done.returncode == 2
    assert "no profile sapp" in done.stderr
    assert "access-control, generic, protheus, sap, totvs-rm" in done.stderr


def test_a_broken_stylesheet_is_an_error_naming_file_and_line(
    installation: Installation, tmp_path: Path
) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS / "protheus", root / "protheus")
    xsl = root / "protheus" / "payment_order.approved.xsl"
    xsl.write_text(xsl.read_text().replace("</TITULO>", "</TITLE>"))

    done = installation.ponte("mappings", "test", "--dir", str(root), check=False)

    assert done.returncode == 2
    assert re.search(
        rf"error: {re.escape(str(xsl))}:\d+: Opening and ending tag", done.stderr
    )


# ponte mappings validate


def test_validate_passes_every_shipped_profile(installation: Installation) -> None:
    done = installation.ponte("mappings", "validate", "--dir", str(MAPPINGS))

    assert done.stdout.strip().endswith("break their contract")
    assert ", 0 break their contract" in done.stdout
    assert (
        "sap (against zws_ponte_acc_document.wsdl, operation ZPONTE_ACC_DOCUMENT_POST)"
        in (done.stdout)
    )
    assert "nothing to send: provision PROV-7781" in done.stdout
    _no_database(installation)


def test_validate_reports_each_violation_with_path_output_line_and_mapping_line(
    installation: Installation, tmp_path: Path
) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS / "sap", root / "sap")
    xsl = root / "sap" / "payment_order.approved.xsl"
    text = xsl.read_text().replace(
        "substring(concat('Ponte ', $po/ev:externalId), 1, 25)",
        "concat('Ponte payment order ', $po/ev:externalId)",
    )
    xsl.write_text(text)
    mapping_line = next(
        n for n, line in enumerate(text.splitlines(), 1) if "<HEADER_TXT>" in line
    )

    done = installation.ponte(
        "mappings", "validate", "sap", "--dir", str(root), check=False
    )

    assert done.returncode == 1
    expected = (
        f"{xsl}:{mapping_line}: /ZPONTE_ACC_DOCUMENT_POST/DOCUMENTHEADER/HEADER_TXT "
        "(output line "
    )
    assert expected in done.stdout
    assert "[facet 'maxLength']" in done.stdout
    shown = re.search(r"^\s+(\d+) \| (<HEADER_TXT>.*)$", done.stdout, re.MULTILINE)
    assert shown is not None and "Ponte payment order PO-2026-0042" in shown.group(2)
    assert "2 break their contract" in done.stdout


def test_validate_maps_and_checks_a_given_event(
    installation: Installation, tmp_path: Path
) -> None:
    event = tmp_path / "big.xml"
    event.write_bytes(
        _sample("sap", "payment_order.approved")
        .read_bytes()
        .replace(
            b"<ev:amount>15230.45</ev:amount>",
            b"<ev:amount>123456789012.34</ev:amount>",
        )
    )

    done = installation.ponte(
        "mappings",
        "validate",
        "sap",
        "--event",
        str(event),
        "--dir",
        str(MAPPINGS),
        check=False,
    )

    assert done.returncode == 1
    assert "CURRENCYAMOUNT/item[1]/AMT_DOCCUR" in done.stdout
    assert "totalDigits" in done.stdout
    assert "1 outputs checked, 1 break their contract" in done.stdout


# ponte mappings preview


def test_preview_of_a_sap_profile_prints_an_envelope_that_keeps_the_contract(
    installation: Installation,
) -> None:
    done = installation.ponte(
        "mappings",
        "preview",
        str(_sample("sap", "payment_order.approved")),
        "--profile",
        "sap",
        "--dir",
        str(MAPPINGS),
    )

    head, _, body = done.stdout.partition("\n\n")
    assert head.splitlines() == [
        "POST https://sap.example.com:44300/sap/bc/srt/rfc/sap/zws_ponte_acc_document/"
        "100/zws_ponte_acc_document_srv/zws_ponte_acc_document_binding",
        'SOAPAction: "urn:sap-com:document:sap:rfc:functions:ZWS_PONTE_ACC_DOCUMENT:'
        'ZPONTE_ACC_DOCUMENT_POSTRequest"',
        "Content-Type: text/xml; charset=utf-8",
    ]
    envelope = etree.fromstring(body.encode())
    post = envelope.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
    wsdl = MAPPINGS / "sap" / "contract" / "zws_ponte_acc_document.wsdl"
    schema = contract_schema(read_contract(str(wsdl)))
    assert schema.validate(post), schema.error_log
    assert "signature values are placeholders" in done.stderr
    _no_database(installation)


def test_preview_of_a_signed_rm_target_has_placeholders_and_no_secret(
    installation: Installation,
) -> None:
    wsdl = REALDATA / "totvs-rm-wsdataserver" / "dataserver.wsdl"
    if not wsdl.is_file():
        pytest.skip(f"real data {wsdl} is not available")
    installation.write_config(
        f"""
[[targets]]
name = "rm-finance"
wsdl = "{wsdl}"
schema_bundle = "{MAPPINGS / "totvs-rm" / "contract"}"
port = "RM_IwsDataServer"
operation = "SaveRecord"
mapping = "{MAPPINGS / "totvs-rm"}"
signing_key = "ponte-1"

[targets.params]
DataServerName = "FinLanDataBR"
Contexto = "CODCOLIGADA=1;CODSISTEMA=F;CODUSUARIO=ponte"

[targets.auth]
basic_user = "ponte"
basic_password_env = "PONTE_TEST_RM_PASSWORD"
"""
    )

    done = installation.ponte(
        "mappings",
        "preview",
        str(_sample("totvs-rm", "payment_order.approved")),
        "--target",
        "rm-finance",
    )

    out = done.stdout
    assert out.startswith(
        "POST https://rm.example.com:1251/wsDataServer/IwsDataServer\n"
    )
    assert 'SOAPAction: "http://www.totvs.com/IwsDataServer/SaveRecord"' in out
    assert "Authorization: ***" in out
    assert "rm-pass" not in out  # the password in PONTE_TEST_RM_PASSWORD
    assert "<ds:KeyName>ponte-1</ds:KeyName>" in out
    assert (
        "<ds:SignatureValue>(signature value, computed when sent)</ds:SignatureValue>"
        in out
    )
    assert "(digest, computed when sent)" in out
    assert "&lt;VALORORIGINAL&gt;15230.45&lt;/VALORORIGINAL&gt;" in out
    _no_database(installation)


def test_preview_of_an_access_control_profile_prints_the_http_body(
    installation: Installation,
) -> None:
    done = installation.ponte(
        "mappings",
        "preview",
        str(_sample("access-control", "person.flagged")),
        "--profile",
        "access-control",
        "--dir",
        str(MAPPINGS),
    )

    assert "X-Ponte-Event-Type: person.flagged" in done.stdout
    assert "<acc:action>deny_entry</acc:action>" in done.stdout
    assert "court_order" not in done.stdout


def test_preview_says_when_there_is_nothing_to_send(installation: Installation) -> None:
    done = installation.ponte(
        "mappings",
        "preview",
        str(_sample("sap", "provision.changed.disclosure-only")),
        "--profile",
        "sap",
        "--dir",
        str(MAPPINGS),
    )

    assert done.stdout == ""
    assert "nothing would be sent: provision PROV-7781" in done.stderr


def test_preview_refuses_what_is_not_a_canonical_event(
    installation: Installation, tmp_path: Path
) -> None:
    event = tmp_path / "event.xml"
    event.write_text(
        _sample("sap", "payment_order.approved")
        .read_text()
        .replace("<ev:currency>BRL</ev:currency>", "<ev:currency>USD</ev:currency>")
    )

    done = installation.ponte(
        "mappings",
        "preview",
        str(event),
        "--profile",
        "sap",
        "--dir",
        str(MAPPINGS),
        check=False,
    )

    assert done.returncode == 2
    assert re.search(
        rf"error: {re.escape(str(event))}:\d+: not a canonical event", done.stderr
    )


def test_preview_needs_exactly_one_of_target_and_profile(
    installation: Installation,
) -> None:
    done = installation.ponte(
        "mappings",
        "preview",
        str(_sample("sap", "payment_order.approved")),
        check=False,
    )

    assert done.returncode == 2
    assert "give --target NAME or --profile NAME" in done.stderr


def test_help_explains_the_layout_and_the_three_commands(
    installation: Installation,
) -> None:
    done = installation.ponte("mappings", "--help")

    for text in ("<event type>.xsl", "samples/<name>.input.xml", "profile.toml"):
        assert text in done.stdout
    for command in ("preview", "test", "validate"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE)
