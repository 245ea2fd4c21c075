"""Between the published contract types and the contract use cases."""

from __future__ import annotations

from adapter.app.contracts import (
    AmendmentFields,
    AmendmentView,
    ContractData,
    ContractFilter,
    ContractView,
)
from adapter.domain.contracts import ContractStatus, validate_contract
from adapter.domain.lawsuits import parse_choice
from adapter.domain.parties import normalize_any_tax_id, required_text
from adapter.inbound import types_contracts as tc
from adapter.inbound.mapping import utc


def contract_data(item: tc.ContractInput) -> ContractData:
    """Check a contract as sent; ``ValidationError`` names the first field broken."""
    source = required_text(item.sourceSystem, "sourceSystem", 40)
    external = required_text(item.externalId, "externalId", 80)
    contract = validate_contract(
        number=item.number,
        type=item.type,
        object=item.object,
        parties=[(p.role, p.taxId) for p in item.parties or []],
        value=item.value,
        currency=item.currency,
        start_date=item.startDate,
        end_date=item.endDate,
        auto_renewal=item.autoRenewal,
        renewal_months=item.renewalMonths,
        notice_days=item.noticeDays,
    )
    status = parse_choice(ContractStatus, item.status, "status")
    return ContractData(source, external, status, contract)


def amendment_fields(item: tc.ContractAmendmentInput) -> AmendmentFields:
    return AmendmentFields(
        number=item.number,
        type=item.type,
        effective_date=item.effectiveDate,
        new_end_date=item.newEndDate,
        new_value=item.newValue,
        new_object=item.newObject,
        signed_at=item.signedAt,
    )


def contract_filter(f: tc.ContractFilter | None) -> ContractFilter:
    if f is None:
        return ContractFilter()
    status = None
    if f.status:
        status = parse_choice(ContractStatus, f.status, "filter.status").value
    tax_id = f.counterpartyTaxId
    return ContractFilter(
        status=status,
        counterparty_tax_id=(
            normalize_any_tax_id(tax_id, "filter.counterpartyTaxId") if tax_id else None
        ),
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


def _amendment_out(view: AmendmentView) -> tc.ContractAmendment:
    return tc.ContractAmendment(
        number=view.number,
        type=view.type,
        effectiveDate=view.effective_date,
        signedAt=view.signed_at,
        oldValue=view.old_value,
        newValue=view.new_value,
        oldEndDate=view.old_end_date,
        newEndDate=view.new_end_date,
        oldObject=view.old_object,
        newObject=view.new_object,
        createdAt=view.created_at,
    )


def contract_out(view: ContractView) -> tc.Contract:
    return tc.Contract(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        number=view.number,
        type=view.type,
        object=view.object,
        parties=[tc.ContractParty(role=p.role, taxId=p.tax_id) for p in view.parties]
        or None,
        value=view.value,
        currency=view.currency,
        startDate=view.start_date,
        endDate=view.end_date,
        autoRenewal=view.auto_renewal,
        renewalMonths=view.renewal_months,
        noticeDays=view.notice_days,
        noticeDeadline=view.notice_deadline,
        status=view.status,
        version=view.version,
        amendments=[_amendment_out(a) for a in view.amendments] or None,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        deletedAt=view.deleted_at,
    )
