"""Every ``orgtwin`` command imports the whole command tree, so the tree stays light.

kopf, uvicorn, FastAPI, the Kubernetes client, SQLAlchemy, the MCP SDK and the demo's
stack are imported only by the commands that use them: imported by the tree they cost
every command about a second of start-up, among them the mesh extension that goose
starts for each session.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

HEAVY = ("kopf", "uvicorn", "fastapi", "kubernetes", "sqlalchemy", "mcp", "orgtwin.testing.stack")


def test_the_command_tree_imports_no_server_framework() -> None:
    probe = (
        f"import sys, orgtwin.cli.main; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""
