"""One bulk ``UpsertParties`` of 10,000 parties: Ponte against a bare spyne service.

Starts two servers on free 127.0.0.1 ports, both under gunicorn with sync
workers and one worker each (so that "the worker's peak RSS" names one
process):

* ``bare``: ``benchmarks/bare_bulk_service.py``, spyne alone; its
  ``UpsertParties`` parses and validates the same array against the same
  schema and returns only the item count;
* ``ponte``: ``python -m adapter serve --no-worker`` on a fresh data folder
  (SQLite in WAL mode) with one integration user ``erp`` (role finance_erp).

The envelope is built once: N parties alternating individuals (valid CPF) and
companies (valid CNPJ), with 1 % of them carrying wrong check digits, so that
Ponte refuses them item by item. The same body goes to both servers (in each
one's namespace), each post with a fresh WS-Security UsernameToken header.

Measured, in this order: bare, ponte (all items new), bare, ponte again (the
same items: now all "unchanged"). Each call is timed from the client, from
the first byte sent to the last byte of the response received. After each
call the worker's VmHWM (peak resident set since the worker started) and
VmRSS are read from /proc.

Run::

    .venv/bin/python benchmarks/bulk_upsert.py [--items N] [--invalid-percent P]
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from inbound_throughput import (
    BARE_TNS,
    HEADERS,
    PONTE_TNS,
    REPO,
    Servers,
    SetupError,
    envelope,
    free_port,
    process_tree_cpu,
    start_ponte,
    versions,
)
from lxml import etree

SOAP_PATH = "/soap/v1"
MAX_ITEMS = 10_000  # adapter.app.records.MAX_BULK
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 300.0

_CNPJ_W1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W2 = (6, *_CNPJ_W1)


# Brazilian tax ids with correct (or deliberately wrong) check digits


def _mod11(total: int) -> int:
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def make_cpf(n: int, valid: bool = True) -> str:
    """A CPF, masked, derived from ``n``; wrong check digits when not ``valid``."""
    base = f"{(100_000_000 + n * 7_919) % 1_000_000_000:09d}"
    if base == base[0] * 9:
        base = f"{int(base) + 1:09d}"
    digits = [int(c) for c in base]
    for size in (9, 10):
        weights = range(size + 1, 1, -1)
        digits.append(_mod11(sum(d * w for d, w in zip(digits, weights, strict=True))))
    if not valid:
        digits[10] = (digits[10] + 1) % 10
    s = "".join(map(str, digits))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def make_cnpj(n: int, valid: bool = True) -> str:
    """A numeric CNPJ (root from ``n``, branch 0001), masked."""
    root = f"{(10_000_000 + n * 104_729) % 100_000_000:08d}"
    values = [int(c) for c in root + "0001"]
    for weights in (_CNPJ_W1, _CNPJ_W2):
        values.append(_mod11(sum(v * w for v, w in zip(values, weights, strict=True))))
    if not valid:
        values[13] = (values[13] + 1) % 10
    s = "".join(map(str, values))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


PARTY = (
    "<p:party>"
    "<p:sourceSystem>SAP</p:sourceSystem>"
    "<p:externalId>{external_id}</p:externalId>"
    "<p:kind>{kind}</p:kind>"
    "<p:taxId>{tax_id}</p:taxId>"
    "<p:name>{name}</p:name>"
    "</p:party>"
)


def is_invalid(index: int, invalid_every: int) -> bool:
    return invalid_every > 0 and index % invalid_every == invalid_every - 1


def parties_body(items: int, invalid_every: int, first: int = 0) -> str:
    """``<UpsertParties>`` with ``items`` parties; every ``invalid_every``-th is bad.

    Parties are numbered from ``first`` (externalId ``BULK-<number>``).
    """
    parts = ["<p:UpsertParties><p:parties>"]
    for i in range(first, first + items):
        valid = not is_invalid(i, invalid_every)
        if i % 2 == 0:
            kind, tax_id, name = "individual", make_cpf(i, valid), f"Pessoa Física {i}"
        else:
            kind, tax_id, name = "company", make_cnpj(i, valid), f"Empresa {i} Ltda."
        parts.append(
            PARTY.format(
                external_id=f"BULK-{i:05d}", kind=kind, tax_id=tax_id, name=name
            )
        )
    parts.append("</p:parties></p:UpsertParties>")
    return "".join(parts)


# The servers


def start_bare_bulk(servers: Servers) -> tuple[str, int]:
    port = free_port()
    process = servers.start(
        "bare",
        [
            sys.executable,
            str(REPO / "benchmarks" / "bare_bulk_service.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=servers.root,
    )
    base = f"http://127.0.0.1:{port}{SOAP_PATH}"
    servers.wait_ready(process, f"{base}?wsdl")
    return base, process.pid


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's child processes (Linux /proc)."""
    pids: list[int] = []
    for task in Path(f"/proc/{master}/task").iterdir():
        pids.extend(int(p) for p in (task / "children").read_text().split())
    return pids


