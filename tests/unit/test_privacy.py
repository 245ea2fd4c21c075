"""Personal data: CPFs masked in what Ponte shows, keyed hashes of a CPF, the
XSLT functions mappings use, and the report for a data subject."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import stat
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from adapter.app.context import CallContext
from adapter.audit.query import view
from adapter.domain.employees import validate_employee
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.errors import ConfigurationError, ValidationError
from adapter.logs import MaskCpf
from adapter.privacy import (
    SubjectKeys,
    mask_cpfs,
    mask_cpfs_in,
    privacy_report,
    xslt_extensions,
)
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry, Lawsuit
from adapter.storage.models_access import AccessFlag
from adapter.storage.models_contracts import Contract, ContractParty
from adapter.storage.models_punches import TimePunch

CPF, DIGITS = "123.456.789-09", "12345678909"
OTHER = "529.982.247-25"
CNJ = "1234567-13.2024.8.26.0100"
SECRET = bytes(range(32))
CALL = CallContext(actor="erp", channel="soap", operation="test")


# Masking


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("taxId 123.456.789-09 refused", "taxId ***.456.789-** refused"),
        ("cpf=12345678909;", "cpf=***.456.789-**;"),
        ('{"cpf": "123456789-09"}', '{"cpf": "***.456.789-**"}'),
    ],
)
def test_cpfs_are_masked_to_their_middle_digits(given: str, shown: str) -> None:
    assert mask_cpfs(given) == shown


@pytest.mark.parametrize(
    "kept",
    [
        "11.222.333/0001-81",  # a CNPJ is a company's, and public
        "00589677720168190000",  # a CNJ number: 20 digits
        "order 1234567890",  # ten digits
        "key a12345678909",  # part of a longer token
    ],
)
def test_what_is_not_shaped_like_a_cpf_is_left_alone(kept: str) -> None:
    assert mask_cpfs(kept) == kept


def test_masking_reaches_into_nested_details() -> None:
    detail = {"items": [{"taxId": DIGITS}, {"n": 1}], "note": f"of {CPF}"}
    assert mask_cpfs_in(detail) == {
        "items": [{"taxId": "***.456.789-**"}, {"n": 1}],
        "note": "of ***.456.789-**",
    }


def test_audit_view_masks_an_entry_stored_before_masking(runtime: Runtime) -> None:
    """Entries from before the writer masked are masked when shown."""
    with runtime.db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_entries (at, actor, channel, action, outcome,"
                " record_type, record_id, detail, seq, prev_hash, hash) VALUES"
                " (:at, 'erp', 'soap', 'GetEmployee', 'fault', 'employee', :cpf,"
                " :detail, 1, :z, :z)"
            ),
            {
                "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                "cpf": DIGITS,
                "detail": json.dumps({"message": f"no employee with cpf {CPF}"}),
                "z": "0" * 64,
            },
        )
    with runtime.db.transaction() as session:
        shown = json.dumps(view(session.get_one(AuditEntry, 1)))
    assert DIGITS not in shown and CPF not in shown
    assert "***.456.789-**" in shown


def test_a_log_line_never_carries_a_full_cpf(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("ponte.test-privacy")
    logger.addFilter(MaskCpf())
    with caplog.at_level(logging.INFO):
        logger.info("party taxId=%s and %s", CPF, DIGITS)
    assert CPF not in caplog.text and DIGITS not in caplog.text
    assert caplog.text.count("***.456.789-**") == 2


# Keyed hashes


def test_subject_key_is_hmac_sha256_of_the_cpf_digits() -> None:
    keys = SubjectKeys(SECRET)
    expected = hmac.new(SECRET, DIGITS.encode(), hashlib.sha256).hexdigest()
    assert keys.key(CPF) == keys.key(DIGITS) == expected
    assert keys.key(CPF) != hashlib.sha256(DIGITS.encode()).hexdigest()
    assert SubjectKeys(bytes(32)).key(CPF) != expected  # another secret
    assert keys.key(OTHER) != expected


def test_subject_key_refuses_what_is_not_a_cpf() -> None:
    with pytest.raises(ValidationError, match="cpf: CPF check digits do not match"):
        SubjectKeys(SECRET).key("123.456.789-00")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        SubjectKeys(b"short")


def test_the_secret_is_created_once_in_data_dir_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "subject.key"
    first = SubjectKeys.from_file(path).key(CPF)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SubjectKeys.from_file(path).key(CPF) == first
    with pytest.raises(ConfigurationError, match="no subject key secret"):
        SubjectKeys.from_file(tmp_path / "elsewhere.key", create=False)


STYLESHEET = b"""<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:ev="urn:ponte:events:v1" xmlns:privacy="urn:ponte:privacy"
    exclude-result-prefixes="ev privacy">
  <xsl:template match="/">
    <flag>
      <subject><xsl:value-of select="privacy:subject-key(//ev:cpf)"/></subject>
      <note><xsl:value-of select="privacy:mask-cpf(//ev:note)"/></note>
    </flag>
  </xsl:template>
