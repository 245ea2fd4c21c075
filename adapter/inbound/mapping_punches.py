"""Between the published punch and AFD types and the use cases' inputs and views."""

from __future__ import annotations

import base64
import binascii
import re

from adapter.app.punches import AfdFileView, LineView, PunchFilter, PunchView
from adapter.domain.identifiers import normalize_cpf
from adapter.domain.punches import (
    DEFAULT_LOCAL_ZONE,
    AfdUpload,
    PunchInput,
    normalize_pis,
    validate_afd_upload,
    validate_punch,
)
from adapter.errors import ValidationError
from adapter.inbound import types_punches as tp
from adapter.inbound.mapping import utc

# XML Schema lets base64Binary be wrapped (MIME clients break it every 76).
_XML_SPACE = str.maketrans("", "", " \t\r\n")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")


def decode_base64(text: str | None, field: str = "content") -> bytes:
    """The bytes of base64 ``text``; anything but the alphabet, ``=`` padding and
    XML white space is refused, never skipped. The message holds no content."""
    if text is None:
        raise ValidationError(field, "is required")
    compact = text.translate(_XML_SPACE)
    stray = _NOT_BASE64.search(compact)
    if stray is not None:
        raise ValidationError(
            field,
            f"is not valid base64: character {stray.start() + 1} "
            "(white space not counted) is outside the base64 alphabet",
        )
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise ValidationError(field, f"is not valid base64: {exc}") from None


# Punches


def punch_data(item: tp.TimePunchInput) -> PunchInput:
    return validate_punch(
        source_system=item.sourceSystem,
        external_id=item.externalId,
        employee_cpf=item.employeeCpf,
        punched_at=item.punchedAt,
        collector=item.collector,
    )


def punch_filter(f: tp.TimePunchFilter | None) -> PunchFilter:
    if f is None:
        raise ValidationError("filter", "give employeeCpf, employeePis or afdFileId")
    cpf = normalize_cpf(f.employeeCpf, "filter.employeeCpf") if f.employeeCpf else None
    pis = normalize_pis(f.employeePis, "filter.employeePis") if f.employeePis else None
    return PunchFilter(
        employee_cpf=cpf,
        employee_pis=pis,
        afd_file_id=(f.afdFileId or "").strip() or None,
        punched_from=utc(f.punchedFrom),
        punched_to=utc(f.punchedTo),
        modified_since=utc(f.modifiedSince),
    )


def punch_out(view: PunchView) -> tp.TimePunch:
    return tp.TimePunch(
        id=view.id,
        origin=view.origin,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        afdFileId=view.afd_file_id,
        nsr=view.nsr,
        recordType=view.record_type,
        employeeCpf=view.employee_cpf,
        employeePis=view.employee_pis,
        punchedAt=view.punched_at,
        localTime=view.local_time,
        localTimeZone=view.local_zone,
        recordedAt=view.recorded_at,
        collector=view.collector,
        online=view.online,
        hash=view.hash,
        createdAt=view.created_at,
    )


# AFD files


def afd_upload(
    item: tp.AfdFileInput, default_zone: str = DEFAULT_LOCAL_ZONE
) -> AfdUpload:
    return validate_afd_upload(
        file_name=item.fileName,
        employer_tax_id=item.employerTaxId,
        content=decode_base64(item.content, "content"),
        local_zone=item.localTimeZone,
        default_zone=default_zone,
    )


def _lines_out(lines: tuple[LineView, ...]) -> list[tp.AfdLine] | None:
    out = [
        tp.AfdLine(lineNumber=x.line_number, nsr=x.nsr, reason=x.reason) for x in lines
    ]
    return out or None


def afd_out(view: AfdFileView) -> tp.AfdFile:
    return tp.AfdFile(
        id=view.id,
        fileName=view.file_name,
        employerTaxId=view.employer_tax_id,
        layout=view.layout,
        layoutVersion=view.layout_version,
        repId=view.rep_id,
        periodStart=view.period_start,
        periodEnd=view.period_end,
        localTimeZone=view.local_zone,
        sha256=view.sha256,
        size=view.size,
        lineCount=view.line_count,
        importedAt=view.imported_at,
        importedBy=view.imported_by,
        acceptedCount=view.accepted_count,
        refusedCount=view.refused_count,
        refusedLines=_lines_out(view.refused_lines),
        warnings=_lines_out(view.warnings),
        content=view.content,
    )
