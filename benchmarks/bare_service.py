"""A bare spyne service: the baseline for ``inbound_throughput.py``.

One operation, ``CreatePaymentOrder``, takes a ComplexModel with the same
fields and constraints as Ponte's ``PaymentOrderInput`` and returns a string.
No authentication, no database, no audit, no WSGI layer in front: what is
left is spyne (parse, lxml schema validation, deserialise, serialise) and
gunicorn, served the way ``ponte serve`` serves (sync workers, same worker
count, control socket disabled, no access log).

Run it on its own::

    .venv/bin/python benchmarks/bare_service.py --port 8099 --workers 2

or with gunicorn's command line (workers from ``-w``)::

    .venv/bin/gunicorn -w 2 -k sync --no-control-socket benchmarks.bare_service:app
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from spyne import Application, ComplexModel, Date, Decimal, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

TNS = "urn:ponte:bench:bare:v1"


class PaymentOrderInput(ComplexModel):
    """Same shape as ``adapter.inbound.types.PaymentOrderInput``."""

    __namespace__ = TNS
    _type_info = [  # noqa: RUF012 (read once by spyne's metaclass)
        ("sourceSystem", Unicode(max_len=40, min_occurs=1)),
        ("externalId", Unicode(max_len=80, min_occurs=1)),
        ("lawsuitNumber", Unicode(max_len=30, min_occurs=1)),
        ("type", Unicode(max_len=30, min_occurs=1)),
        ("beneficiaryTaxId", Unicode(max_len=20, min_occurs=1)),
        ("amount", Decimal(total_digits=17, min_occurs=1)),
        ("dueDate", Date(min_occurs=1)),
        ("costCenter", Unicode(max_len=25, min_occurs=1)),
        ("description", Unicode(max_len=250, min_occurs=1)),
    ]


class BareService(ServiceBase):
    @rpc(
        PaymentOrderInput.customize(min_occurs=1),
        _returns=Unicode,
        _in_arg_names={"order": "paymentOrder"},
    )
    def CreatePaymentOrder(ctx, order):
        return f"accepted {order.externalId}"


def build_app() -> WsgiApplication:
    application = Application(
        [BareService],
        tns=TNS,
        name="Bare",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    return WsgiApplication(application)


# ``gunicorn benchmarks.bare_service:app``
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
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    BareServer(args.host, args.port, args.workers).run()


if __name__ == "__main__":
    main()
