"""AFD time-clock files: Portaria 671 (types 3 and 7) and the legacy Portaria 1510."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from adapter.domain.afd import (
    AfdLayout,
    RefusedLine,
    crc16,
    parse_afd,
    type7_hash,
)
from adapter.errors import ValidationError
from tests.fakes.afd_files import (
    BRT,
    CPF,
    OTHER_CPF,
    FakeEmployee,
    FakeEvent,
    FakePunch,
    build_afd_671,
    build_afd_1510,
    header_671,
    pis_with_check,
)

MORNING = dt.datetime(2026, 9, 24, 8, 0, tzinfo=BRT)
PIS = pis_with_check("1204567890")


def hours(n: int) -> dt.datetime:
    return MORNING + dt.timedelta(hours=n)


def mixed_records() -> list[FakePunch | FakeEvent | FakeEmployee]:
    """Lines 2-8: employee, type 3, type 7, type 3, event, type 7, type 7."""
    return [
        FakeEmployee(MORNING),
        FakePunch(hours(0)),
        FakePunch(hours(1), record_type=7, collector="01"),
        FakePunch(hours(2), cpf=OTHER_CPF),
        FakeEvent(hours(3), code="08"),
        FakePunch(hours(4), record_type=7, online=False),
        FakePunch(hours(5), record_type=7, cpf=OTHER_CPF, collector="03"),
    ]


def replace_byte(data: bytes, line_number: int, column: int, new: bytes) -> bytes:
    """``data`` with the byte at 1-based ``column`` of ``line_number`` replaced."""
    lines = data.split(b"\n")
    line = lines[line_number - 1]
    assert line[column - 1 : column] != new
    lines[line_number - 1] = line[: column - 1] + new + line[column:]
    return b"\n".join(lines)


def test_crc16_is_the_kermit_variant() -> None:
    assert crc16(b"123456789") == 0x2189
    assert crc16(b"") == 0


def test_valid_671_file_parses_with_counts_and_sha256() -> None:
    data = build_afd_671(mixed_records())

    report = parse_afd(data)

    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.layout is AfdLayout.PORTARIA_671
    assert (report.refused, report.warnings) == ((), ())
    assert [p.record_type for p in report.punches] == [3, 7, 3, 7, 7]
    assert [p.nsr for p in report.punches] == [2, 3, 4, 6, 7]
    counts = {"1": 1, "2": 0, "3": 2, "4": 0, "5": 1, "6": 1, "7": 3, "9": 1}
    assert report.record_counts == counts
    assert report.trailer_counts == {"2": 0, "3": 2, "4": 0, "5": 1, "6": 1, "7": 3}
    assert report.signature_lines == 1
    assert report.line_count == 10


def test_671_header_fields_are_read() -> None:
    header = parse_afd(build_afd_671(mixed_records())).header

    assert header.layout_version == "004"
    assert (header.employer_id_type, header.employer_id) == (1, "11222333000181")
    assert header.company_name == "EMPRESA FICTICIA DE TESTES LTDA"
    assert header.rep_id == "BR512021000123456"
    assert header.cno_caepf is None
    assert header.start_date == header.end_date == dt.date(2026, 9, 24)
    assert header.generated_at == dt.datetime(2026, 9, 24, 23, 0, tzinfo=BRT)


def test_671_punches_carry_aware_time_cpf_and_type7_fields() -> None:
    first, rep_p = parse_afd(build_afd_671(mixed_records())).punches[:2]

    assert first.timestamp == MORNING
    assert first.timestamp.utcoffset() == dt.timedelta(hours=-3)
    assert (first.employee_cpf, first.employee_pis, first.hash) == (CPF, None, None)
    assert rep_p.recorded_at == hours(1)
    assert (rep_p.collector_id, rep_p.online) == ("01", True)
    assert rep_p.hash is not None and len(rep_p.hash) == 64


def test_offline_type7_punch_has_online_false() -> None:
    punches = parse_afd(build_afd_671(mixed_records())).punches

    assert [p.online for p in punches if p.record_type == 7] == [True, False, True]


def test_flipped_byte_in_a_type3_punch_refuses_only_that_line_for_crc() -> None:
    data = replace_byte(build_afd_671(mixed_records()), 3, 25, b"9")  # minute digit

    report = parse_afd(data)

    assert report.refused == (RefusedLine(3, 2, "CRC-16 does not match"),)
    assert [p.nsr for p in report.punches] == [3, 4, 6, 7]
    assert report.warnings == ()


def test_flipped_byte_in_a_type7_punch_breaks_the_chain_for_that_line_only() -> None:
    data = replace_byte(build_afd_671(mixed_records()), 7, 25, b"9")

    report = parse_afd(data)

    assert report.refused == (
        RefusedLine(
            7, 6, "hash chain broken: SHA-256 does not match the previous record"
        ),
    )
    assert [p.nsr for p in report.punches] == [2, 3, 4, 7]
    assert report.warnings == ()


def test_a_rewritten_type7_hash_also_breaks_the_next_link() -> None:
    data = replace_byte(build_afd_671(mixed_records()), 7, 100, b"x")

    refused = parse_afd(data).refused

    assert [(r.line_number, r.reason[:17]) for r in refused] == [
        (7, "hash chain broken"),
        (8, "hash chain broken"),
    ]


def test_type7_hash_is_sha256_of_fields_1_to_7_and_the_previous_hash() -> None:
    lines = build_afd_671(mixed_records()).decode("latin-1").split("\r\n")
    first, second = lines[3], lines[6]

    assert first[73:] == hashlib.sha256(first[:73].encode()).hexdigest()
    assert type7_hash(second[:73], first[73:]) == second[73:]


def test_upper_case_hashes_chain_as_written() -> None:
    report = parse_afd(build_afd_671(mixed_records(), upper_hex=True))

    assert report.refused == ()
    assert all(p.hash == p.hash.upper() for p in report.punches if p.hash)


def test_first_type7_of_a_file_from_nsr_1_must_chain_from_empty() -> None:
    records = [FakePunch(hours(0), record_type=7), FakePunch(hours(1), record_type=7)]
    data = build_afd_671(records, chain_seed="f" * 64)

    report = parse_afd(data)

    assert [(r.line_number, r.reason[:17]) for r in report.refused] == [
        (2, "hash chain broken")
    ]
    assert [p.nsr for p in report.punches] == [2]


def test_first_type7_of_a_partial_export_is_a_warning_not_a_refusal() -> None:
    records = [FakePunch(hours(0), record_type=7), FakePunch(hours(1), record_type=7)]
    data = build_afd_671(records, first_nsr=500, chain_seed="f" * 64)

    report = parse_afd(data)

    assert report.refused == ()
    assert [p.nsr for p in report.punches] == [500, 501]
    assert [(w.line_number, w.nsr) for w in report.warnings] == [(2, 500)]
    assert "outside this file" in report.warnings[0].reason


def test_nsr_gap_is_reported_and_the_punches_kept() -> None:
    records = [FakePunch(hours(n)) for n in range(3)]
    data = build_afd_671(records, nsrs=[10, 12, 13])

    report = parse_afd(data)

    assert report.refused == ()
    assert [p.nsr for p in report.punches] == [10, 12, 13]
    assert [(w.line_number, w.nsr, w.reason) for w in report.warnings] == [
        (3, 12, "NSR 000000012 is not the next after 000000010")
    ]


def test_repeated_nsr_is_refused() -> None:
    records = [FakePunch(hours(n)) for n in range(3)]
    data = build_afd_671(records, nsrs=[10, 11, 11])

    report = parse_afd(data)

    assert report.refused == (
        RefusedLine(4, 11, "NSR 000000011 repeats or goes back after 000000011"),
    )
    assert [p.nsr for p in report.punches] == [10, 11]


def test_bad_cpf_is_refused() -> None:
    records = [FakePunch(hours(0)), FakePunch(hours(1), cpf="52998224726")]

    report = parse_afd(build_afd_671(records))

    assert [(r.line_number, r.nsr) for r in report.refused] == [(3, 2)]
    assert report.refused[0].reason.startswith("invalid CPF")
    assert "52998224726" not in report.refused[0].reason
    assert [p.nsr for p in report.punches] == [1]


def test_bad_cpf_in_a_type7_punch_is_refused() -> None:
    records = [FakePunch(hours(0), record_type=7, cpf="11111111111")]

    refused = parse_afd(build_afd_671(records)).refused

    assert [r.reason[:11] for r in refused] == ["invalid CPF"]


def test_record_of_the_wrong_length_is_refused() -> None:
    lines = build_afd_671([FakePunch(hours(0)), FakePunch(hours(1))]).split(b"\r\n")
    lines[1] = lines[1][:20] + lines[1][21:]

    report = parse_afd(b"\r\n".join(lines))

    assert report.refused == (
        RefusedLine(2, 1, "record length 49, expected 50 for type 3"),
    )
    assert [p.nsr for p in report.punches] == [2]
    assert report.warnings == ()


def test_valid_1510_file_with_pis_punches_parses() -> None:
    punches = [
        (dt.datetime(2012, 3, 1, 8, 0), PIS),
        (dt.datetime(2012, 3, 1, 17, 30), PIS),
    ]
    data = build_afd_1510(punches)

    report = parse_afd(data)

    assert report.layout is AfdLayout.PORTARIA_1510
    assert (report.refused, report.warnings) == ((), ())
    assert [p.timestamp for p in report.punches] == [when for when, _ in punches]
    assert all(p.timestamp.tzinfo is None for p in report.punches)
    assert [(p.employee_pis, p.employee_cpf) for p in report.punches] == [
        (PIS, None)
    ] * 2
    assert report.header.layout_version is None
    assert report.header.start_date == dt.date(2012, 3, 1)
    assert report.trailer_counts == {"2": 0, "3": 2, "4": 0, "5": 0}
    assert report.sha256 == hashlib.sha256(data).hexdigest()


def test_1510_revision_with_header_crc_type6_and_longer_trailer_parses() -> None:
    lines = build_afd_1510([(dt.datetime(2012, 3, 1, 8, 0), PIS)]).split(b"\r\n")
    event = b"000000002" + b"6" + b"010320121200" + b"02"
    trailer = b"999999999" + b"%09d%09d%09d%09d%09d" % (0, 1, 0, 0, 1) + b"9"
    data = b"\r\n".join([lines[0] + b"1A2B", lines[1], event, trailer, b""])

    report = parse_afd(data)

    assert (report.refused, report.warnings) == ((), ())
    assert report.record_counts["6"] == 1
    assert report.trailer_counts == {"2": 0, "3": 1, "4": 0, "5": 0, "6": 1}


def test_invalid_pis_is_refused() -> None:
    wrong = PIS[:-1] + str((int(PIS[-1]) + 1) % 10)
    punches = [(dt.datetime(2012, 3, 1, 8, 0), wrong)]

    refused = parse_afd(build_afd_1510(punches)).refused

    assert [(r.line_number, r.reason[:11]) for r in refused] == [(2, "invalid PIS")]


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_crlf_and_lf_line_ends_both_parse(newline: str) -> None:
    report = parse_afd(build_afd_671(mixed_records(), newline=newline))
    legacy = parse_afd(
        build_afd_1510([(dt.datetime(2012, 3, 1, 8), PIS)], newline=newline)
    )

    assert (report.refused, report.warnings) == ((), ())
    assert len(report.punches) == 5
    assert (legacy.refused, len(legacy.punches)) == ((), 1)


def test_file_without_a_final_line_end_parses() -> None:
    data = build_afd_671(mixed_records()).removesuffix(b"\r\n")

    assert parse_afd(data).signature_lines == 1


def test_trailer_mismatch_is_reported_as_a_warning() -> None:
    data = build_afd_671(mixed_records(), trailer_overrides={"3": 5})

    report = parse_afd(data)

    assert report.refused == ()
    assert len(report.punches) == 5
    assert [(w.line_number, w.reason) for w in report.warnings] == [
        (9, "trailer counts 5 type-3 records, the file has 2")
    ]


def test_missing_trailer_is_reported() -> None:
    data = build_afd_671([FakePunch(hours(0))])
    without = b"\r\n".join(data.split(b"\r\n")[:2]) + b"\r\n"

    report = parse_afd(without)

    assert [w.reason for w in report.warnings] == [
        "the file has no trailer (type 9) record"
    ]


def test_blank_and_unknown_lines_are_refused_and_the_rest_read() -> None:
    lines = build_afd_671([FakePunch(hours(0)), FakePunch(hours(1))]).split(b"\r\n")
    lines[2:2] = [b"", b"0000000028garbage", b"not an nsr at all"]

    report = parse_afd(b"\r\n".join(lines))

    assert [(r.line_number, r.reason) for r in report.refused] == [
        (3, "blank line"),
        (4, "unknown record type '8'"),
        (5, "the record does not start with a 9-digit NSR"),
    ]
    assert [p.nsr for p in report.punches] == [1, 2]


def test_damaged_header_crc_is_refused_but_the_file_is_read() -> None:
    data = replace_byte(build_afd_671([FakePunch(hours(0))]), 1, 60, b"X")

    report = parse_afd(data)

    assert report.refused == (RefusedLine(1, 0, "CRC-16 does not match"),)
    assert len(report.punches) == 1


def test_every_crc_failing_hints_at_another_crc_variant() -> None:
    lines = build_afd_671([FakePunch(hours(0))]).split(b"\r\n")
    lines[:2] = [line[:-4] + b"0000" for line in lines[:2]]

    report = parse_afd(b"\r\n".join(lines))

    assert len(report.refused) == 2
    assert any("CRC-16/KERMIT" in w.reason for w in report.warnings)


def test_unknown_layout_version_is_a_warning() -> None:
    report = parse_afd(build_afd_671([FakePunch(hours(0))], version="009"))

    assert report.header.layout_version == "009"
    assert [w.reason for w in report.warnings] == [
        "layout version '009' is not 003 or 004"
    ]


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "cannot be empty"),
        (b"hello world\r\n", "starts with a header record"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "starts with a header record"),
        (b"0000000003" + b"0" * 40 + b"\r\n", "starts with a header record"),
        (b"0000000001" + b"1" * 100 + b"\r\n", "header length 110"),
    ],
)
def test_a_file_that_is_not_an_afd_raises(data: bytes, rule: str) -> None:
    with pytest.raises(ValidationError, match=rf"^file: .*{rule}"):
        parse_afd(data)


def test_unreadable_header_date_raises() -> None:
    header = header_671(dt.date(2026, 9, 24), dt.date(2026, 9, 24))
    broken = header[:206] + "2026-13-01" + header[216:]

    with pytest.raises(ValidationError, match=r"^file: header start date"):
        parse_afd(broken.encode("latin-1") + b"\r\n")