def status_mb(pid: int, key: str) -> float:
    """``VmHWM`` or ``VmRSS`` of ``pid`` in MB (from kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def worker_memory(master: int) -> tuple[float, float]:
    """(max VmHWM, max VmRSS) over the master's workers, MB."""
    pids = worker_pids(master)
    if not pids:
        raise SetupError(f"no gunicorn worker under pid {master}")
    return (
        max(status_mb(p, "VmHWM") for p in pids),
        max(status_mb(p, "VmRSS") for p in pids),
    )


# One measured call


@dataclass
class Call:
    label: str
    server: str
    seconds: float
    bytes_sent: int
    bytes_received: int
    status: int
    server_cpu: float | None
    hwm_before: float
    hwm_after: float
    rss_after: float
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    accepted: int | None = None
    refused: int | None = None
    count: int | None = None
    fault: str | None = None


def post_bulk(
    url: str,
    tns: str,
    password: str,
    body: str,
    master: int,
    label: str,
    server: str,
    timeout: float,
) -> Call:
    data = envelope(tns, password, body)
    hwm_before, _ = worker_memory(master)
    cpu_before = process_tree_cpu(master)
    with requests.Session() as session:
        began = time.perf_counter()
        response = session.post(url, data=data, headers=HEADERS, timeout=timeout)
        content = response.content
        seconds = time.perf_counter() - began
    cpu_after = process_tree_cpu(master)
    hwm_after, rss_after = worker_memory(master)
    call = Call(
        label=label,
        server=server,
        seconds=seconds,
        bytes_sent=len(data),
        bytes_received=len(content),
        status=response.status_code,
        server_cpu=(
            cpu_after - cpu_before
            if cpu_before is not None and cpu_after is not None
            else None
        ),
        hwm_before=hwm_before,
        hwm_after=hwm_after,
        rss_after=rss_after,
    )
    read_result(call, content, tns)
    return call


