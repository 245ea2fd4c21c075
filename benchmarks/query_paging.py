"""Paging through 100,000 lawsuits with ``QueryLawsuits``: Ponte against bare spyne.

Starts two servers on free 127.0.0.1 ports, both under gunicorn with one sync
worker each:

* ``bare``: ``benchmarks/bare_bulk_service.py``; its ``QueryLawsuits`` builds
  each page of ``Lawsuit`` records (the same 20 fields as Ponte's) in memory
  and lets spyne serialise it. No database, no authentication, no audit.
* ``ponte``: ``python -m adapter serve --no-worker`` on a fresh data folder
  (SQLite in WAL mode) with one integration user ``erp`` (role finance_erp).

First Ponte is seeded through ``UpsertLawsuits`` in batches (default 20 x
5,000 = 100,000 judicial lawsuits, each with a CNJ number whose check digits
are computed with ``adapter.domain.identifiers.cnj_check_digits``); the
seeding is timed. Then the same client pages through all records of each
server, ``pageSize`` 1000, following ``nextCursor`` until there is none, in
the order bare, ponte, bare, ponte. Every page is parsed with lxml by the
client (records counted, ids collected, nextCursor read), for both servers
alike. The worker's VmRSS is read from /proc after every 10 pages.

Run::

    .venv/bin/python benchmarks/query_paging.py [--records N] [--batch B]
"""

from __future__ import annotations

import argparse
import datetime as dt
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
from bulk_upsert import start_bare_bulk, worker_memory
from inbound_throughput import (
    BARE_TNS,
    HEADERS,
    PONTE_TNS,
    REPO,
    Servers,
    SetupError,
    envelope,
    process_tree_cpu,
    start_ponte,
    versions,
)
from lxml import etree

sys.path.insert(0, str(REPO))
from adapter.domain.identifiers import cnj_check_digits

TARGET_RECORDS_PER_S = 5000.0
MAX_BULK = 10_000  # adapter.app.records.MAX_BULK
MAX_PAGE = 1000  # adapter.storage.paging.MAX_PAGE
RSS_EVERY = 10  # pages

_SEGMENTS = (8, 5, 4)  # Justiça Estadual, do Trabalho, Federal
_AREAS = ("civil", "labor", "tax", "consumer")
_ROLES = ("defendant", "plaintiff")
_RISKS = ("possible", "remote", "probable")
_STATUSES = ("active", "active", "active", "suspended", "closed")

LAWSUIT = (
    "<p:lawsuit>"
    "<p:sourceSystem>SAP</p:sourceSystem>"
    "<p:externalId>{external_id}</p:externalId>"
    "<p:kind>judicial</p:kind>"
    "<p:cnjNumber>{cnj}</p:cnjNumber>"
    "<p:area>{area}</p:area>"
    "<p:companyRole>{role}</p:companyRole>"
    "<p:claimValue>{claim}</p:claimValue>"
    "<p:risk>{risk}</p:risk>"
    "<p:status>{status}</p:status>"
    "<p:filingDate>{filing}</p:filingDate>"
    "{closure}"
    "</p:lawsuit>"
)
CLOSURE = (
    "<p:closureDate>{date}</p:closureDate>"
    "<p:closureReason>acordo homologado</p:closureReason>"
)


def make_cnj(n: int, year: int, segment: int) -> str:
    """``NNNNNNN-DD.AAAA.J.TR.OOOO`` with correct ISO 7064 mod 97-10 digits."""
    seq = f"{n % 10_000_000:07d}"
    court = f"{1 + n % 6:02d}"
    origin = f"{1 + n % 9_000:04d}"
    dd = cnj_check_digits(seq, str(year), str(segment), court, origin)
    return f"{seq}-{dd}.{year}.{segment}.{court}.{origin}"


def lawsuit_xml(n: int) -> str:
    year = 2015 + n % 10
    filing = dt.date(year, 1 + n % 12, 1 + n % 28)
    status = _STATUSES[n % len(_STATUSES)]
    closure = ""
    if status == "closed":
        closure = CLOSURE.format(date=(filing + dt.timedelta(days=400)).isoformat())
    return LAWSUIT.format(
        external_id=f"LAW-{n:07d}",
        cnj=make_cnj(n + 1, year, _SEGMENTS[n % len(_SEGMENTS)]),
        area=_AREAS[n % len(_AREAS)],
        role=_ROLES[n % len(_ROLES)],
        claim=f"{1_000 + (n * 37) % 900_000}.{n % 100:02d}",
        risk=_RISKS[n % len(_RISKS)],
        status=status,
        filing=filing.isoformat(),
        closure=closure,
    )


