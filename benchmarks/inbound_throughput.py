"""Inbound ``CreatePaymentOrder`` throughput: Ponte against a bare spyne service.

Starts two servers on free 127.0.0.1 ports, both under gunicorn with sync
workers and the same worker count:

* ``bare``: ``benchmarks/bare_service.py``, spyne alone, one trivial operation;
* ``ponte``: ``python -m adapter serve --no-worker`` on a fresh data folder
  (SQLite in WAL mode), with one integration user ``erp`` (role finance_erp)
  and one party, the beneficiary, upserted before measuring.

Both get the same load generator: raw SOAP 1.1 envelopes posted with
``requests.Session`` from C threads for N seconds, each request carrying a
WS-Security UsernameToken (PasswordText) with a fresh Nonce and Created, and a
new externalId. Rounds alternate bare, ponte, bare, ponte, so slow drifts of a
noisy machine hit both; the printed ratio ponte/bare is the figure to read.
Only HTTP 200 responses without a Fault (and with the expected result) count;
any other response is a failure, and the run exits non-zero.

Run::

    .venv/bin/python benchmarks/inbound_throughput.py [--seconds N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import requests

REPO = Path(__file__).resolve().parents[1]
PONTE_TNS = "urn:ponte:legal:v1"
BARE_TNS = "urn:ponte:bench:bare:v1"
SOAP_PATH = "/soap/v1"
USER = "erp"
CPF = "123.456.789-09"

WSSE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)
WSU = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)
TOKEN_PROFILE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
SOAP_MESSAGE_SECURITY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
)

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:p="{tns}">'
    "<soapenv:Header>"
    f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
    '<wsse:UsernameToken wsu:Id="UsernameToken-1">'
    "<wsse:Username>{user}</wsse:Username>"
    f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordText">{{password}}</wsse:Password>'
    f'<wsse:Nonce EncodingType="{SOAP_MESSAGE_SECURITY}#Base64Binary">'
    "{nonce}</wsse:Nonce>"
    "<wsu:Created>{created}</wsu:Created>"
    "</wsse:UsernameToken>"
    "</wsse:Security>"
    "</soapenv:Header>"
    "<soapenv:Body>{body}</soapenv:Body>"
    "</soapenv:Envelope>"
)

CREATE_ORDER = (
    "<p:CreatePaymentOrder><p:paymentOrder>"
    "<p:sourceSystem>SAP</p:sourceSystem>"
    "<p:externalId>{external_id}</p:externalId>"
    "<p:lawsuitNumber>0058967-77.2016.8.19.0000</p:lawsuitNumber>"
    "<p:type>condemnation</p:type>"
    f"<p:beneficiaryTaxId>{CPF}</p:beneficiaryTaxId>"
    "<p:amount>1500.00</p:amount>"
    "<p:dueDate>2026-12-20</p:dueDate>"
    "<p:costCenter>JUR-01</p:costCenter>"
    "<p:description>Condenação trabalhista, processo de referência</p:description>"
    "</p:paymentOrder></p:CreatePaymentOrder>"
)

UPSERT_PARTY = (
    "<p:UpsertParty><p:party>"
    "<p:sourceSystem>SAP</p:sourceSystem>"
    "<p:externalId>V-100</p:externalId>"
    "<p:kind>individual</p:kind>"
    f"<p:taxId>{CPF}</p:taxId>"
    "<p:name>Maria da Silva</p:name>"
    "</p:party></p:UpsertParty>"
)

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
REQUEST_TIMEOUT = 10.0


# The envelopes


def envelope(tns: str, password: str, body: str) -> bytes:
    """One request: a fresh Nonce and Created each time, as the ERP sends them."""
    nonce = base64.b64encode(os.urandom(16)).decode()
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    text = ENVELOPE.format(
        tns=tns,
        user=USER,
        password=escape(password),
        nonce=nonce,
        created=created,
        body=body,
    )
    return text.encode("utf-8")


@dataclass
class Target:
    """A server under test and how to build and judge its requests."""

    name: str
    url: str
    tns: str
    password: str
    expect: bytes  # must appear in a good response body
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_request(self) -> bytes:
        # next() on itertools.count is atomic under the GIL: ids stay distinct.
        external_id = f"BENCH-{next(self.counter):08d}"
        return envelope(
            self.tns, self.password, CREATE_ORDER.format(external_id=external_id)
        )


def judge(response: requests.Response, expect: bytes) -> str | None:
    """None for a good response, else a one-line description."""
    content = response.content
    if response.status_code != 200 or b"Fault>" in content or expect not in content:
        snippet = content[:400].decode("utf-8", "replace").replace("\n", " ")
        return f"HTTP {response.status_code}: {snippet}"
    return None


# The load generator


@dataclass
class Round:
    label: str
    server: str
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None
    client_cpu: float = 0.0  # seconds of this process's CPU during the round
    server_cpu: float | None = None  # seconds of the server's processes' CPU

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def run_load(
    target: Target,
    label: str,
    seconds: float,
    concurrency: int,
    max_requests: int,
    server_pid: int | None = None,
) -> Round:
    """Post for ``seconds`` (or ``max_requests`` posts) from ``concurrency`` threads."""
    result = Round(label, target.name)
    lock = threading.Lock()
    issued = itertools.count()
    start_gate = threading.Barrier(concurrency + 1)
    timing: dict[str, float] = {}

    def worker() -> None:
        latencies: list[float] = []
        ok = failed = 0
        first_error: str | None = None
        with requests.Session() as session:
            start_gate.wait()
            deadline = timing["deadline"]
            while time.perf_counter() < deadline and next(issued) < max_requests:
                data = target.next_request()
                began = time.perf_counter()
                try:
                    response = session.post(
                        target.url, data=data, headers=HEADERS, timeout=REQUEST_TIMEOUT
                    )
                    error = judge(response, target.expect)
                except requests.RequestException as exc:
                    error = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - began
                if error is None:
                    ok += 1
                    latencies.append(elapsed)
                else:
                    failed += 1
                    first_error = first_error or error
        with lock:
            result.ok += ok
            result.failed += failed
            result.latencies.extend(latencies)
            if first_error and not result.first_error:
                result.first_error = first_error

    threads = [
        threading.Thread(target=worker, name=f"load-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    cpu_before = time.process_time()
    server_before = process_tree_cpu(server_pid)
    began = time.perf_counter()
    timing["deadline"] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    result.seconds = time.perf_counter() - began
    result.client_cpu = time.process_time() - cpu_before
    server_after = process_tree_cpu(server_pid)
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    return result


def process_tree_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of ``pid`` and its children (Linux /proc only)."""
    if pid is None:
        return None
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        pending = [pid]
        while pending:
            current = pending.pop()
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


