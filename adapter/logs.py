"""Logging set-up: one line per event, CPF numbers masked whatever the caller wrote."""

from __future__ import annotations

import logging
import re

_CPF = re.compile(r"(?<![\dA-Za-z])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\dA-Za-z])")


class MaskCpf(logging.Filter):
    """Rewrites anything shaped like a CPF in a record to ``***.456.789-**``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _CPF.sub(lambda m: f"***.{m.group(2)}.{m.group(3)}-**", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(MaskCpf())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("spyne", "zeep", "urllib3", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
