"""The published types of ``urn:ponte:legal:v1``.

Elements, not attributes; optional fields are ``minOccurs="0"``; rules that
need a readable fault (check digits, positive amounts) are checked by the
domain, not by the schema.
"""

from __future__ import annotations

from spyne import ComplexModel, Date, DateTime, Decimal, Unicode

TNS = "urn:ponte:legal:v1"

Text40 = Unicode(max_len=40)
Text80 = Unicode(max_len=80)
Text200 = Unicode(max_len=200)
Money = Decimal(total_digits=17)


class _Base(ComplexModel):
    __namespace__ = TNS


class PartyInput(_Base):
    """A party as the ERP sends it; upsert is keyed by sourceSystem + externalId."""

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("kind", Unicode(max_len=20).customize(min_occurs=1)),
        ("taxId", Unicode(max_len=20)),
        ("name", Text200.customize(min_occurs=1)),
    ]


class Party(_Base):
    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("kind", Unicode(max_len=20)),
        ("taxId", Unicode(max_len=20)),
        ("name", Text200),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
    ]


class UpsertPartyResult(_Base):
    _type_info = [
        ("party", Party),
        ("outcome", Unicode(max_len=20)),
    ]


class PaymentOrderInput(_Base):
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
    ]


class CreatePaymentOrderResult(_Base):
    _type_info = [
        ("paymentOrder", PaymentOrder),
        ("outcome", Unicode(max_len=20)),
    ]
