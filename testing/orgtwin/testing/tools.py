"""Locate the control-plane binaries that hack/tools.sh builds into the cache."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
TOOLS_SCRIPT = REPO_ROOT / "hack" / "tools.sh"


class ToolsMissingError(RuntimeError):
    """The pinned binaries are not built; ``make tools`` builds them."""


def bin_dir() -> Path:
    """The cache bin dir for the pinned versions (``ORGTWIN_TOOLS_BIN`` overrides)."""
    override = os.environ.get("ORGTWIN_TOOLS_BIN")
    if override:
        return Path(override)
    out = subprocess.run(
        ["bash", str(TOOLS_SCRIPT), "--bin-dir"], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def tool(name: str) -> Path:
    """Path of one pinned binary, or a clear error naming the make target."""
    path = bin_dir() / name
    if not os.access(path, os.X_OK):
        raise ToolsMissingError(f"{name} not found at {path}; run `make tools`")
    return path
