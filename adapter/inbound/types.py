"""The published types of ``urn:ponte:legal:v1``.

Elements, not attributes; optional fields are ``minOccurs="0"``; rules that
need a readable fault (check digits, positive amounts) are checked by the
domain, not by the schema.
"""

from __future__ import annotations

from typing import Any

from spyne import (
    Array,
    Boolean,
    ComplexModel,
    Date,
    DateTime,
    Decimal,
    Integer,
    Unicode,
)

from adapter.inbound.fastxml import quick_init

TNS = "urn:ponte:legal:v1"

Text40 = Unicode(max_len=40)
Text80 = Unicode(max_len=80)
Text200 = Unicode(max_len=200)
Money = Decimal(total_digits=17)


class _Base(ComplexModel):
    __namespace__ = TNS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or not quick_init(self, kwargs):
            super().__init__(*args, **kwargs)


class BankAccount(_Base):
    """A bank account; ``agency`` and ``account`` carry their check digit after '-'."""

    _type_info = [
        ("bankCode", Unicode(max_len=3).customize(min_occurs=1)),
        ("agency", Unicode(max_len=7).customize(min_occurs=1)),
        ("account", Unicode(max_len=22).customize(min_occurs=1)),
        ("accountType", Unicode(max_len=20).customize(min_occurs=1)),
        ("holderTaxId", Unicode(max_len=20).customize(min_occurs=1)),
    ]


class PartyInput(_Base):
    """A party as the ERP sends it; upsert is keyed by sourceSystem + externalId.

    ``bankAccounts``, when sent, replaces the party's whole list.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("kind", Unicode(max_len=20).customize(min_occurs=1)),
        ("taxId", Unicode(max_len=20)),
        ("name", Text200.customize(min_occurs=1)),
        (
            "bankAccounts",
            Array(BankAccount.customize(nillable=False), member_name="bankAccount"),
        ),
    ]


class Party(_Base):
    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("kind", Unicode(max_len=20)),
        ("taxId", Unicode(max_len=20)),
        ("name", Text200),
        (
            "bankAccounts",
            Array(BankAccount.customize(nillable=False), member_name="bankAccount"),
        ),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("deletedAt", DateTime),
    ]


class UpsertPartyResult(_Base):
    _type_info = [
        ("party", Party),
        ("outcome", Unicode(max_len=20)),
    ]


class Withholding(_Base):
    """A tax withheld from a payment order; ``other`` needs a description."""

    _type_info = [
        ("kind", Unicode(max_len=10).customize(min_occurs=1)),
        ("amount", Money.customize(min_occurs=1)),
        ("description", Unicode(max_len=120)),
    ]


class DepositGuide(_Base):
    """A judicial deposit guide (BB or CEF); ``cnjNumber`` is the order's lawsuit."""

    _type_info = [
        ("bank", Unicode(max_len=3).customize(min_occurs=1)),
        ("guideNumber", Text40.customize(min_occurs=1)),
        ("judicialAccount", Text40.customize(min_occurs=1)),
        ("cnjNumber", Unicode(max_len=30)),
        ("courtUnit", Unicode(max_len=120)),
    ]


