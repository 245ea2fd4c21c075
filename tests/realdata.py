"""Where the shared real partner files live, and a skip for when they do not.

The files sit outside the repository, next to it: ``../shared/realdata``.
Each subfolder has a SOURCES.md with its origin and licence.
"""

from __future__ import annotations

from pathlib import Path

# tests/realdata.py -> tests -> repository -> the folder that holds both.
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def require(subfolder: str) -> Path:
    """Return ``REALDATA / subfolder``; skip the calling module when it is absent."""
    import pytest  # here, so that the runnable fake RM needs no test tools

    path = REALDATA / subfolder
    if not path.is_dir():
        pytest.skip(f"real data {path} is not available", allow_module_level=True)
    return path
