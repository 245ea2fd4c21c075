"""Provisions for contingencies (CPC 25 / IAS 37) and the movements they cause.

At every reporting date a lawsuit (or claim) is classified again:

- probable: a provision is recognised at the best estimate;
- possible: no provision, only a disclosure in the notes;
- remote: nothing.

``movements`` compares the new classification with the previous one and
returns the ledger movements (legal-domain notes §2.6, table rows 1 to 3):
constitution, increase and reversal as deltas of the provisioned amount, plus
a disclosure record while the loss is possible.

``revision_movements`` covers a changed figure for the same reporting date and
``withdrawal_movements`` the deletion of the latest reporting date: each moves
the ledger by the difference only, so the movements of a lawsuit always add up
to its current provisioned amount.

Not told apart yet: a rise caused by monetary update (row 4, debit financial
expense) comes out as an ordinary increase; the caller would need the update
part separately.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from adapter.domain.lawsuits import (
    non_negative_amount,
    parse_choice,
    parse_currency,
    required_date,
)
from adapter.domain.parties import required_text
from adapter.errors import ConflictError, ValidationError

ZERO = Decimal("0.00")


class Classification(enum.StrEnum):
    PROBABLE = "probable"  # provável: provision
    POSSIBLE = "possible"  # possível: disclosure only
    REMOTE = "remote"  # remoto: nothing


class MovementKind(enum.StrEnum):
    CONSTITUTION = "constitution"  # first recognition
    INCREASE = "increase"
    REVERSAL = "reversal"  # decrease, or reclassified to possible or remote
    DISCLOSURE = "disclosure"  # note disclosure, no ledger entry


class AccountRole(enum.StrEnum):
    """Which account a movement hits; the chart of accounts maps each role."""

    PROVISION_EXPENSE = "provision_expense"  # despesa com provisão (P&L)
    PROVISION = "provision"  # provisão para contingências (liability)
    PROVISION_REVERSAL = "provision_reversal"  # reversão de provisão (P&L)


def _provisioned(classification: Classification, amount: Decimal) -> Decimal:
    return amount if classification is Classification.PROBABLE else ZERO


@dataclass(frozen=True)
class ProvisionInput:
    """A classification for one reporting date, checked by ``validate_provision``."""

    lawsuit_id: str
    reporting_date: dt.date
    classification: Classification
    amount: Decimal  # best estimate; for possible, the amount disclosed
    currency: str

    @property
    def provisioned(self) -> Decimal:
        """The amount carried as a liability: only probable losses have one."""
        return _provisioned(self.classification, self.amount)


@dataclass(frozen=True)
class ProvisionSnapshot:
    """The previous reporting date's classification, as stored."""

    reporting_date: dt.date
    classification: Classification
    amount: Decimal

    @property
    def provisioned(self) -> Decimal:
        return _provisioned(self.classification, self.amount)


@dataclass(frozen=True)
class Movement:
    kind: MovementKind
    amount: Decimal
    debit: AccountRole | None  # None for a disclosure
    credit: AccountRole | None


def validate_provision(
    lawsuit_id: str | None,
    reporting_date: dt.date | str | None,
    classification: str | None,
    amount: Decimal | str | int | None,
    currency: str | None = None,
) -> ProvisionInput:
    """Check a provision; raise ``ValidationError`` at the first rule broken.

    ``amount`` may be zero, never negative; an absent currency means BRL. The
    reporting date may not be in the future: a provision dated ahead would
    become the lawsuit's latest and block every real one after it.
    """
    reported = required_date(reporting_date, "reportingDate")
    if reported > dt.date.today():
        raise ValidationError("reportingDate", "must not be after today")
    return ProvisionInput(
        lawsuit_id=required_text(lawsuit_id, "lawsuitId", 80),
        reporting_date=reported,
        classification=parse_choice(Classification, classification, "classification"),
        amount=non_negative_amount(amount, "amount"),
        currency=parse_currency(currency),
    )


def snapshot_of(provision: ProvisionInput) -> ProvisionSnapshot:
    """What to store so the next reporting date can be compared with this one."""
    return ProvisionSnapshot(
        reporting_date=provision.reporting_date,
        classification=provision.classification,
        amount=provision.amount,
    )


def _ledger(previous: Decimal, new: Decimal) -> list[Movement]:
    delta = new - previous
    if delta > 0:
        kind = MovementKind.CONSTITUTION if previous == 0 else MovementKind.INCREASE
        return [
            Movement(kind, delta, AccountRole.PROVISION_EXPENSE, AccountRole.PROVISION)
        ]
    if delta < 0:
        return [
            Movement(
                MovementKind.REVERSAL,
                -delta,
                AccountRole.PROVISION,
                AccountRole.PROVISION_REVERSAL,
            )
        ]
    return []


def _disclosed(classification: Classification, amount: Decimal) -> list[Movement]:
    if classification is Classification.POSSIBLE:
        return [Movement(MovementKind.DISCLOSURE, amount, None, None)]
    return []


def movements(
    previous: ProvisionSnapshot | None, new: ProvisionInput
) -> list[Movement]:
    """The movements from the previous reporting date's provision to ``new``.

    Raises ``ConflictError`` when ``new`` is not later than ``previous``.
    """
    if previous is not None and new.reporting_date <= previous.reporting_date:
        raise ConflictError(
            f"a provision for {new.reporting_date.isoformat()} cannot follow "
            f"the one for {previous.reporting_date.isoformat()}"
        )
    before = ZERO if previous is None else previous.provisioned
    result = _ledger(before, new.provisioned)
    return result + _disclosed(new.classification, new.amount)


def revision_movements(
    stored: ProvisionSnapshot, new: ProvisionInput
) -> list[Movement]:
    """The movements of a new figure for a reporting date already stored.

    Only the difference is booked: the stored figure's movements were already
    made. Raises ``ConflictError`` when the reporting dates differ.
    """
    if new.reporting_date != stored.reporting_date:
        raise ConflictError(
            f"a revision for {new.reporting_date.isoformat()} cannot replace "
            f"the provision for {stored.reporting_date.isoformat()}"
        )
    result = _ledger(stored.provisioned, new.provisioned)
    return result + _disclosed(new.classification, new.amount)


def withdrawal_movements(
    withdrawn: ProvisionSnapshot, restored: ProvisionSnapshot | None
) -> list[Movement]:
    """The movements that undo ``withdrawn``, back to the provision it followed.

    ``restored`` is the previous reporting date's provision (None when there
    was none); while it is possible, its disclosure applies again.
    """
    if restored is not None and restored.reporting_date >= withdrawn.reporting_date:
        raise ConflictError(
            f"the provision for {withdrawn.reporting_date.isoformat()} does not "
            f"follow the one for {restored.reporting_date.isoformat()}"
        )
    if restored is None:
        return _ledger(withdrawn.provisioned, ZERO)
    result = _ledger(withdrawn.provisioned, restored.provisioned)
    return result + _disclosed(restored.classification, restored.amount)