def lawsuits_body(first: int, count: int) -> str:
    items = "".join(lawsuit_xml(n) for n in range(first, first + count))
    return f"<p:UpsertLawsuits><p:lawsuits>{items}</p:lawsuits></p:UpsertLawsuits>"


def query_body(page_size: int, cursor: str | None) -> str:
    after = f"<p:cursor>{cursor}</p:cursor>" if cursor else ""
    return (
        f"<p:QueryLawsuits><p:pageSize>{page_size}</p:pageSize>{after}"
        "</p:QueryLawsuits>"
    )


def parse(content: bytes) -> etree._Element:
    return etree.fromstring(content, etree.XMLParser(huge_tree=True))


def fault_of(response: requests.Response, root: etree._Element | None) -> str | None:
    if root is None:
        return f"HTTP {response.status_code}, not XML: {response.content[:300]!r}"
    faultstring = root.findtext(".//faultstring")
    if response.status_code != 200 or faultstring is not None:
        return f"HTTP {response.status_code}: {faultstring}"
    return None


class BenchError(Exception):
    pass


# Seeding


@dataclass
class Seeding:
    records: int = 0
    seconds: float = 0.0  # sum of the POSTs' wall time
    server_cpu: float = 0.0
    batches: list[float] = field(default_factory=list)
    hwm: float = 0.0


def seed(
    url: str,
    password: str,
    master: int,
    records: int,
    batch: int,
    timeout: float,
) -> Seeding:
    result = Seeding()
    with requests.Session() as session:
        for first in range(0, records, batch):
            count = min(batch, records - first)
            data = envelope(PONTE_TNS, password, lawsuits_body(first, count))
            cpu_before = process_tree_cpu(master)
            began = time.perf_counter()
            response = session.post(url, data=data, headers=HEADERS, timeout=timeout)
            elapsed = time.perf_counter() - began
            cpu_after = process_tree_cpu(master)
            try:
                root = parse(response.content)
            except etree.XMLSyntaxError:
                root = None
            problem = fault_of(response, root)
            if problem is None and root is not None:
                accepted = root.findtext(f".//{{{PONTE_TNS}}}accepted")
                refused = root.findtext(f".//{{{PONTE_TNS}}}refused")
                if accepted != str(count) or refused != "0":
                    message = root.findtext(f".//{{{PONTE_TNS}}}message")
                    problem = (
                        f"accepted {accepted}, refused {refused} of {count}; "
                        f"first message: {message}"
                    )
            if problem:
                raise BenchError(f"UpsertLawsuits of items {first}..: {problem}")
            result.records += count
            result.seconds += elapsed
            result.batches.append(elapsed)
            if cpu_before is not None and cpu_after is not None:
                result.server_cpu += cpu_after - cpu_before
    result.hwm = worker_memory(master)[0]
    return result


# Paging


