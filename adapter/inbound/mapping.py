"""Between the published SOAP types and the use cases' inputs and views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from adapter.app.lawsuits import LawsuitFilter, LawsuitView
from adapter.app.parties import PartyData, PartyFilter, PartyView
from adapter.app.records import ItemResult
from adapter.domain.identifiers import normalize_cnj
from adapter.domain.lawsuits import LawsuitInput, validate_lawsuit
from adapter.domain.parties import normalize_any_tax_id, validate_party
from adapter.domain.payment_methods import validate_bank_account
from adapter.errors import ValidationError
from adapter.inbound import types as t


def required(value: Any, field: str) -> Any:
    if value is None:
        raise ValidationError(field, "is required")
    return value


def record_key(
    record_id: str | None, source_system: str | None, external_id: str | None
) -> tuple[str | None, tuple[str, str] | None]:
    """How every Get and Delete names a record: ``id``, or the ERP's key."""
    if record_id and (source_system or external_id):
        raise ValidationError("id", "give id, or sourceSystem and externalId, not both")
    if record_id:
        return record_id.strip(), None
    if source_system and external_id:
        return None, (source_system.strip(), external_id.strip())
    raise ValidationError("id", "give id, or sourceSystem and externalId")


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# Parties


def party_data(p: t.PartyInput) -> PartyData:
    party = validate_party(p.sourceSystem, p.externalId, p.kind, p.name, p.taxId)
    if p.bankAccounts is None:
        return PartyData(party)
    accounts = []
    for position, a in enumerate(p.bankAccounts):
        try:
            accounts.append(
                validate_bank_account(
                    a.bankCode, a.agency, a.account, a.accountType, a.holderTaxId
                )
            )
        except ValidationError as exc:
            raise ValidationError(
                f"bankAccounts[{position}].{exc.field}", exc.rule
            ) from exc
    return PartyData(party, tuple(accounts))


def party_filter(f: t.PartyFilter | None) -> PartyFilter:
    if f is None:
        return PartyFilter()
    tax_id = normalize_any_tax_id(f.taxId, "filter.taxId") if f.taxId else None
    return PartyFilter(
        kind=(f.kind or "").strip().lower() or None,
        tax_id=tax_id,
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


def party_out(view: PartyView) -> t.Party:
    return t.Party(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        kind=view.kind,
        taxId=view.tax_id,
        name=view.name,
        bankAccounts=[
            t.BankAccount(
                bankCode=a.bank_code,
                agency=a.agency,
                account=a.account,
                accountType=a.account_type,
                holderTaxId=a.holder_tax_id,
            )
            for a in view.bank_accounts
        ]
        or None,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        deletedAt=view.deleted_at,
    )


# Lawsuits


def lawsuit_data(item: t.LawsuitInput) -> LawsuitInput:
    return validate_lawsuit(
        source_system=item.sourceSystem,
        external_id=item.externalId,
        kind=item.kind,
        cnj_number=item.cnjNumber,
        area=item.area,
        company_role=item.companyRole,
        claim_value=item.claimValue,
        risk=item.risk,
        status=item.status,
        filing_date=item.filingDate,
        closure_date=item.closureDate,
        closure_reason=item.closureReason,
    )


def lawsuit_filter(f: t.LawsuitFilter | None) -> LawsuitFilter:
    if f is None:
        return LawsuitFilter()
    cnj = normalize_cnj(f.cnjNumber, "filter.cnjNumber") if f.cnjNumber else None

    def lower(value: str | None) -> str | None:
        return (value or "").strip().lower() or None

    return LawsuitFilter(
        status=lower(f.status),
        area=lower(f.area),
        company_role=lower(f.companyRole),
        cnj_number=cnj,
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


def lawsuit_out(view: LawsuitView) -> t.Lawsuit:
    return t.Lawsuit(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        kind=view.kind,
        cnjNumber=view.cnj_number,
        segment=view.segment,
        court=view.court,
        origin=view.origin,
        year=view.year,
        area=view.area,
        companyRole=view.company_role,
        claimValue=view.claim_value,
        risk=view.risk,
        status=view.status,
        filingDate=view.filing_date,
        closureDate=view.closure_date,
        closureReason=view.closure_reason,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        deletedAt=view.deleted_at,
    )


# Shared


def bulk_out(results: Sequence[ItemResult]) -> t.BulkResult:
    refused = sum(1 for r in results if r.outcome == "refused")
    return t.BulkResult(
        accepted=len(results) - refused,
        refused=refused,
        items=[
            t.ItemResult(
                index=r.index,
                externalId=r.external_id,
                outcome=r.outcome,
                id=r.id,
                faultCode=r.fault_code,
                message=r.message,
            )
            for r in results
        ],
    )
