"""``ponte serve`` as an operator runs it: checks first, then supervises its worker."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys

import requests

from tests.conftest import REPO, Installation, wait_until
from tests.fakes.rm_server import FakeRM
from tests.integration.test_end_to_end import target_config
from tests.realdata import require

require("totvs-rm-wsdataserver")


def health(inst: Installation) -> dict[str, str]:
    response = requests.get(f"http://127.0.0.1:{inst.port}/health", timeout=5)
    assert response.status_code == 200
    return dict(response.json())


def worker_pids(inst: Installation) -> list[int]:
    return [
        int(p) for p in re.findall(r"delivery worker started pid=(\d+)", inst.logs())
    ]


def test_serve_refuses_to_start_with_a_missing_mapping(
    installation: Installation,
) -> None:
    with FakeRM(user="ponte", password="rm-pass") as fake:
        config = target_config(fake).replace("payment_order.approved.xsl", "nope.xsl")
        installation.write_config(config.replace('signing_key = "test-key"\n', ""))
        result = installation.ponte("serve", check=False)
    assert result.returncode == 2
    assert "target rm-finance:" in result.stderr
    assert "nope.xsl" in result.stderr
    assert "Traceback" not in result.stderr


def lease_pid(inst: Installation) -> int | None:
    """The pid of the delivery worker that holds the database's lease."""
    database = inst.root / "data" / "ponte.db"
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT holder FROM scheduler_lease").fetchone()
    return int(row[0].rsplit(":", 1)[1]) if row else None


def test_serve_restarts_a_delivery_worker_that_dies(installation: Installation) -> None:
    with FakeRM(user="ponte", password="rm-pass") as fake:
        installation.write_config(target_config(fake))
        installation.ponte("keys", "generate", "--id", "test-key", "--dir", "keys")
        server = installation.start("serve")
        try:
            wait_until(lambda: _answers(installation) and lease_pid(installation), 60)
            wait_until(lambda: health(installation)["delivery_worker"] == "running", 30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; logs:\n{installation.logs()}") from exc
        first = lease_pid(installation)
        assert first is not None and _alive(first)

        os.kill(first, signal.SIGKILL)

        # The restarted worker waits for the dead one's lease to expire (30 s).
        try:
            second = wait_until(
                lambda: (p := lease_pid(installation)) != first and p, 120
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; logs:\n{installation.logs()}") from exc
        assert _alive(second)
        assert health(installation)["delivery_worker"] == "running"
        server.terminate()
        server.wait(timeout=30)
    stopped = wait_until(lambda: not _alive(second), 20)
    assert stopped, f"serve left its delivery worker running:\n{installation.logs()}"


def test_python_server_py_serves_the_same(installation: Installation) -> None:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "server.py")],
        cwd=installation.root,
        env={**installation.env(), "PONTE_CONFIG": str(installation.config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    installation.processes.append(process)
    wait_until(lambda: _answers(installation), 30)
    wsdl = requests.get(f"{installation.url}?wsdl", timeout=5).text
    assert f'location="{installation.url}"' in wsdl
    assert health(installation)["delivery_worker"] == "no targets configured"


def _answers(inst: Installation) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{inst.port}/health", timeout=1).ok
    except requests.RequestException:  # refused, or slow while starting up
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0); read its state
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
