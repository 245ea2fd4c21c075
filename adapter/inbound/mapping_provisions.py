"""Between the provision family's SOAP types and its use cases."""

from __future__ import annotations

from adapter.app.provision_records import (
    HistoryEntry,
    LawsuitRef,
    MovementView,
    ProvisionData,
    ProvisionFilter,
    ProvisionView,
)
from adapter.domain.lawsuits import is_absent, parse_choice, parse_date
from adapter.domain.parties import required_text
from adapter.domain.provisions import Classification, validate_provision
from adapter.errors import ValidationError
from adapter.inbound import types_provisions as tp
from adapter.inbound.mapping import utc

_NAME_THE_LAWSUIT = "give lawsuitId, or lawsuitSourceSystem and lawsuitExternalId"


def lawsuit_ref(
    lawsuit_id: str | None, source_system: str | None, external_id: str | None
) -> LawsuitRef:
    """The lawsuit a call names: by id, or by its ERP key, but not both."""
    by_key = not (is_absent(source_system) and is_absent(external_id))
    if not is_absent(lawsuit_id):
        if by_key:
            raise ValidationError("lawsuitId", f"{_NAME_THE_LAWSUIT}, not both")
        return LawsuitRef(id=required_text(lawsuit_id, "lawsuitId", 36))
    if not by_key:
        raise ValidationError("lawsuitId", _NAME_THE_LAWSUIT)
    return LawsuitRef(
        key=(
            required_text(source_system, "lawsuitSourceSystem", 40),
            required_text(external_id, "lawsuitExternalId", 80),
        )
    )


def provision_data(item: tp.ProvisionInput) -> ProvisionData:
    source = required_text(item.sourceSystem, "sourceSystem", 40)
    external = required_text(item.externalId, "externalId", 80)
    ref = lawsuit_ref(item.lawsuitId, item.lawsuitSourceSystem, item.lawsuitExternalId)
    # The domain checks the lawsuit as given; the service resolves it to an id.
    given = ref.id or (ref.key[1] if ref.key else None)
    figure = validate_provision(
        given, item.reportingDate, item.classification, item.amount, item.currency
    )
    return ProvisionData(source, external, ref, figure)


def provision_filter(f: tp.ProvisionFilter | None) -> ProvisionFilter:
    if f is None:
        return ProvisionFilter()
    classification = None
    if not is_absent(f.classification):
        classification = parse_choice(
            Classification, f.classification, "filter.classification"
        )
    start = parse_date(f.reportedFrom, "filter.reportedFrom")
    end = parse_date(f.reportedTo, "filter.reportedTo")
    if start is not None and end is not None and end < start:
        raise ValidationError("filter.reportedTo", "must not be before reportedFrom")
    return ProvisionFilter(
        lawsuit_id=None if is_absent(f.lawsuitId) else f.lawsuitId.strip(),
        classification=classification,
        reported_from=start,
        reported_to=end,
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


def provision_out(view: ProvisionView) -> tp.Provision:
    return tp.Provision(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        lawsuitId=view.lawsuit_id,
        reportingDate=view.reporting_date,
        classification=view.classification,
        amount=view.amount,
        currency=view.currency,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        deletedAt=view.deleted_at,
    )


def movements_out(moves: tuple[MovementView, ...]) -> list[tp.ProvisionMovement]:
    return [
        tp.ProvisionMovement(
            kind=m.kind,
            amount=m.amount,
            currency=m.currency,
            debit=m.debit,
            credit=m.credit,
            cause=m.cause,
            recordedAt=m.recorded_at,
        )
        for m in moves
    ]


def change_out(
    view: ProvisionView, outcome: str, moves: tuple[MovementView, ...]
) -> tp.ProvisionChangeResult:
    return tp.ProvisionChangeResult(
        provision=provision_out(view),
        outcome=outcome,
        movements=movements_out(moves) or None,
    )


def history_out(lawsuit_id: str, entries: list[HistoryEntry]) -> tp.ProvisionHistory:
    return tp.ProvisionHistory(
        lawsuitId=lawsuit_id,
        entries=[
            tp.ProvisionHistoryEntry(
                provisionId=e.provision.id,
                externalId=e.provision.external_id,
                reportingDate=e.provision.reporting_date,
                classification=e.provision.classification,
                amount=e.provision.amount,
                currency=e.provision.currency,
                deletedAt=e.provision.deleted_at,
                movements=movements_out(e.movements) or None,
            )
            for e in entries
        ]
        or None,
    )
