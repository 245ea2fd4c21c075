"""The published types of the contract family (``urn:ponte:legal:v1``)."""

# spyne declares fields as a class-level list.

from __future__ import annotations

from spyne import Array, Boolean, Date, DateTime, Integer, Unicode

from adapter.inbound.types import Money, Text40, Text80, _Base

Text1000 = Unicode(max_len=1000)


class ContractParty(_Base):
    """A party of a contract: company, counterparty or guarantor, by CPF or CNPJ."""

    _type_info = [
        ("role", Unicode(max_len=20).customize(min_occurs=1)),
        ("taxId", Unicode(max_len=20).customize(min_occurs=1)),
    ]


_PARTIES = Array(ContractParty.customize(nillable=False), member_name="party")


class ContractInput(_Base):
    """A contract as the ERP sends it; upsert is keyed by sourceSystem + externalId.

    ``value`` and ``endDate`` of a stored contract change only by AmendContract.
    ``parties`` replaces the contract's whole list of parties.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("number", Text40.customize(min_occurs=1)),
        ("type", Text40.customize(min_occurs=1)),
        ("object", Text1000.customize(min_occurs=1)),
        ("parties", _PARTIES.customize(min_occurs=1)),
        ("value", Money.customize(min_occurs=1)),
        ("currency", Unicode(max_len=3)),
        ("startDate", Date.customize(min_occurs=1)),
        ("endDate", Date),
        ("autoRenewal", Boolean),
        ("renewalMonths", Integer),
        ("noticeDays", Integer),
        ("status", Unicode(max_len=20).customize(min_occurs=1)),
    ]


class ContractAmendment(_Base):
    """An amendment; only the old/new pair of the term it changed is present."""

    _type_info = [
        ("number", Integer),
        ("type", Unicode(max_len=20)),
        ("effectiveDate", Date),
        ("signedAt", Date),
        ("oldValue", Money),
        ("newValue", Money),
        ("oldEndDate", Date),
        ("newEndDate", Date),
        ("oldObject", Text1000),
        ("newObject", Text1000),
        ("createdAt", DateTime),
    ]


class Contract(_Base):
    """A contract with its current terms (``version``) and every amendment."""

    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("number", Text40),
        ("type", Text40),
        ("object", Text1000),
        ("parties", _PARTIES),
        ("value", Money),
        ("currency", Unicode(max_len=3)),
        ("startDate", Date),
        ("endDate", Date),
        ("autoRenewal", Boolean),
        ("renewalMonths", Integer),
        ("noticeDays", Integer),
        ("noticeDeadline", Date),
        ("status", Unicode(max_len=20)),
        ("version", Integer),
        (
            "amendments",
            Array(ContractAmendment.customize(nillable=False), member_name="amendment"),
        ),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("deletedAt", DateTime),
    ]


class UpsertContractResult(_Base):
    _type_info = [
        ("contract", Contract),
        ("outcome", Unicode(max_len=20)),
    ]


class ContractAmendmentInput(_Base):
    """An amendment (aditivo): ``number`` is one after the contract's version.

    ``newEndDate`` goes with term and renewal, ``newValue`` with value and
    ``newObject`` with scope amendments.
    """

    _type_info = [
        ("number", Integer.customize(min_occurs=1)),
        ("type", Unicode(max_len=20).customize(min_occurs=1)),
        ("effectiveDate", Date.customize(min_occurs=1)),
        ("newEndDate", Date),
        ("newValue", Money),
        ("newObject", Text1000),
        ("signedAt", Date),
    ]


class AmendContractResult(_Base):
    """The contract in its new version; ``outcome`` is amended or unchanged."""

    _type_info = [
        ("contract", Contract),
        ("outcome", Unicode(max_len=20)),
    ]


class ContractFilter(_Base):
    _type_info = [
        ("status", Unicode(max_len=20)),
        ("counterpartyTaxId", Unicode(max_len=20)),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class ContractPage(_Base):
    _type_info = [
        ("items", Array(Contract.customize(nillable=False), member_name="contract")),
        ("nextCursor", Unicode(max_len=200)),
    ]
