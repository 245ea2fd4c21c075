"""The published types of the provision family (``urn:ponte:legal:v1``)."""

# spyne declares fields as a class-level list.

from __future__ import annotations

from spyne import Array, Boolean, Date, DateTime, Unicode

from adapter.inbound.types import Money, Text40, Text80, _Base

Id36 = Unicode(max_len=36)
Word20 = Unicode(max_len=20)


class ProvisionInput(_Base):
    """A lawsuit's provision at one reporting date, keyed by sourceSystem + externalId.

    The lawsuit is named by ``lawsuitId``, or by ``lawsuitSourceSystem`` and
    ``lawsuitExternalId``, never both. ``classification`` is probable,
    possible or remote; an absent ``currency`` means BRL.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("lawsuitId", Id36),
        ("lawsuitSourceSystem", Text40),
        ("lawsuitExternalId", Text80),
        ("reportingDate", Date.customize(min_occurs=1)),
        ("classification", Word20.customize(min_occurs=1)),
        ("amount", Money.customize(min_occurs=1)),
        ("currency", Unicode(max_len=3)),
    ]


class Provision(_Base):
    _type_info = [
        ("id", Id36),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("lawsuitId", Id36),
        ("reportingDate", Date),
        ("classification", Word20),
        ("amount", Money),
        ("currency", Unicode(max_len=3)),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("deletedAt", DateTime),
    ]


class ProvisionMovement(_Base):
    """A ledger movement a change implied; a disclosure has no debit or credit.

    ``kind`` is constitution, increase, reversal or disclosure; ``cause`` is
    reporting (a new reporting date), revision (a new figure for the same date)
    or withdrawal (the provision was deleted).
    """

    _type_info = [
        ("kind", Word20),
        ("amount", Money),
        ("currency", Unicode(max_len=3)),
        ("debit", Unicode(max_len=30)),
        ("credit", Unicode(max_len=30)),
        ("cause", Word20),
        ("recordedAt", DateTime),
    ]


_MOVEMENTS = Array(ProvisionMovement.customize(nillable=False), member_name="movement")


class ProvisionChangeResult(_Base):
    """The provision after an upsert or a delete, and the movements it implied."""

    _type_info = [
        ("provision", Provision),
        ("outcome", Word20),
        ("movements", _MOVEMENTS),
    ]


class ProvisionFilter(_Base):
    _type_info = [
        ("lawsuitId", Id36),
        ("classification", Word20),
        ("reportedFrom", Date),
        ("reportedTo", Date),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class ProvisionPage(_Base):
    _type_info = [
        ("items", Array(Provision.customize(nillable=False), member_name="provision")),
        ("nextCursor", Unicode(max_len=200)),
    ]


class ProvisionHistoryEntry(_Base):
    """One reporting date of a lawsuit and every movement its changes implied."""

    _type_info = [
        ("provisionId", Id36),
        ("externalId", Text80),
        ("reportingDate", Date),
        ("classification", Word20),
        ("amount", Money),
        ("currency", Unicode(max_len=3)),
        ("deletedAt", DateTime),
        ("movements", _MOVEMENTS),
    ]


class ProvisionHistory(_Base):
    _type_info = [
        ("lawsuitId", Id36),
        (
            "entries",
            Array(ProvisionHistoryEntry.customize(nillable=False), member_name="entry"),
        ),
    ]