def read_result(call: Call, content: bytes, tns: str) -> None:
    """Fill accepted/refused/outcomes (Ponte) or count (bare), or ``fault``."""
    try:
        root = etree.fromstring(content, etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as exc:
        call.fault = f"HTTP {call.status}, not XML ({exc}): {content[:300]!r}"
        return
    faultstring = root.findtext(".//faultstring")
    if call.status != 200 or faultstring is not None:
        call.fault = f"HTTP {call.status}: {faultstring}"
        return
    result = root.find(f".//{{{tns}}}UpsertPartiesResult")
    if result is None:
        call.fault = "no UpsertPartiesResult in the response"
        return
    if call.server == "bare":
        call.count = int(result.text or 0)
        return
    call.accepted = int(result.findtext(f"{{{tns}}}accepted") or 0)
    call.refused = int(result.findtext(f"{{{tns}}}refused") or 0)
    for outcome in result.iter(f"{{{tns}}}outcome"):
        call.outcomes[outcome.text or "?"] += 1


# The report


def report(calls: list[Call], items: int, expected_refused: int) -> bool:
    print()
    print(
        f"{'call':<13}{'server':<7}{'seconds':>9}{'items/s':>10}{'srv CPU s':>10}"
        f"{'peak RSS MB':>12}{'(before)':>10}{'RSS MB':>8}  result"
    )
    for c in calls:
        cpu = f"{c.server_cpu:.2f}" if c.server_cpu is not None else "-"
        if c.fault:
            result = f"FAULT {c.fault}"
        elif c.server == "bare":
            result = f"count={c.count}"
        else:
            detail = ", ".join(f"{k} {v}" for k, v in sorted(c.outcomes.items()))
            result = f"accepted={c.accepted} refused={c.refused} ({detail})"
        print(
            f"{c.label:<13}{c.server:<7}{c.seconds:>9.2f}{items / c.seconds:>10.0f}"
            f"{cpu:>10}{c.hwm_after:>12.1f}{c.hwm_before:>10.1f}{c.rss_after:>8.1f}"
            f"  {result}"
        )
    print(
        "seconds = client wall time of the one POST (send to last byte received); "
        "srv CPU s = CPU of the gunicorn master and worker during it; "
        "peak RSS = worker VmHWM after the call (before = before it); "
        "RSS = worker VmRSS after it"
    )
    bare = [c for c in calls if c.server == "bare"]
    ponte = [c for c in calls if c.server == "ponte"]
    bare_s = min(c.seconds for c in bare)
    print()
    ok = True
    for c, name in zip(
        ponte, ("first (new items)", "second (unchanged)"), strict=False
    ):
        print(
            f"{name}: ponte {c.seconds:.2f} s, bare {bare_s:.2f} s, "
            f"ratio ponte/bare {c.seconds / bare_s:.1f}x, {items / c.seconds:.0f} "
            f"items/s, accepted {c.accepted}, refused {c.refused}, "
            f"peak RSS {c.hwm_after:.1f} MB"
        )
    bare_peak = max(c.hwm_after for c in bare)
    print(f"(bare = the faster of its two calls; bare peak RSS {bare_peak:.1f} MB)")
    print()
    for c, name in zip(ponte, ("first", "second"), strict=False):
        time_ok = c.seconds < TARGET_SECONDS
        rss_ok = c.hwm_after < TARGET_RSS_MB
        print(
            f"target {name} call: < {TARGET_SECONDS:g} s: "
            f"{'met' if time_ok else 'MISSED'} ({c.seconds:.2f} s); "
            f"peak RSS < {TARGET_RSS_MB:g} MB: {'met' if rss_ok else 'MISSED'} "
            f"({c.hwm_after:.1f} MB)"
        )
    for c in calls:
        if c.fault:
            ok = False
        elif c.server == "bare" and c.count != items:
            print(f"bare {c.label}: count {c.count}, expected {items}", file=sys.stderr)
            ok = False
    first, second = ponte[0], ponte[-1]
    if not first.fault and (
        first.refused != expected_refused
        or first.outcomes.get("created") != items - expected_refused
    ):
        print(
            f"ponte first call: expected {items - expected_refused} created and "
            f"{expected_refused} refused",
            file=sys.stderr,
        )
        ok = False
    if not second.fault and (
        second.refused != expected_refused
        or second.outcomes.get("unchanged") != items - expected_refused
    ):
        print(
            f"ponte second call: expected {items - expected_refused} unchanged and "
            f"{expected_refused} refused",
            file=sys.stderr,
        )
        ok = False
    return ok


def load_line(when: str) -> str:
    """The machine's load average: these figures come from shared cores."""
    one, five, fifteen = os.getloadavg()
    cpus = os.cpu_count()
    return f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} ({cpus} CPUs)"


# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="One UpsertParties call of N parties (default 10,000, the "
        "limit) to Ponte and to a bare spyne service that only parses the array, "
        "both under gunicorn with one worker on 127.0.0.1; then the same call to "
        "Ponte again (all items unchanged). Prints seconds, the ratio "
        "ponte/bare, items/s, accepted/refused and the worker's peak RSS.",
    )
    parser.add_argument(
        "--items",
        type=int,
        default=MAX_ITEMS,
        help=f"parties in the call, 1..{MAX_ITEMS} (default {MAX_ITEMS})",
    )
    parser.add_argument(
        "--invalid-percent",
        type=float,
        default=1.0,
        help="share of parties with wrong check digits, refused per item "
        "(default 1; 0 for none)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="client timeout of each call in seconds (default 120; note that "
        "gunicorn kills a worker after 60 s of one request)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.items <= MAX_ITEMS:
        parser.error(f"--items must be from 1 to {MAX_ITEMS}")
    if not 0 <= args.invalid_percent <= 50:
        parser.error("--invalid-percent must be from 0 to 50")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    invalid_every = round(100 / args.invalid_percent) if args.invalid_percent else 0
    expected_refused = sum(1 for i in range(args.items) if is_invalid(i, invalid_every))
    password = "bench-" + secrets.token_urlsafe(18)
    body = parties_body(args.items, invalid_every)
    print(versions())
    print(load_line("at start"))
    print(
        f"{os.cpu_count()} CPUs | gunicorn sync workers=1 per server | "
        f"{args.items} parties per call ({expected_refused} with wrong check "
        f"digits) | envelope {len(body.encode()) / 1e6:.2f} MB"
    )
    root = Path(tempfile.mkdtemp(prefix="ponte-bench-bulk-"))
    servers = Servers(root)
    try:
        try:
            bare_url, bare_pid = start_bare_bulk(servers)
            ponte_url, ponte_pid = start_ponte(servers, 1, password)
        except (
            SetupError,
            requests.RequestException,
            subprocess.SubprocessError,
        ) as exc:
            print(f"setup failed: {exc}\n{servers.tail()}", file=sys.stderr)
            return 2
        # One small unmeasured call each (parties BULK-90000..): first-request
        # costs (imports, caches, the first SQLite connection) stay out.
        warm = parties_body(10, 0, first=90_000)
        for name, url, tns in (
            ("bare", bare_url, BARE_TNS),
            ("ponte", ponte_url, PONTE_TNS),
        ):
            response = requests.post(
                url, data=envelope(tns, password, warm), headers=HEADERS, timeout=60
            )
            if response.status_code != 200 or b"Fault>" in response.content:
                print(
                    f"warm-up of {name} failed: HTTP {response.status_code}: "
                    f"{response.text[:400]}\n{servers.tail()}",
                    file=sys.stderr,
                )
                return 1
        schedule = [
            ("1", "bare", bare_url, BARE_TNS, bare_pid),
            ("1 new", "ponte", ponte_url, PONTE_TNS, ponte_pid),
            ("2", "bare", bare_url, BARE_TNS, bare_pid),
            ("2 unchanged", "ponte", ponte_url, PONTE_TNS, ponte_pid),
        ]
        calls: list[Call] = []
        for label, server, url, tns, pid in schedule:
            try:
                calls.append(
                    post_bulk(
                        url, tns, password, body, pid, label, server, args.timeout
                    )
                )
            except requests.RequestException as exc:
                print(
                    f"{server} call {label} failed: {type(exc).__name__}: {exc}\n"
                    f"{servers.tail()}",
                    file=sys.stderr,
                )
                return 1
        ok = report(calls, args.items, expected_refused)
        print(load_line("at end"))
        if not ok:
            first = next((c for c in calls if c.fault), None)
            if first is not None:
                print(
                    f"\nFAILED: {first.server} call {first.label}: {first.fault}\n"
                    f"{servers.tail()}",
                    file=sys.stderr,
                )
            return 1
        print("all calls succeeded (HTTP 200, no Fault, expected outcomes)")
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
