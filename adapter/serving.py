"""``ponte serve``: gunicorn workers for SOAP plus one supervised delivery worker."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from adapter.config import Settings

log = logging.getLogger("ponte.serve")

RESTART_DELAYS = (5.0, 10.0, 30.0, 60.0)


class WorkerSupervisor:
    """Runs ``ponte worker`` as a child process and restarts it when it dies.

    A delivery worker that exits (a database outage, a crash) is started
    again after 5 s, then 10 s, 30 s and every 60 s, each time with a log line,
    so that approvals never wait in the outbox unnoticed.
    """

    def __init__(self, config_path: Path | None) -> None:
        self.command = [sys.executable, "-m", "adapter"]
        if config_path is not None:
            self.command += ["--config", str(config_path)]
        self.command.append("worker")
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="supervisor", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self.process = subprocess.Popen(self.command)  # noqa: S603
            log.info("delivery worker started pid=%d", self.process.pid)
            code = self.process.wait()
            if self._stopping.is_set():
                return
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            failures += 1
            log.error(
                "delivery worker exited with code %s; restarting in %.0f s", code, delay
            )
            self._stopping.wait(delay)

    def stop(self) -> None:
        self._stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class GunicornServer(BaseApplication):
    """Each gunicorn worker builds its own runtime after the fork."""

    def __init__(
        self, settings: Settings, config_path: Path | None, with_worker: bool
    ) -> None:
        self.settings = settings
        self.supervisor = WorkerSupervisor(config_path) if with_worker else None
        super().__init__()

    def load_config(self) -> None:
        server = self.settings.server
        options: dict[str, Any] = {
            "bind": f"{server.host}:{server.port}",
            "workers": server.workers,
            "worker_class": "sync",
            "timeout": 60,
            "accesslog": None,
            "control_socket_disable": True,
            "when_ready": self._when_ready,
            "on_exit": self._on_exit,
        }
        if server.tls_cert is not None:
            options.update(certfile=str(server.tls_cert), keyfile=str(server.tls_key))
            if server.tls_client_ca is not None:
                # Optional: a client may still authenticate with a password.
                options.update(ca_certs=str(server.tls_client_ca), cert_reqs=1)
        known = self.cfg.settings
        for key, value in options.items():
            if key in known:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from adapter.inbound.app import create_app
        from adapter.logs import setup_logging
        from adapter.runtime import build_runtime

        setup_logging(self.settings.log_level)
        return create_app(build_runtime(self.settings, prepare=False))

    def _when_ready(self, _arbiter: Any) -> None:
        url = self.settings.server.soap_url
        log.info("SOAP at %s (WSDL at %s?wsdl, health at /health)", url, url)
        if self.supervisor is not None:
            self.supervisor.start()

    def _on_exit(self, _arbiter: Any) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
