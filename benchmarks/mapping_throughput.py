"""Mapping throughput: events mapped and validated per second, RM and SAP profiles.

In one process, on one core, with the same canonical event (a
``payment_order.approved``, ``mappings/sap/samples/payment_order.approved``):

* ``baseline``: parse the event bytes with Ponte's hardened parser and
  serialize them again (``xmlutil.parse`` + ``etree.tostring``): the least any
  mapping must do;
* ``rm map`` / ``sap map``: ``Mapping.apply`` of the profile folder (parse,
  choose the stylesheet by event type, XSLT) and the profile's
  ``parameters`` (RM serializes the DataSet into the ``XML`` string);
* ``rm map+validate`` / ``sap map+validate``: the same, then
  ``DocumentCheck.check`` of the output against the folder's contract (write
  it indented, parse it again for line numbers, validate with lxml against
  RM's DataSet schema or SAP's WSDL schema).

Rounds alternate the cases, so a noisy machine's drift hits all of them; the
printed ratios to the baseline are the figures to compare between runs.

Run::

    .venv/bin/python benchmarks/mapping_throughput.py [--seconds S] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapter import xmlutil  # noqa: E402
from adapter.config import TargetSettings  # noqa: E402
from adapter.mappings.catalog import ProfileFolder  # noqa: E402
from adapter.mappings.validate import DocumentCheck  # noqa: E402
from adapter.mappings.xslt import Mapping  # noqa: E402
from adapter.outbound.profiles import TotvsRmDataServer  # noqa: E402
from adapter.outbound.profiles_sap import SapAccDocument  # noqa: E402

EVENT = REPO / "mappings" / "sap" / "samples" / "payment_order.approved.input.xml"
Case = Callable[[], object]


def _target(operation: str, params: dict[str, str]) -> TargetSettings:
    fields: dict[str, object] = {
        "name": "bench",
        "kind": "soap",
        "operation": operation,
        "params": params,
    }
    return TargetSettings.model_construct(**fields)


def cases(event: bytes) -> dict[str, Case]:
    """The measured work, by name; each call handles one event."""
    rm_folder = ProfileFolder.load(REPO / "mappings" / "totvs-rm")
    sap_folder = ProfileFolder.load(REPO / "mappings" / "sap")
    rm, sap = Mapping.load(rm_folder.path), Mapping.load(sap_folder.path)
    rm_check, sap_check = (
        DocumentCheck.for_folder(rm_folder),
        DocumentCheck.for_folder(sap_folder),
    )
    assert rm_check is not None and sap_check is not None
    rm_target = _target("SaveRecord", dict(rm_folder.contract.params))
    sap_target = _target("ZPONTE_ACC_DOCUMENT_POST", {})
    rm_profile, sap_profile = TotvsRmDataServer(), SapAccDocument()
    rm_sheet = rm.stylesheet_for("payment_order.approved")
    sap_sheet = sap.stylesheet_for("payment_order.approved")

    def baseline() -> object:
        return etree.tostring(xmlutil.parse(event))

    def rm_map() -> object:
        return rm_profile.parameters(rm_target, rm.apply(event))

    def rm_validated() -> object:
        mapped = rm.apply(event)
        checked = rm_check.check(mapped, rm_sheet.document)
        assert not checked.violations, checked.violations
        return rm_profile.parameters(rm_target, mapped)

    def sap_map() -> object:
        return sap_profile.parameters(sap_target, sap.apply(event))

    def sap_validated() -> object:
        mapped = sap.apply(event)
        checked = sap_check.check(mapped, sap_sheet.document)
        assert not checked.violations, checked.violations
        return sap_profile.parameters(sap_target, mapped)

    return {
        "baseline": baseline,
        "rm map": rm_map,
        "rm map+validate": rm_validated,
        "sap map": sap_map,
        "sap map+validate": sap_validated,
    }


def measure(case: Case, seconds: float) -> tuple[int, float]:
    """Calls of ``case`` in ``seconds`` (checked every 50 calls) and CPU s."""
    count = 0
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            case()
        count += 50
    return count, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per case a round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=0.5, help="per case")
    args = parser.parse_args()

    event = EVENT.read_bytes()
    work = cases(event)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {platform.python_version()}, lxml {etree.__version__} "
        f"(libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}, libxslt "
        f"{'.'.join(map(str, etree.LIBXSLT_VERSION))}); event {len(event)} bytes; "
        f"load {load:.2f}"
    )
    for case in work.values():
        measure(case, args.warmup)

    rates: dict[str, list[float]] = {name: [] for name in work}
    print(f"{'round':<6} {'case':<18} {'events':>8} {'events/s':>10} {'us/event':>9}")
    for number in range(1, args.rounds + 1):
        for name, case in work.items():
            count, cpu = measure(case, args.seconds)
            rate = count / args.seconds
            rates[name].append(rate)
            print(
                f"{number:<6} {name:<18} {count:>8} {rate:>10.0f} "
                f"{cpu / count * 1e6:>9.1f}"
            )
    means = {name: statistics.mean(values) for name, values in rates.items()}
    for name, mean in means.items():
        print(f"{'mean':<6} {name:<18} {'':>8} {mean:>10.0f}")

    base = means["baseline"]
    print()
    print("ratio to baseline (mean events/s; per round in brackets):")
    for name in list(work)[1:]:
        per_round = ", ".join(
            f"{r / b:.3f}" for r, b in zip(rates[name], rates["baseline"], strict=True)
        )
        print(f"  {name:<18} {means[name] / base:.3f}  [{per_round}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
