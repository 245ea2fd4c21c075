"""Parties: clients, suppliers and people involved in a case."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from adapter.domain.identifiers import normalize_cnpj, normalize_cpf
from adapter.errors import ValidationError


class PartyKind(enum.StrEnum):
    INDIVIDUAL = "individual"  # pessoa física, CPF
    COMPANY = "company"  # pessoa jurídica, CNPJ
    FOREIGN = "foreign"  # no Brazilian document


@dataclass(frozen=True)
class PartyInput:
    """What an ERP sends for a party, checked by ``validate_party``."""

    source_system: str
    external_id: str
    kind: PartyKind
    name: str
    tax_id: str | None


def required_text(value: str | None, field: str, max_length: int) -> str:
    """Strip ``value``; refuse it when empty or longer than ``max_length``."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > max_length:
        raise ValidationError(field, f"is longer than {max_length} characters")
    return text


def parse_kind(value: str | None) -> PartyKind:
    try:
        return PartyKind((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in PartyKind)
        raise ValidationError("kind", f"must be one of {allowed}") from None


def normalize_tax_id(kind: PartyKind, tax_id: str | None) -> str | None:
    """CPF for individuals, CNPJ for companies, optional for foreigners."""
    text = (tax_id or "").strip()
    if kind is PartyKind.INDIVIDUAL:
        return normalize_cpf(required_text(text, "taxId", 20))
    if kind is PartyKind.COMPANY:
        return normalize_cnpj(required_text(text, "taxId", 20))
    return text or None


def normalize_any_tax_id(value: str, field: str) -> str:
    """A CPF or a CNPJ, told apart by length once the mask is removed."""
    compact = "".join(c for c in value if c.isalnum())
    if len(compact) == 11:
        return normalize_cpf(compact, field)
    if len(compact) == 14:
        return normalize_cnpj(compact, field)
    raise ValidationError(field, "must be a CPF (11 digits) or a CNPJ (14 characters)")


def validate_party(
    source_system: str | None,
    external_id: str | None,
    kind: str | None,
    name: str | None,
    tax_id: str | None,
) -> PartyInput:
    """Check every field of a party; raise on the first rule broken."""
    party_kind = parse_kind(kind)
    return PartyInput(
        source_system=required_text(source_system, "sourceSystem", 40),
        external_id=required_text(external_id, "externalId", 80),
        kind=party_kind,
        name=required_text(name, "name", 200),
        tax_id=normalize_tax_id(party_kind, tax_id),
    )
