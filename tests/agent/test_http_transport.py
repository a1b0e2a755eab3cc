"""The mesh extension over streamable HTTP: ``orgtwin agent mcp --transport http`` on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import mcp_types as types
import pytest
from agent_standin import TOKEN, StandInApi
from mcp import Client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def http_extension(standin: StandInApi) -> Iterator[str]:
    """The extension serving streamable HTTP on a free 127.0.0.1 port; stopped by PID."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "PATH": os.environ["PATH"],
        "ORGTWIN_API_URL": standin.url,
        "ORGTWIN_SESSION_TOKEN": TOKEN,
    }
    argv = [sys.executable, "-m", "orgtwin.agent", "mcp", "--transport", "http"]
    proc = subprocess.Popen([*argv, "--port", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "the extension exited before listening"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_tools_over_streamable_http(standin: StandInApi, http_extension: str) -> None:
    async with Client(http_extension) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("list_agents", {"role": "legal"})

    assert "check_inbox" in names
    assert not result.is_error
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    assert first.text == "1 active agent(s) with role=legal"
    assert standin.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
