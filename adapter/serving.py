"""``ponte serve``: gunicorn workers for SOAP plus one delivery-worker process."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from adapter.config import Settings

log = logging.getLogger("ponte.serve")


class GunicornServer(BaseApplication):
    """Each gunicorn worker builds its own runtime after the fork."""

    def __init__(
        self, settings: Settings, config_path: Path | None, with_worker: bool
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.with_worker = with_worker
        self.worker_process: subprocess.Popen[bytes] | None = None
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
        log.info(
            "SOAP at %s (WSDL at %s?wsdl)",
            self.settings.server.soap_url,
            self.settings.server.soap_url,
        )
        if self.with_worker:
            command = [sys.executable, "-m", "adapter", "worker"]
            if self.config_path is not None:
                command[3:3] = ["--config", str(self.config_path)]
            self.worker_process = subprocess.Popen(command)  # noqa: S603
            log.info("delivery worker started pid=%d", self.worker_process.pid)

    def _on_exit(self, _arbiter: Any) -> None:
        if self.worker_process is not None and self.worker_process.poll() is None:
            self.worker_process.terminate()
            try:
                self.worker_process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.worker_process.kill()
