"""The published types of the employee family (``urn:ponte:legal:v1``)."""

# spyne declares fields as a class-level list.

from __future__ import annotations

from spyne import Array, Boolean, Date, DateTime, Unicode

from adapter.inbound.types import Text40, Text80, Text200, _Base

TaxId = Unicode(max_len=20)


class EmployeeInput(_Base):
    """An employee as the HR system sends it; upsert key sourceSystem + externalId.

    ``terminationReason`` (eSocial ``mtvDeslig`` code or text) is required with,
    and only with, a ``terminationDate``.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("cpf", TaxId.customize(min_occurs=1)),
        ("registrationNumber", Unicode(max_len=30).customize(min_occurs=1)),
        ("employerTaxId", TaxId.customize(min_occurs=1)),
        ("name", Text200.customize(min_occurs=1)),
        ("admissionDate", Date.customize(min_occurs=1)),
        ("terminationDate", Date),
        ("terminationReason", Text200),
    ]


class Employee(_Base):
    _type_info = [
        ("id", Unicode(max_len=36)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("cpf", Unicode(max_len=11)),
        ("registrationNumber", Unicode(max_len=30)),
        ("employerTaxId", Unicode(max_len=14)),
        ("name", Text200),
        ("admissionDate", Date),
        ("terminationDate", Date),
        ("terminationReason", Text200),
        ("createdAt", DateTime),
        ("updatedAt", DateTime),
        ("deletedAt", DateTime),
    ]


class UpsertEmployeeResult(_Base):
    _type_info = [
        ("employee", Employee),
        ("outcome", Unicode(max_len=20)),
    ]


class EmployeeFilter(_Base):
    """``activeOnly`` keeps employees without a terminationDate."""

    _type_info = [
        ("employerTaxId", TaxId),
        ("cpf", TaxId),
        ("activeOnly", Boolean),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class EmployeePage(_Base):
    _type_info = [
        ("items", Array(Employee.customize(nillable=False), member_name="employee")),
        ("nextCursor", Unicode(max_len=200)),
    ]