</xsl:stylesheet>"""


def event(cpf: str) -> etree._Element:
    return etree.fromstring(
        f'<ev:event xmlns:ev="urn:ponte:events:v1"><ev:personFlagged>'
        f"<ev:cpf>{cpf}</ev:cpf><ev:note>sobre {CPF}</ev:note>"
        f"</ev:personFlagged></ev:event>".encode()
    )


def test_a_mapping_sends_the_keyed_hash_instead_of_the_cpf() -> None:
    keys = SubjectKeys(SECRET)
    transform = etree.XSLT(
        etree.fromstring(STYLESHEET), extensions=xslt_extensions(keys)
    )
    result = transform(event(DIGITS))
    assert result.getroot().findtext("subject") == keys.key(DIGITS)
    assert result.getroot().findtext("note") == "sobre ***.456.789-**"
    assert DIGITS not in str(result) and "urn:ponte:privacy" not in str(result)


def test_a_mapping_stops_on_a_value_that_is_not_a_cpf() -> None:
    keys = SubjectKeys(SECRET)
    transform = etree.XSLT(
        etree.fromstring(STYLESHEET), extensions=xslt_extensions(keys)
    )
    with pytest.raises(ValidationError, match="CPF check digits"):
        transform(event("11111111112"))


# The report for a data subject


def seed(runtime: Runtime) -> dict[str, str]:
    """One person (CPF) in every family, and another person beside them."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    party, _ = runtime.parties.upsert(
        CALL, validate_party("SAP", "V-1", "individual", "Maria", CPF)
    )
    runtime.parties.upsert(
        CALL, validate_party("SAP", "V-2", "individual", "Outra", OTHER)
    )
    runtime.employees.upsert(
        CALL,
        validate_employee(
            source_system="RM",
            external_id="E-1",
            cpf=CPF,
            registration_number="M-1",
            employer_tax_id="11.222.333/0001-81",
            name="Maria",
            admission_date=dt.date(2020, 2, 3),
        ),
    )
    order, _ = runtime.legal.create_payment_order(
        CALL,
        validate_payment_order(
            source_system="SAP",
            external_id="PO-1",
            lawsuit_number=CNJ,
            type="settlement",
            beneficiary_tax_id=CPF,
            amount="10.00",
            due_date=dt.date(2026, 12, 31),
            cost_center="CC",
            description="Acordo",
        ),
    )
    runtime.legal.approve_payment_order(CALL, order.id)  # a delivery to rm-finance
    ids = {"party": party.id, "order": order.id}
    with runtime.db.transaction() as session:
        lawsuit = Lawsuit(
            id=str(uuid.uuid4()),
            source_system="SAP",
            external_id="L-1",
            kind="judicial",
            cnj_number="12345671320248260100",
            area="labor",
            company_role="defendant",
            claim_value=Decimal("1.00"),
            risk="possible",
            status="active",
            filing_date=dt.date(2024, 1, 1),
            created_at=now,
            updated_at=now,
        )
        contract = Contract(
            id=str(uuid.uuid4()),
            source_system="SAP",
            external_id="C-1",
            number="CT-1",
            type="serviço",
            object="Consultoria",
            value=Decimal("1.00"),
            currency="BRL",
            start_date=dt.date(2026, 1, 1),
            auto_renewal=False,
            status="active",
            version=0,
            created_at=now,
            updated_at=now,
            parties=[ContractParty(position=0, role="counterparty", tax_id=DIGITS)],
        )
        flag = AccessFlag(
            id=str(uuid.uuid4()),
            party_id=party.id,
            cpf=DIGITS,
            purpose="site_security",
            justification="contract",
            justification_id=contract.id,
            valid_until=dt.date(2026, 12, 31),
            created_at=now,
            created_by="erp",
        )
        punch = TimePunch(
            id=str(uuid.uuid4()),
            origin="api",
            source_system="RM",
            external_id="T-1",
            employee_cpf=DIGITS,
            punched_at=now,
            created_at=now,
        )
        session.add_all([lawsuit, contract, flag, punch])
        ids |= {"lawsuit": lawsuit.id, "contract": contract.id, "flag": flag.id}
    return ids


def test_report_lists_every_record_flag_and_delivery_of_the_person(
    runtime: Runtime,
) -> None:
    ids = seed(runtime)
    with runtime.db.transaction() as session:
        report = privacy_report(session, DIGITS, SubjectKeys(SECRET))
    assert report.cpf == "***.456.789-**"
    assert report.subject_key == SubjectKeys(SECRET).key(CPF)
    assert [p["id"] for p in report.parties] == [ids["party"]]
    assert [e["key"] for e in report.employees] == ["RM/E-1"]
    assert report.time_punches["count"] == 1
    assert [o["id"] for o in report.payment_orders] == [ids["order"]]
    assert [c["id"] for c in report.contracts] == [ids["contract"]]
    assert [(law["id"], law["linkedBy"]) for law in report.lawsuits] == [
        (ids["lawsuit"], "payment order")
    ]
    assert [f["id"] for f in report.access_flags] == [ids["flag"]]
    assert [(d["event"], d["target"]) for d in report.deliveries] == [
        ("payment_order.approved", "rm-finance")
    ]
    assert report.audit_entries >= 3  # party upsert, order created, approved
    everything = json.dumps(report.as_dict())
    assert DIGITS not in everything and CPF not in everything
    assert "Outra" not in everything


def test_report_of_an_unknown_person_is_empty(runtime: Runtime) -> None:
    seed(runtime)
    with runtime.db.transaction() as session:
        report = privacy_report(session, OTHER, SubjectKeys(SECRET))
    assert [p["key"] for p in report.parties] == ["SAP/V-2"]
    assert not report.employees and not report.payment_orders
    assert not report.deliveries and not report.access_flags
    with runtime.db.transaction() as session:
        nobody = privacy_report(session, "111.444.777-35", SubjectKeys(SECRET))
    assert not nobody.found_anything


def test_report_refuses_what_is_not_a_cpf(runtime: Runtime) -> None:
    with runtime.db.transaction() as session, pytest.raises(ValidationError):
        privacy_report(session, "123", SubjectKeys(SECRET))
