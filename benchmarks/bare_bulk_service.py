"""A bare spyne service: the baseline for ``bulk_upsert.py`` and ``query_paging.py``.

Two operations, with the same published shapes as Ponte's:

* ``UpsertParties``: an array of up to 10,000 ``PartyInput`` (same fields and
  constraints as ``adapter.inbound.types.PartyInput``, bank accounts
  included), parsed, schema-validated and deserialised by spyne; it returns
  only the number of items. No authentication, no domain validation, no
  database, no per-item result.
* ``QueryLawsuits``: ``filter``, ``pageSize`` (1..1000) and ``cursor``, like
  Ponte's; it returns a ``LawsuitPage`` of ``pageSize`` ``Lawsuit`` records
  (the same 20 fields) built in memory from fixed values, and a ``nextCursor``
  (the next offset) until ``BARE_TOTAL_RECORDS`` records (default 100,000)
  have been handed out. No database, no audit: what is left is spyne building
  and serialising 1000 ComplexModel instances, and gunicorn.

Served the way ``ponte serve`` serves (sync workers, control socket disabled,
no access log), with the same ``Soap11(validator="lxml")`` in-protocol.

Run it on its own::

    .venv/bin/python benchmarks/bare_bulk_service.py --port 8098 --workers 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import logging
import os
from typing import Any

import spyne.const
from gunicorn.app.base import BaseApplication
from spyne import (
    Application,
    Array,
    Boolean,
    ComplexModel,
    Date,
    DateTime,
    Decimal,
    Integer,
    ServiceBase,
    Unicode,
    rpc,
)
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

TNS = "urn:ponte:bench:bare:v1"
TOTAL_RECORDS = int(os.environ.get("BARE_TOTAL_RECORDS", "100000"))

Text40 = Unicode(max_len=40)
Text80 = Unicode(max_len=80)
Text200 = Unicode(max_len=200)
Money = Decimal(total_digits=17)


class _Base(ComplexModel):
    __namespace__ = TNS


class BankAccount(_Base):
    _type_info = [  # noqa: RUF012 (read once by spyne's metaclass)
        ("bankCode", Unicode(max_len=3).customize(min_occurs=1)),
        ("agency", Unicode(max_len=7).customize(min_occurs=1)),
        ("account", Unicode(max_len=22).customize(min_occurs=1)),
        ("accountType", Unicode(max_len=20).customize(min_occurs=1)),
        ("holderTaxId", Unicode(max_len=20).customize(min_occurs=1)),
    ]


class PartyInput(_Base):
    """Same shape as ``adapter.inbound.types.PartyInput``."""

    _type_info = [  # noqa: RUF012
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


class Lawsuit(_Base):
    """Same shape as ``adapter.inbound.types.Lawsuit``."""

    _type_info = [  # noqa: RUF012
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


class LawsuitFilter(_Base):
    _type_info = [  # noqa: RUF012
        ("status", Unicode(max_len=20)),
        ("area", Unicode(max_len=20)),
        ("companyRole", Unicode(max_len=20)),
        ("cnjNumber", Unicode(max_len=30)),
        ("modifiedSince", DateTime),
        ("includeDeleted", Boolean),
    ]


class LawsuitPage(_Base):
    _type_info = [  # noqa: RUF012
        ("items", Array(Lawsuit.customize(nillable=False), member_name="lawsuit")),
        ("nextCursor", Unicode(max_len=200)),
    ]


_EPOCH = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
_AREAS = ("labor", "civil", "consumer", "tax")
_ROLES = ("defendant", "plaintiff")
_RISKS = ("probable", "possible", "remote")


def lawsuit_record(n: int) -> Lawsuit:
    """Record number ``n``: values of the sizes Ponte returns, cheap to compute."""
    stamp = _EPOCH + dt.timedelta(microseconds=37 * n)
    year = 2015 + n % 10
    return Lawsuit(
        id=f"{n:08x}-0000-4000-8000-{n:012x}",
        sourceSystem="SAP",
        externalId=f"LAW-{n:07d}",
        kind="judicial",
        cnjNumber=f"{n % 10_000_000:07d}00{year}5{1 + n % 24:02d}{n % 10_000:04d}",
        segment=5,
        court=f"{1 + n % 24:02d}",
        origin=f"{n % 10_000:04d}",
        year=year,
        area=_AREAS[n % len(_AREAS)],
        companyRole=_ROLES[n % len(_ROLES)],
        claimValue=decimal.Decimal(f"{1000 + n % 900_000}.{n % 100:02d}"),
        risk=_RISKS[n % len(_RISKS)],
        status="active",
        filingDate=dt.date(year, 1 + n % 12, 1 + n % 28),
        closureDate=None,
        closureReason=None,
        createdAt=stamp,
        updatedAt=stamp,
        deletedAt=None,
    )


class BareBulkService(ServiceBase):
    @rpc(
        Array(PartyInput.customize(nillable=False), member_name="party").customize(
            min_occurs=1
        ),
        _returns=Integer,
    )
    def UpsertParties(ctx, parties):
        return len(parties or [])

    @rpc(
        LawsuitFilter,
        Integer(ge=1, le=1000),
        Unicode(max_len=200),
        _returns=LawsuitPage,
        _in_arg_names={"where": "filter", "size": "pageSize", "cursor": "cursor"},
    )
    def QueryLawsuits(ctx, where, size, cursor):
        start = int(cursor) if cursor else 0
        end = min(start + (size or 100), TOTAL_RECORDS)
        items = [lawsuit_record(n) for n in range(start, end)]
        following = str(end) if end < TOTAL_RECORDS else None
        return LawsuitPage(items=items, nextCursor=following)


def build_app() -> WsgiApplication:
    application = Application(
        [BareBulkService],
        tns=TNS,
        name="BareBulk",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    # As Ponte does (adapter.inbound.app.quiet_spyne): no forced gc.collect().
    spyne.const.MIN_GC_INTERVAL = float("inf")
    return WsgiApplication(application)


# ``gunicorn benchmarks.bare_bulk_service:app``
app = build_app()


class BareServer(BaseApplication):  # type: ignore[misc]
    """The same gunicorn options as ``adapter.serving.GunicornServer``."""

    def __init__(self, host: str, port: int, workers: int) -> None:
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 60,
            "accesslog": None,
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        known = self.cfg.settings
        for key, value in self.options.items():
            if key in known:
                self.cfg.set(key, value)

    def load(self) -> WsgiApplication:
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    BareServer(args.host, args.port, args.workers).run()


if __name__ == "__main__":
    main()
