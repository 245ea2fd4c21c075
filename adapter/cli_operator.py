"""Who runs an operator command: the ``--operator`` option every audited
command shares (targets, deliveries, keys)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def os_user() -> str:
    """The login name, or ``unknown`` where there is none (containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry
        return "unknown"


def operator_option(func: F) -> F:
    decorated: F = click.option(
        "--operator",
        default=os_user,
        show_default="the OS user",
        help="Who does this; written into the audit entry.",
    )(func)
    return decorated
