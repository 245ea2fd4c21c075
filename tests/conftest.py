"""Shared fixtures: a configured Ponte installation and its real processes."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-password-for-tests"


def free_port() -> int:
    """A free port below the kernel's ephemeral range.

    A port taken with bind(0) and released can be handed out again at once to
    the next bind(0) (a fake partner's server, say), so the server under test
    gets its port from a range that bind(0) never uses.
    """
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; fail on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@dataclass
class Installation:
    """A data folder and ponte.toml, and helpers to run ``ponte`` on them."""

    root: Path
    port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "ponte.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/soap/v1"

    def write_config(self, text: str) -> None:
        base = (
            'data_dir = "data"\nlog_level = "INFO"\n\n'
            f"[server]\nport = {self.port}\nworkers = 2\n\n"
        )
        self.config.write_text(base + text)

    def ponte(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adapter", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            check=check,
            cwd=self.root,
            env=self.env(),
            timeout=120,
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO)
        env.setdefault("PONTE_TEST_RM_PASSWORD", "rm-pass")
        return env

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "--config", str(self.config), *args],
            cwd=self.root,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def serve(self) -> subprocess.Popen[bytes]:
        process = self.start("serve", "--no-worker")

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {self.logs()}")
            try:
                return requests.get(
                    f"http://127.0.0.1:{self.port}/health", timeout=1
                ).ok
            except (requests.ConnectionError, requests.Timeout):
                return False  # not up yet, or a worker still booting

        wait_until(healthy, timeout=60)
        return process

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.root.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    inst = Installation(tmp_path, free_port())
    inst.write_config("")
    yield inst
    inst.stop_all()
