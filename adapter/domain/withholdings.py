"""Taxes withheld from a payment order, and the net amount they leave.

``net = gross − Σ withholdings``, in ``Decimal`` with 2 places, never floats
(legal-domain notes §2.4). Labour-award IRRF and INSS are also reported to
eSocial (S-2500/S-2501); that report is not built here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from adapter.domain.lawsuits import optional_text, parse_choice
from adapter.domain.payments import validate_amount
from adapter.errors import ValidationError


class WithholdingKind(enum.StrEnum):
    IRRF = "irrf"  # imposto de renda retido na fonte
    INSS = "inss"  # contribuição previdenciária
    ISS = "iss"  # imposto sobre serviços
    PIS = "pis"
    COFINS = "cofins"
    CSLL = "csll"
    OTHER = "other"  # needs a description


@dataclass(frozen=True)
class Withholding:
    kind: WithholdingKind
    amount: Decimal
    description: str | None = None


def validate_withholding(
    kind: str | None,
    amount: Decimal | str | None,
    description: str | None = None,
    *,
    position: int = 1,
) -> Withholding:
    """Check one withholding; fields are named ``withholdings[position].x``.

    The amount must be greater than zero; ``other`` needs a description.
    """
    prefix = f"withholdings[{position}]"
    withholding_kind = parse_choice(WithholdingKind, kind, f"{prefix}.kind")
    text = optional_text(description, f"{prefix}.description", 120)
    if withholding_kind is WithholdingKind.OTHER and text is None:
        raise ValidationError(f"{prefix}.description", "is required when kind is other")
    return Withholding(
        kind=withholding_kind,
        amount=validate_amount(amount, f"{prefix}.amount"),
        description=text,
    )


def compute_net(gross: Decimal, withholdings: Sequence[Withholding]) -> Decimal:
    """The net amount of a payment order; it must stay greater than zero.

    Raises ``ValidationError`` on ``grossAmount`` when the gross amount breaks
    the amount rules, and on ``withholdings`` when they swallow it whole.
    """
    if isinstance(gross, float):
        raise ValidationError("grossAmount", "must be a decimal, never a binary float")
    gross_amount = validate_amount(gross, "grossAmount")
    withheld = sum((w.amount for w in withholdings), Decimal("0.00"))
    net = (gross_amount - withheld).quantize(Decimal("0.01"))
    if net <= 0:
        raise ValidationError(
            "withholdings", f"total {withheld} must be less than grossAmount"
        )
    return net
