"""The SOAP service of ``urn:ponte:legal:v1``: every family's operations in one.

spyne makes one ``wsdl:service`` per service class, and some ERP proxy
generators want one service with one port; the operations of each family live
in their own module (``adapter.inbound.operations``) and are gathered here
into the single class spyne publishes.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase

from adapter.inbound.operations import (
    audit,
    contracts,
    employees,
    lawsuits,
    parties,
    payment_orders,
    provisions,
    punches,
)
from adapter.inbound.operations.base import AUDITED, run_operation

__all__ = ["AUDITED", "LegalSoapService", "run_operation"]

FAMILIES = (
    parties,
    lawsuits,
    payment_orders,
    contracts,
    punches,
    provisions,
    employees,
    audit,
)


def _gather() -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for family in FAMILIES:
        for name, operation in family.OPERATIONS.items():
            if name in methods:
                raise RuntimeError(f"operation {name} is defined twice")
            methods[name] = operation
    return methods


LegalSoapService = type(
    "LegalSoapService",
    (ServiceBase,),
    {"__doc__": "Every Ponte operation.", "__module__": __name__, **_gather()},
)