# The servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_workers() -> int:
    """Ponte's own default (``[server] workers``), so both sides match it."""
    sys.path.insert(0, str(REPO))
    from adapter.config import ServerSettings

    return int(ServerSettings.model_fields["workers"].default)


class SetupError(Exception):
    pass


@dataclass
class Servers:
    """The subprocesses and their temp folder; ``stop`` always cleans up."""

    root: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO)
        return env

    def start(
        self, name: str, command: list[str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        log_path = self.root / f"{name}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our own group: Ctrl-C reaches only us
            )
        self.processes.append(process)
        return process

    def wait_ready(
        self, process: subprocess.Popen[bytes], url: str, timeout: float = 60.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SetupError(f"server exited with {process.returncode}")
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SetupError(f"{url} not ready within {timeout:.0f} s")

    def tail(self, lines: int = 30) -> str:
        out = []
        for path in self.logs:
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()  # gunicorn: graceful stop of master and workers
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group we created
                process.wait(timeout=5)


def start_bare(servers: Servers, workers: int) -> tuple[str, int]:
    port = free_port()
    process = servers.start(
        "bare",
        [
            sys.executable,
            str(REPO / "benchmarks" / "bare_service.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=servers.root,
    )
    base = f"http://127.0.0.1:{port}{SOAP_PATH}"
    servers.wait_ready(process, f"{base}?wsdl")
    return base, process.pid


@dataclass(frozen=True)
class PonteSetup:
    """A Ponte installation made for one benchmark server, not started yet."""

    root: Path
    port: int

    @property
    def config(self) -> Path:
        return self.root / "ponte.toml"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "adapter", "--config", str(self.config)]


def prepare_ponte(
    servers: Servers, name: str, workers: int, password: str
) -> PonteSetup:
    """A fresh data folder and config (SQLite, INFO logs) with the user ``erp``."""
    setup = PonteSetup(servers.root / name, free_port())
    setup.root.mkdir()
    setup.config.write_text(
        'data_dir = "data"\nlog_level = "INFO"\n\n'
        f'[server]\nhost = "127.0.0.1"\nport = {setup.port}\nworkers = {workers}\n'
    )
    user = [USER, "--role", "finance_erp", "--password", password]
    added = subprocess.run(
        [*setup.command, "users", "add", *user],
        cwd=setup.root,
        env=servers.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if added.returncode != 0:
        raise SetupError(f"users add failed: {added.stderr or added.stdout}")
    return setup


def start_ponte(servers: Servers, workers: int, password: str) -> tuple[str, int]:
    setup = prepare_ponte(servers, "ponte", workers, password)
    process = servers.start(
        "ponte", [*setup.command, "serve", "--no-worker"], cwd=setup.root
    )
    servers.wait_ready(process, f"http://127.0.0.1:{setup.port}/health")
    return f"http://127.0.0.1:{setup.port}{SOAP_PATH}", process.pid


def upsert_beneficiary(target: Target) -> None:
    data = envelope(target.tns, target.password, UPSERT_PARTY)
    response = requests.post(target.url, data=data, headers=HEADERS, timeout=30)
    error = judge(response, b"<")
    if error is None and b">created<" not in response.content:
        error = "UpsertParty did not create the party: " + response.text[:400]
    if error:
        raise SetupError(f"UpsertParty failed: {error}")


# The report


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[index]


def versions() -> str:
    import gunicorn
    import lxml.etree
    import spyne

    return (
        f"Python {platform.python_version()} | spyne {spyne.__version__} | "
        f"SQLite {sqlite3.sqlite_version} | gunicorn {gunicorn.__version__} | "
        f"lxml {'.'.join(map(str, lxml.etree.LXML_VERSION[:3]))} | "
        f"requests {requests.__version__}"
    )


def row(
    label: str,
    server: str,
    ok: int,
    rate: float,
    latencies: list[float],
    server_cpu: float | None,
    client_cpu: float,
    seconds: float,
) -> str:
    ordered = sorted(latencies)
    p50 = 1000 * percentile(ordered, 0.50)
    p99 = 1000 * percentile(ordered, 0.99)
    cpu = f"{1000 * server_cpu / ok:.2f}" if server_cpu is not None and ok else "-"
    client = f"{100 * client_cpu / seconds:.0f}%" if seconds else "-"
    return (
        f"{label:<7}{server:<7}{ok:>9}{rate:>10.1f}{p50:>9.2f}{p99:>9.2f}"
        f"{cpu:>11}{client:>11}"
    )


def report(rounds: list[Round]) -> None:
    print()
    print(
        f"{'round':<7}{'server':<7}{'ok':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'srv ms/req':>11}{'client CPU':>11}"
    )
    for r in rounds:
        print(
            row(
                r.label,
                r.server,
                r.ok,
                r.rate,
                r.latencies,
                r.server_cpu,
                r.client_cpu,
                r.seconds,
            )
        )
    means: dict[str, float] = {}
    for server in ("bare", "ponte"):
        mine = [r for r in rounds if r.server == server]
        means[server] = sum(r.rate for r in mine) / len(mine)
        cpus = [r.server_cpu for r in mine]
        print(
            row(
                "mean",
                server,
                sum(r.ok for r in mine),
                means[server],
                [x for r in mine for x in r.latencies],
                None if None in cpus else sum(c or 0.0 for c in cpus),
                sum(r.client_cpu for r in mine),
                sum(r.seconds for r in mine),
            )
        )
    per_round = []
    for label in dict.fromkeys(r.label for r in rounds):
        pair = {r.server: r.rate for r in rounds if r.label == label}
        if pair.get("bare"):
            per_round.append(f"round {label}: {pair['ponte'] / pair['bare']:.3f}")
    ratio = means["ponte"] / means["bare"] if means["bare"] else float("nan")
    print()
    print(f"ratio ponte/bare (mean req/s): {ratio:.3f}   ({', '.join(per_round)})")
    print(
        "srv ms/req = CPU of the gunicorn master and workers per good request; "
        "client CPU = load generator's CPU as % of one core"
    )


# Main


def load_options(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark that loads servers in rounds (``parse_load``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="length of each measured round (default 10; 4 rounds)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="client threads posting at once (default 4)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers for both servers (default: Ponte's default, 2)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of unmeasured load per server before the rounds (default 2)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=500_000,
        help="upper bound of posts per round, whatever the time (default 500000)",
    )
    return parser


def parse_load(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.max_requests < 1:
        parser.error("--seconds, --concurrency and --max-requests must be positive")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_options(
        "Inbound CreatePaymentOrder throughput of Ponte against a bare "
        "spyne operation, both under gunicorn on 127.0.0.1, measured in one run "
        "(rounds bare, ponte, bare, ponte); prints req/s, p50/p99 and the ratio "
        "ponte/bare."
    )
    return parse_load(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workers = args.workers or default_workers()
    password = "bench-" + secrets.token_urlsafe(18)
    print(versions())
    print(
        f"{os.cpu_count()} CPUs | gunicorn sync workers={workers} per server | "
        f"client threads={args.concurrency} | {args.seconds:g} s per round, "
        f"rounds bare/ponte/bare/ponte | warm-up {args.warmup:g} s each"
    )
    root = Path(tempfile.mkdtemp(prefix="ponte-bench-"))
    servers = Servers(root)
    try:
        try:
            bare_url, bare_pid = start_bare(servers, workers)
            ponte_url, ponte_pid = start_ponte(servers, workers, password)
            bare = Target("bare", bare_url, BARE_TNS, password, b">accepted ")
            ponte = Target("ponte", ponte_url, PONTE_TNS, password, b">created<")
            upsert_beneficiary(ponte)
        except (
            SetupError,
            requests.RequestException,
            subprocess.SubprocessError,
        ) as exc:
            print(f"setup failed: {exc}\n{servers.tail()}", file=sys.stderr)
            return 2
        pids = {"bare": bare_pid, "ponte": ponte_pid}

        for target in (bare, ponte):
            if args.warmup > 0:
                warm = run_load(
                    target, "warm", args.warmup, args.concurrency, args.max_requests
                )
                if warm.failed or not warm.ok:
                    print(
                        f"warm-up of {target.name} failed: {warm.failed} failed, "
                        f"{warm.ok} ok; first error: {warm.first_error}\n"
                        f"{servers.tail()}",
                        file=sys.stderr,
                    )
                    return 1

        rounds: list[Round] = []
        schedule: list[tuple[str, Target]] = [
            ("1", bare),
            ("1", ponte),
            ("2", bare),
            ("2", ponte),
        ]
        for label, target in schedule:
            rounds.append(
                run_load(
                    target,
                    label,
                    args.seconds,
                    args.concurrency,
                    args.max_requests,
                    pids[target.name],
                )
            )
        report(rounds)

        failed = sum(r.failed for r in rounds)
        if failed:
            first = next(r for r in rounds if r.first_error)
            print(
                f"\nFAILED: {failed} request(s) failed; first ({first.server}, "
                f"round {first.label}): {first.first_error}",
                file=sys.stderr,
            )
            return 1
        print("all requests succeeded (HTTP 200, no Fault)")
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
