"""A scriptable fake TOTVS RM wsDataServer on loopback, for integration tests.

::

    with FakeRM(user="ponte", password="s3cret") as fake:
        fake.script("http503", "accept")
        ...  # call SaveRecord on fake.endpoint twice
        assert [r.data_server for r in fake.accepted] == ["GlbUsuarioData"]

Routes (paths are matched case-insensitively, as WCF does):

- ``GET  /wsDataServer/MEX?wsdl``: the real RM WSDL (``wsdl_path``), with the
  sanitized host ``https://rm.example.com:1251`` replaced by the fake's own
  address, as a real host writes its own name into the WSDL it serves.
- ``GET  /wsDataServer/mex?xsd=xsdN``: ``bundle/xsdN.xsd``.
- ``POST /wsDataServer/IwsDataServer``: needs HTTP Basic ``user``/``password``
  (else 401 before anything is read into ``received``, as HTTP.sys does).
  SaveRecord is answered by the next scripted step; when the script is empty
  the step is ``"accept"``. ReadView reads the records SaveRecord created
  (see below). Other operations get a SOAP Client fault.

Steps:

- ``"accept"``: 200, SaveRecordResult ``1;<n>`` with n = 1001, 1002, ...
- ``("delay", seconds)``: sleep, then accept (the record is created even when
  the caller has given up waiting).
- ``"http503"``: 503 with the HTML page HTTP.sys sends.
- ``"drop"``: read the whole request, then close the socket without a reply.
- ``"accept_drop"``: create the record, then close the socket without a reply
  (RM committed; the connection died before the answer reached the caller).
- ``"rm_error"``: 200 whose result is RM's foreign-key error text.
- ``"client_fault"``: 500 with RM's ``s:Client`` permission fault.
- ``"server_fault"``: 500 with a SOAP 1.1 ``s:Server`` fault.

``rm_error`` and ``client_fault`` answer with the real captures in
``shared/realdata/totvs-rm-wsdataserver``, read when the step runs.

ReadView(DataServerName, Filtro, Contexto) answers, as RM does, a DataSet
serialised into the result string (the shape of realdata's
``dataserver-readview.xml``): one row per created record of the filter's
table whose fields equal the filter's, with ``IDLAN`` the number of its key.
The filter understands ``TABLE.FIELD = 'text'`` and ``TABLE.FIELD = 123``
joined by ``AND``. ``script_read("server_fault")`` or ``"http503"`` makes the
next ReadView fail instead; ``reads`` holds every ReadView received.

With ``dedupe=True`` an accepted step whose ``wsa:MessageID`` was accepted
before answers the earlier key again, creates no record and adds one to
``duplicates``, as a receiver that drops duplicate messages would. (zeep
writes a fresh ``wsa:MessageID`` into every call to this WSDL, because its
portType carries ``wsam:Action``; pin it with an egress plugin to retry.)
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import socketserver
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from adapter import xmlutil
from tests.realdata import REALDATA

logger = logging.getLogger(__name__)

TOTVS = "http://www.totvs.com/"
RM_REALDATA = REALDATA / "totvs-rm-wsdataserver"
BUNDLE = Path(__file__).resolve().parents[2] / "mappings" / "totvs-rm" / "contract"
SANITIZED_BASE = b"https://rm.example.com:1251/wsDataServer"
FIRST_KEY = 1001

Step = str | tuple[str, float]
NAMED_STEPS = frozenset(
    {
        "accept",
        "accept_drop",
        "http503",
        "drop",
        "rm_error",
        "client_fault",
        "server_fault",
    }
)
READ_STEPS = frozenset({"answer", "server_fault", "http503"})
_CONDITION = re.compile(r"\s*(\w+)\.(\w+)\s*=\s*('(?:[^']|'')*'|-?\d+)\s*", re.ASCII)

_XML = "text/xml; charset=utf-8"
_HTML = "text/html; charset=us-ascii"
_MEX_PATH = "/wsdataserver/mex"
_ENDPOINT_PATH = "/wsdataserver/iwsdataserver"


@dataclass(frozen=True)
class Received:
    """One authenticated POST as the fake saw it; fields are None when absent."""

    body: bytes
    headers: dict[str, str]
    message_id: str | None
    data_server: str | None
    xml: str | None
    contexto: str | None
    operation: str | None = None
    filtro: str | None = None


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = _XML
    headers: tuple[tuple[str, str], ...] = ()


def _httpapi_page(title: str, text: str) -> bytes:
    # The error page HTTP.sys (Microsoft-HTTPAPI/2.0) writes: HTML, not XML.
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"'
        '"http://www.w3.org/TR/html4/strict.dtd">\r\n'
        f"<HTML><HEAD><TITLE>{title}</TITLE>\r\n"
        '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii">'
        "</HEAD>\r\n"
        f"<BODY><h2>{title}</h2>\r\n<hr><p>{text}</p>\r\n</BODY></HTML>\r\n"
    ).encode("ascii")


def _fault(code: str, text: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        f'<s:Fault><faultcode>{code}</faultcode><faultstring xml:lang="en-US">'
        f"{text}</faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()


def _save_record_response(key: str) -> bytes:
    # Same shape as realdata's dataserver-saverecord.xml.
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<SaveRecordResponse xmlns="http://www.totvs.com/">'
        f"<SaveRecordResult>{key}</SaveRecordResult>"
        "</SaveRecordResponse></s:Body></s:Envelope>"
    ).encode()


_NOT_FOUND = _Reply(404, _httpapi_page("Not Found", "HTTP Error 404."), _HTML)
_BAD_REQUEST = _Reply(400, _httpapi_page("Bad Request", "HTTP Error 400."), _HTML)
_UNAUTHORIZED = _Reply(
    401,
    _httpapi_page("Unauthorized", "HTTP Error 401. Access is denied."),
    _HTML,
    (("WWW-Authenticate", 'Basic realm="rm.example.com"'),),
)
_UNAVAILABLE = _Reply(
    503,
    _httpapi_page("Service Unavailable", "HTTP Error 503. The service is unavailable."),
    _HTML,
)
_SERVER_FAULT = _Reply(
    500,
    _fault(
        "s:Server",
        "The server was unable to process the request due to an internal error.",
    ),
)


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _read_envelope(body: bytes, headers: dict[str, str]) -> tuple[Received, str | None]:
    """Return what a POST carried and its operation (None when unreadable)."""
    try:
        root = xmlutil.parse(body)
    except etree.XMLSyntaxError:
        return Received(body, headers, None, None, None, None), None
    env = xmlutil.SOAP11_ENV
    message_id = root.findtext(f"{{{env}}}Header/{{{xmlutil.WSA}}}MessageID")
    call = root.find(f"{{{env}}}Body/*")
    if call is None:
        return Received(body, headers, message_id, None, None, None), None

    def field(name: str) -> str | None:
        return call.findtext(f"{{{TOTVS}}}{name}")

    operation = etree.QName(call).localname
    received = Received(
        body,
        headers,
        message_id.strip() if message_id is not None else None,
        field("DataServerName"),
        field("XML"),
        field("Contexto"),
        operation,
        field("Filtro"),
    )
    return received, operation


def _read_view_response(rows: list[etree._Element]) -> bytes:
    dataset = etree.Element("NewDataSet")
    dataset.extend(rows)
    text = etree.tostring(dataset, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<ReadViewResponse xmlns="http://www.totvs.com/">'
        f"<ReadViewResult><![CDATA[{text}]]></ReadViewResult>"
        "</ReadViewResponse></s:Body></s:Envelope>"
    ).encode()


def _conditions(filtro: str) -> list[tuple[str, str, str]] | None:
    """``[(table, field, value)]``, or None when the filter is not understood."""
    found = []
    for part in re.split(r"\s+AND\s+", filtro.strip(), flags=re.IGNORECASE):
        match = _CONDITION.fullmatch(part)
        if match is None:
            return None
        table, name, value = match.groups()
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        found.append((table.upper(), name.upper(), value))
    return found


def _check_step(step: Step) -> None:
    if isinstance(step, tuple):
        kind, seconds = step
        if kind != "delay" or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"unknown FakeRM step {step!r}")
    elif step not in NAMED_STEPS:
        raise ValueError(f"unknown FakeRM step {step!r}")


class FakeRM:
    """A fake RM host on 127.0.0.1 with a random port; see the module docstring.

    ``accepted`` holds the requests that created a record (a new key);
    ``received`` holds every authenticated POST, whatever its answer.
    """

    def __init__(
        self,
        *,
        wsdl_path: Path | None = None,
        bundle: Path | None = None,
        user: str = "ponte",
        password: str = "s3cret",
        dedupe: bool = False,
        realdata: Path | None = None,
        port: int = 0,
    ) -> None:
        self.port = port
        self.wsdl_path = wsdl_path or RM_REALDATA / "dataserver.wsdl"
        self.bundle = bundle or BUNDLE
        self.realdata = realdata or RM_REALDATA
        self.dedupe = dedupe
        self.duplicates = 0
        self.unauthorized = 0
        self.downloads: list[str] = []
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque()
        self._read_steps: deque[str] = deque()
        self._records: list[tuple[str, etree._Element]] = []
        self._received: list[Received] = []
        self._accepted: list[Received] = []
        self._keys: dict[str, str] = {}
        self._next_key = FIRST_KEY
        self._start()

    def _start(self) -> None:
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}/wsDataServer"
        self.wsdl_url = f"{self.base_url}/MEX?wsdl"
        self.endpoint = f"{self.base_url}/IwsDataServer"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeRM",
            daemon=True,
        )
        self._thread.start()

    def __enter__(self) -> FakeRM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port; calling it twice is harmless."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # What tests read and script

    def script(self, *steps: Step) -> None:
        """Queue steps, one consumed per SaveRecord; unknown steps raise ValueError."""
        for step in steps:
            _check_step(step)
        with self._lock:
            self._steps.extend(steps)

    def script_read(self, *steps: str) -> None:
        """Queue ReadView answers: ``"answer"``, ``"server_fault"``, ``"http503"``."""
        for step in steps:
            if step not in READ_STEPS:
                raise ValueError(f"unknown FakeRM read step {step!r}")
        with self._lock:
            self._read_steps.extend(steps)

    @property
    def reads(self) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.operation == "ReadView"]

    @property
    def saves(self) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.operation == "SaveRecord"]

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list[Received]:
        with self._lock:
            return list(self._accepted)

    @property
    def unique_message_ids(self) -> set[str]:
        with self._lock:
            return {r.message_id for r in self._received if r.message_id is not None}

    # What the HTTP handler calls

    def answer_get(self, path: str) -> _Reply:
        """Serve the WSDL or a bundle schema."""
        with self._lock:
            self.downloads.append(path)
        parts = urlsplit(path)
        if parts.path.lower() != _MEX_PATH:
            return _NOT_FOUND
        query = {
            k.lower(): v.lower()
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        }
        if "wsdl" in query:
            wsdl = self.wsdl_path.read_bytes()
            return _Reply(200, wsdl.replace(SANITIZED_BASE, self.base_url.encode()))
        schema = self.bundle / f"{query.get('xsd', '')}.xsd"
        if query.get("xsd", "").isalnum() and schema.is_file():
            return _Reply(200, schema.read_bytes())
        return _NOT_FOUND

    def answer_post(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> _Reply | None:
        """Answer a SOAP call; None means close the socket without a reply."""
        if urlsplit(path).path.lower() != _ENDPOINT_PATH:
            return _NOT_FOUND
        if not self._authorized(headers):
            with self._lock:
                self.unauthorized += 1
            return _UNAUTHORIZED

        received, operation = _read_envelope(body, headers)
        with self._lock:
            self._received.append(received)
        if operation is None:
            return _BAD_REQUEST
        if operation == "ReadView":
            return self._read_view(received)
        if operation != "SaveRecord":
            text = f"FakeRM answers SaveRecord only, not {operation}."
            return _Reply(500, _fault("s:Client", text))
        return self._perform(self._next_step(), received)

    def _authorized(self, headers: dict[str, str]) -> bool:
        given = _header(headers, "Authorization") or ""
        return hmac.compare_digest(given.encode(), self._authorization.encode())

    def _next_step(self) -> Step:
        with self._lock:
            return self._steps.popleft() if self._steps else "accept"

    def _perform(self, step: Step, received: Received) -> _Reply | None:
        if isinstance(step, tuple):
            time.sleep(step[1])
            return self._accept(received)
        if step == "accept":
            return self._accept(received)
        if step == "drop":
            return None
        if step == "accept_drop":
            self._accept(received)
            return None
        if step == "http503":
            return _UNAVAILABLE
        if step == "rm_error":
            return _Reply(200, self._capture("dataserver-saverecord-fk-error.xml"))
        if step == "client_fault":
            return _Reply(500, self._capture("soap-fault.xml"))
        return _SERVER_FAULT

    def _accept(self, received: Received) -> _Reply:
        message_id = received.message_id
        with self._lock:
            if self.dedupe and message_id is not None and message_id in self._keys:
                self.duplicates += 1
                key = self._keys[message_id]
            else:
                key = f"1;{self._next_key}"
                self._next_key += 1
                self._accepted.append(received)
                self._remember(received, key)
                if message_id is not None:
                    self._keys.setdefault(message_id, key)
        return _Reply(200, _save_record_response(key))

    def _read_view(self, received: Received) -> _Reply:
        with self._lock:
            step = self._read_steps.popleft() if self._read_steps else "answer"
        if step == "http503":
            return _UNAVAILABLE
        if step == "server_fault":
            return _SERVER_FAULT
        conditions = _conditions(received.filtro or "")
        if conditions is None:
            text = "FakeRM understands TABLE.FIELD = value [AND ...] filters only."
            return _Reply(500, _fault("s:Client", text))
        with self._lock:
            records = list(self._records)
        rows = [row for key, row in records if _matches(row, conditions)]
        return _Reply(200, _read_view_response(rows))

    def _remember(self, received: Received, key: str) -> None:
        """Keep the first table row of the DataSet as RM would store it."""
        try:
            dataset = xmlutil.parse((received.xml or "").encode("utf-8"))
        except etree.XMLSyntaxError:
            return
        row = next((c for c in dataset if isinstance(c.tag, str)), None)
        if row is None:
            return
        stored = etree.Element(etree.QName(row).localname)
        for column in row:
            if isinstance(column.tag, str):
                name = etree.QName(column).localname
                value = key.split(";", 1)[1] if name == "IDLAN" else column.text
                etree.SubElement(stored, name).text = (value or "").strip()
        self._records.append((key, stored))

    def _capture(self, name: str) -> bytes:
        return (self.realdata / name).read_bytes()


def _matches(row: etree._Element, conditions: list[tuple[str, str, str]]) -> bool:
    return all(
        table == row.tag.upper() and (row.findtext(name) or "") == value
        for table, name, value in conditions
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 10  # an idle keep-alive connection frees its thread

    def do_GET(self) -> None:
        self._send(self.server.fake.answer_get(self.path))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = dict(self.headers.items())
        reply = self.server.fake.answer_post(self.path, headers, body)
        if reply is None:
            self.close_connection = True  # "drop": not even a status line
            return
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("FakeRM %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeRM) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", fake.port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        logger.warning(
            "FakeRM handler failed for %s", client_address, exc_info=sys.exc_info()
        )


def main() -> None:
    """Run the fake by hand, e.g. for the README walkthrough."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.rm_server",
        description="A stand-in TOTVS RM wsDataServer on 127.0.0.1 (for trying Ponte).",
    )
    parser.add_argument("--port", type=int, default=8051, help="default 8051")
    parser.add_argument("--user", default="ponte", help="HTTP Basic user")
    parser.add_argument("--password", default="s3cret", help="HTTP Basic password")
    parser.add_argument(
        "--script",
        default="",
        help="comma-separated answers to the first calls, e.g. http503,drop,accept",
    )
    args = parser.parse_args()
    fake = FakeRM(user=args.user, password=args.password, port=args.port, dedupe=True)
    if args.script:
        fake.script(*args.script.split(","))
    print(f"WSDL:     {fake.wsdl_url}\nendpoint: {fake.endpoint}\nCtrl-C stops.")
    shown = 0
    try:
        while True:
            time.sleep(1)
            received = fake.received
            for item in received[shown:]:
                print(f"received SaveRecord message_id={item.message_id}")
            shown = len(received)
    except KeyboardInterrupt:
        fake.close()


if __name__ == "__main__":
    main()
