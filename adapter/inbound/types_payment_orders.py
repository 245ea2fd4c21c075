"""Published types of the payment-order queries.

The types nested in ``PaymentOrderInput`` and ``PaymentOrder`` (``Withholding``,
``DepositGuide``) live beside them in ``adapter.inbound.types``.
"""

from __future__ import annotations

from spyne import Array, Boolean, DateTime, Unicode

from adapter.inbound.types import PaymentOrder, _Base


class PaymentOrderFilter(_Base):
    """Every given field must match; ``modifiedSince`` is for incremental sync.

    Deleted orders are left out unless ``includeDeleted`` is true.
    """

    _type_info = [
        ("status", Unicode(max_len=20)),
        ("lawsuitNumber", Unicode(max_len=30)),
        ("beneficiaryTaxId", Unicode(max_len=20)),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class PaymentOrderPage(_Base):
    _type_info = [
        (
            "items",
            Array(PaymentOrder.customize(nillable=False), member_name="paymentOrder"),
        ),
        ("nextCursor", Unicode(max_len=200)),
    ]