class PaymentOrderInput(_Base):
    """A new payment order.

    ``amount`` is what is paid. With ``grossAmount`` it must equal grossAmount
    minus the ``withholdings``. ``paymentMethod`` (boleto, pix, transfer,
    judicial_deposit) comes with its own fields only: ``barcode`` and/or
    ``digitableLine``; ``pixKeyType`` and ``pixKey``; ``bankAccount``;
    ``depositGuide``.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("lawsuitNumber", Unicode(max_len=30).customize(min_occurs=1)),
        ("type", Unicode(max_len=30).customize(min_occurs=1)),
        ("beneficiaryTaxId", Unicode(max_len=20).customize(min_occurs=1)),
        ("amount", Money.customize(min_occurs=1)),
        ("dueDate", Date.customize(min_occurs=1)),
        ("costCenter", Unicode(max_len=25).customize(min_occurs=1)),
        ("description", Unicode(max_len=250).customize(min_occurs=1)),
        ("grossAmount", Money),
        (
            "withholdings",
            Array(Withholding.customize(nillable=False), member_name="withholding"),
        ),
        ("paymentMethod", Unicode(max_len=20)),
        ("barcode", Unicode(max_len=80)),
        ("digitableLine", Unicode(max_len=80)),
        ("pixKeyType", Unicode(max_len=10)),
        ("pixKey", Unicode(max_len=100)),
        ("bankAccount", BankAccount),
        ("depositGuide", DepositGuide),
    ]


class PaymentOrder(_Base):
    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("lawsuitNumber", Unicode(max_len=25)),
        ("type", Unicode(max_len=30)),
        ("beneficiaryId", Unicode(max_len=36)),
        ("beneficiaryTaxId", Unicode(max_len=20)),
        ("amount", Money),
        ("currency", Unicode(max_len=3)),
        ("dueDate", Date),
        ("costCenter", Unicode(max_len=25)),
        ("description", Unicode(max_len=250)),
        ("status", Unicode(max_len=20)),
        ("erpDocument", Unicode(max_len=100)),
        ("approvedBy", Text80),
        ("approvedAt", DateTime),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("grossAmount", Money),
        (
            "withholdings",
            Array(Withholding.customize(nillable=False), member_name="withholding"),
        ),
        ("paymentMethod", Unicode(max_len=20)),
        ("barcode", Unicode(max_len=44)),
        ("digitableLine", Unicode(max_len=47)),
        ("pixKeyType", Unicode(max_len=10)),
        ("pixKey", Unicode(max_len=100)),
        ("bankAccount", BankAccount),
        ("depositGuide", DepositGuide),
        ("paymentDate", Date),
        ("receipt", Text200),
        ("statusReason", Unicode(max_len=250)),
        ("deletedAt", DateTime),
    ]


class CreatePaymentOrderResult(_Base):
    _type_info = [
        ("paymentOrder", PaymentOrder),
        ("outcome", Unicode(max_len=20)),
    ]


class ItemResult(_Base):
    """One item of a bulk call: accepted with its id, or refused with a fault."""

    _type_info = [
        ("index", Integer),
        ("externalId", Text80),
        ("outcome", Unicode(max_len=20)),
        ("id", Unicode(max_len=36)),
        ("faultCode", Unicode(max_len=60)),
        ("message", Unicode(max_len=500)),
    ]


class BulkResult(_Base):
    _type_info = [
        ("accepted", Integer),
        ("refused", Integer),
        ("items", Array(ItemResult.customize(nillable=False), member_name="item")),
    ]


class PartyFilter(_Base):
    _type_info = [
        ("kind", Unicode(max_len=20)),
        ("taxId", Unicode(max_len=20)),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class PartyPage(_Base):
    _type_info = [
        ("items", Array(Party.customize(nillable=False), member_name="party")),
        ("nextCursor", Unicode(max_len=200)),
    ]


class LawsuitInput(_Base):
    """A lawsuit (processo); ``cnjNumber`` is required when ``kind`` is judicial."""

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("kind", Unicode(max_len=20).customize(min_occurs=1)),
        ("cnjNumber", Unicode(max_len=30)),
        ("area", Unicode(max_len=20).customize(min_occurs=1)),
        ("companyRole", Unicode(max_len=20).customize(min_occurs=1)),
        ("claimValue", Money.customize(min_occurs=1)),
        ("risk", Unicode(max_len=20).customize(min_occurs=1)),
        ("status", Unicode(max_len=20).customize(min_occurs=1)),
        ("filingDate", Date.customize(min_occurs=1)),
        ("closureDate", Date),
        ("closureReason", Unicode(max_len=200)),
    ]


class Lawsuit(_Base):
    """A lawsuit with its CNJ number parsed into segment, court, origin and year."""

    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("kind", Unicode(max_len=20)),
        ("cnjNumber", Unicode(max_len=25)),
        ("segment", Integer),
        ("court", Unicode(max_len=2)),
        ("origin", Unicode(max_len=4)),
        ("year", Integer),
        ("area", Unicode(max_len=20)),
        ("companyRole", Unicode(max_len=20)),
        ("claimValue", Money),
        ("risk", Unicode(max_len=20)),
        ("status", Unicode(max_len=20)),
        ("filingDate", Date),
        ("closureDate", Date),
        ("closureReason", Unicode(max_len=200)),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("deletedAt", DateTime),
    ]


class UpsertLawsuitResult(_Base):
    _type_info = [
        ("lawsuit", Lawsuit),
        ("outcome", Unicode(max_len=20)),
    ]


class LawsuitFilter(_Base):
    _type_info = [
        ("status", Unicode(max_len=20)),
        ("area", Unicode(max_len=20)),
        ("companyRole", Unicode(max_len=20)),
        ("cnjNumber", Unicode(max_len=30)),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class LawsuitPage(_Base):
    _type_info = [
        ("items", Array(Lawsuit.customize(nillable=False), member_name="lawsuit")),
        ("nextCursor", Unicode(max_len=200)),
    ]
