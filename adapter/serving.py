"""``ponte serve``: gunicorn workers for SOAP plus one supervised delivery worker."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from typing import Any

from gunicorn.app.base import BaseApplication

from adapter.config import Settings

log = logging.getLogger("ponte.serve")

RESTART_DELAYS = (5.0, 10.0, 30.0, 60.0)


class Supervisor:
    """``ponte serve``: gunicorn and one delivery worker, as two child processes.

    The supervisor is a plain process of its own: spawning the worker from
    inside gunicorn's master races with gunicorn forking its workers (a forked
    worker inherits the pipe ``subprocess`` waits on, and the spawn hangs).
    A delivery worker that exits is started again after 5 s, then 10 s, 30 s
    and every 60 s, each time with a log line; when gunicorn exits, the worker
    is stopped and ``serve`` exits with gunicorn's code. SIGTERM and SIGINT
    are passed on to both.
    """

    def __init__(self, base_command: list[str]) -> None:
        self.server_command = [*base_command, "serve", "--no-worker"]
        self.worker_command = [*base_command, "worker"]
        self.stopping = False

    def run(self, server_args: list[str]) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.server = subprocess.Popen([*self.server_command, *server_args])  # noqa: S603
        self.worker: subprocess.Popen[bytes] | None = self._start_worker()
        failures = 0
        restart_at: float | None = None
        while True:
            code = self.server.poll()
            if code is not None or self.stopping:
                break
            if self.worker is not None and self.worker.poll() is not None:
                delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
                log.error(
                    "delivery worker exited with code %s; restarting in %.0f s",
                    self.worker.returncode,
                    delay,
                )
                failures += 1
                self.worker = None
                restart_at = time.monotonic() + delay
            if self.worker is None and restart_at and time.monotonic() >= restart_at:
                self.worker = self._start_worker()
                restart_at = None
            time.sleep(0.2)
        self._terminate(self.worker)
        self._terminate(self.server)
        return self.server.returncode or 0

    def _start_worker(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self.worker_command)  # noqa: S603
        log.info("delivery worker started pid=%d", process.pid)
        return process

    def _stop(self, *_: object) -> None:
        self.stopping = True

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes] | None) -> None:
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class GunicornServer(BaseApplication):
    """Each gunicorn worker builds its own runtime after the fork."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