@dataclass
class Pass:
    label: str
    server: str
    pages: int = 0
    records: int = 0
    distinct: int = 0
    seconds: float = 0.0  # the whole loop, client parsing included
    http_seconds: float = 0.0  # POST to last byte, summed
    parse_seconds: float = 0.0  # client lxml parse and walk, summed
    server_cpu: float | None = None
    bytes_received: int = 0
    rss: list[float] = field(default_factory=list)  # worker VmRSS MB every 10 pages
    hwm: list[float] = field(default_factory=list)  # worker VmHWM MB every 10 pages
    block_ms: list[float] = field(default_factory=list)  # POST ms/page per 10 pages
    rss_start: float = 0.0
    hwm_start: float = 0.0
    hwm_end: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def page_through(
    url: str,
    tns: str,
    password: str,
    master: int,
    label: str,
    server: str,
    page_size: int,
    max_pages: int,
    timeout: float,
) -> Pass:
    result = Pass(label, server)
    ids: set[str] = set()
    lawsuit_tag = f"{{{tns}}}lawsuit"
    id_tag = f"{{{tns}}}id"
    cursor_tag = f".//{{{tns}}}nextCursor"
    result.hwm_start, result.rss_start = worker_memory(master)
    block_http = 0.0
    cpu_before = process_tree_cpu(master)
    cursor: str | None = None
    with requests.Session() as session:
        began = time.perf_counter()
        while True:
            if result.pages >= max_pages:
                raise BenchError(
                    f"{server}: still a nextCursor after {max_pages} pages"
                )
            data = envelope(tns, password, query_body(page_size, cursor))
            sent = time.perf_counter()
            response = session.post(url, data=data, headers=HEADERS, timeout=timeout)
            content = response.content
            received = time.perf_counter()
            try:
                root = parse(content)
            except etree.XMLSyntaxError:
                root = None
            problem = fault_of(response, root)
            if problem or root is None:
                raise BenchError(f"{server} page {result.pages + 1}: {problem}")
            found = 0
            for lawsuit in root.iter(lawsuit_tag):
                found += 1
                ids.add(lawsuit.findtext(id_tag) or "")
            cursor = root.findtext(cursor_tag) or None
            parsed = time.perf_counter()
            result.pages += 1
            result.records += found
            result.bytes_received += len(content)
            result.http_seconds += received - sent
            result.parse_seconds += parsed - received
            block_http += received - sent
            if result.pages % RSS_EVERY == 0 or cursor is None:
                hwm, rss = worker_memory(master)
                result.hwm.append(hwm)
                result.rss.append(rss)
                in_block = (result.pages - 1) % RSS_EVERY + 1
                result.block_ms.append(1000 * block_http / in_block)
                block_http = 0.0
            if cursor is None:
                break
        result.seconds = time.perf_counter() - began
    cpu_after = process_tree_cpu(master)
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = cpu_after - cpu_before
    result.hwm_end = worker_memory(master)[0]
    result.distinct = len(ids)
    return result


# The report


def report(seeding: Seeding, passes: list[Pass], records: int) -> bool:
    print()
    slowest = max(seeding.batches)
    print(
        f"seeding: {seeding.records} lawsuits in {len(seeding.batches)} "
        f"UpsertLawsuits calls, {seeding.seconds:.1f} s of POSTs, "
        f"{seeding.records / seeding.seconds:.0f} items/s (first batch "
        f"{seeding.batches[0]:.2f} s, last "
        f"{seeding.batches[-1]:.2f} s, slowest {slowest:.2f} s); server CPU "
        f"{seeding.server_cpu:.1f} s; worker peak RSS {seeding.hwm:.1f} MB"
    )
    print()
    print(
        f"{'pass':<6}{'server':<7}{'pages':>6}{'records':>9}{'seconds':>9}"
        f"{'records/s':>11}{'http s':>8}{'parse s':>9}{'srv CPU s':>10}"
        f"{'MB recv':>9}{'peak RSS':>10}"
    )
    for p in passes:
        cpu = f"{p.server_cpu:.2f}" if p.server_cpu is not None else "-"
        print(
            f"{p.label:<6}{p.server:<7}{p.pages:>6}{p.records:>9}{p.seconds:>9.2f}"
            f"{p.rate:>11.0f}{p.http_seconds:>8.2f}{p.parse_seconds:>9.2f}{cpu:>10}"
            f"{p.bytes_received / 1e6:>9.1f}{p.hwm_end:>10.1f}"
        )
    print(
        "seconds = client wall time of the whole pass (all POSTs and the client's "
        "lxml parse of each page); http s = POSTs only; parse s = client parse "
        "only; srv CPU s = CPU of the gunicorn master and worker during the pass; "
        "peak RSS = worker VmHWM (MB) at the end of the pass"
    )
    print()
    print(
        f"worker memory (MB) at the start of each pass | after every {RSS_EVERY} "
        "pages; and POST ms/page in each block of pages:"
    )
    for p in passes:
        growth = p.rss[-1] - p.rss[0] if p.rss else 0.0
        rows = (
            ("VmRSS", p.rss_start, p.rss, "{:.0f}"),
            ("VmHWM", p.hwm_start, p.hwm, "{:.0f}"),
        )
        for name, start, values, fmt in rows:
            series = " ".join(fmt.format(v) for v in values)
            print(f"  {p.label:<3}{p.server:<6}{name} {start:>4.0f} | {series}")
        print(
            f"  {p.label:<3}{p.server:<6}ms/pg      | "
            + " ".join(f"{v:.0f}" for v in p.block_ms)
            + f"   (VmRSS first-to-last reading {growth:+.1f} MB)"
        )
    print()
    ok = True
    means: dict[str, float] = {}
    for server in ("bare", "ponte"):
        mine = [p for p in passes if p.server == server]
        means[server] = sum(p.rate for p in mine) / len(mine)
    ratio = means["ponte"] / means["bare"]
    print(
        f"mean records/s: ponte {means['ponte']:.0f}, bare {means['bare']:.0f}; "
        f"ratio ponte/bare {ratio:.3f}"
    )
    ponte = [p for p in passes if p.server == "ponte"]
    worst = min(p.rate for p in ponte)
    rate_ok = worst >= TARGET_RECORDS_PER_S
    # Flat: after the first 10 pages (allocator and caches warmed), RSS grows
    # by no more than 10 % of its own size over the rest of the pass.
    growths = [max(p.rss[1:] or p.rss) - p.rss[0] for p in ponte if p.rss]
    flat_ok = all(g <= 0.10 * p.rss[0] for g, p in zip(growths, ponte, strict=False))
    print(
        f"target >= {TARGET_RECORDS_PER_S:.0f} records/s: "
        f"{'met' if rate_ok else 'MISSED'} (slowest ponte pass {worst:.0f})"
    )
    print(
        f"target memory flat (worker VmRSS after page 10 grows < 10 %): "
        f"{'met' if flat_ok else 'MISSED'} (growth after page 10: "
        f"{', '.join(f'{g:+.1f} MB' for g in growths)})"
    )
    for p in passes:
        if p.records != records or p.distinct != records:
            print(
                f"{p.server} pass {p.label}: {p.records} records, {p.distinct} "
                f"distinct ids; expected {records}",
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
        description="Seed Ponte with N judicial lawsuits through UpsertLawsuits "
        "(timed), then page through all of them with QueryLawsuits (pageSize "
        "1000, following nextCursor), against a bare spyne service returning the "
        "same pages from memory; both under gunicorn with one worker on "
        "127.0.0.1. Prints records/s, the ratio ponte/bare and the worker's RSS "
        "every 10 pages.",
    )
    parser.add_argument(
        "--records",
        type=int,
        default=100_000,
        help="lawsuits to seed and page through (default 100000)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=5_000,
        help=f"lawsuits per UpsertLawsuits call, 1..{MAX_BULK} (default 5000)",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=MAX_PAGE,
        help=f"QueryLawsuits pageSize, 1..{MAX_PAGE} (default {MAX_PAGE})",
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=2,
        help="paging passes per server, alternating bare and ponte (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="client timeout of each call in seconds (default 120)",
    )
    args = parser.parse_args(argv)
    if args.records < 1 or args.passes < 1 or args.timeout <= 0:
        parser.error("--records, --passes and --timeout must be positive")
    if not 1 <= args.batch <= MAX_BULK:
        parser.error(f"--batch must be from 1 to {MAX_BULK}")
    if not 1 <= args.page_size <= MAX_PAGE:
        parser.error(f"--page-size must be from 1 to {MAX_PAGE}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = "bench-" + secrets.token_urlsafe(18)
    print(versions())
    print(load_line("at start"))
    print(
        f"{os.cpu_count()} CPUs | gunicorn sync workers=1 per server | "
        f"{args.records} lawsuits seeded in batches of {args.batch} | pageSize "
        f"{args.page_size} | {args.passes} passes per server, alternating"
    )
    root = Path(tempfile.mkdtemp(prefix="ponte-bench-paging-"))
    servers = Servers(root)
    # The bare service hands out as many records as Ponte holds.
    os.environ["BARE_TOTAL_RECORDS"] = str(args.records)
    max_pages = -(-args.records // args.page_size) + 2
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
        try:
            seeding = seed(
                ponte_url, password, ponte_pid, args.records, args.batch, args.timeout
            )
            passes: list[Pass] = []
            targets = {
                "bare": (bare_url, BARE_TNS, bare_pid),
                "ponte": (ponte_url, PONTE_TNS, ponte_pid),
            }
            for number in range(1, args.passes + 1):
                for server in ("bare", "ponte"):
                    url, tns, pid = targets[server]
                    passes.append(
                        page_through(
                            url,
                            tns,
                            password,
                            pid,
                            str(number),
                            server,
                            args.page_size,
                            max_pages,
                            args.timeout,
                        )
                    )
        except (BenchError, requests.RequestException) as exc:
            print(
                f"FAILED: {type(exc).__name__}: {exc}\n{servers.tail()}",
                file=sys.stderr,
            )
            return 1
        ok = report(seeding, passes, args.records)
        print(load_line("at end"))
        if not ok:
            return 1
        print("all calls succeeded (HTTP 200, no Fault, every record seen once)")
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
