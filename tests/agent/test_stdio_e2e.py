"""The mesh extension as goose runs it: a subprocess spoken to over stdio by the real MCP client.

``python -m orgtwin.agent mcp`` is started by ``mcp``'s stdio client with the
environment the operator gives the pod; it calls the stand-in api
(``agent_standin.StandInApi``, a scripted HTTP server on 127.0.0.1 playing the
orgtwin api's mesh routes). The handshake is the legacy ``initialize`` one,
which is what goose speaks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mcp_types as types
import pytest
from agent_standin import TOKEN, TRACE, Reply, StandInApi
from mcp import ClientSession, StdioServerParameters, stdio_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def text(result: types.CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return first.text


async def test_collaboration_over_stdio(standin: StandInApi, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "orgtwin.agent", "mcp"],
        env={
            "ORGTWIN_API_URL": standin.url,
            "ORGTWIN_SESSION_TOKEN_FILE": str(token_file),
            "ORGTWIN_BACKOFF_BASE": "0.01",
        },
    )
    standin.script("POST", "/v1/mesh/approvals", Reply(503, {"title": "Unavailable"}))
    stderr_path = tmp_path / "extension.stderr"

    with stderr_path.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=30) as client,
        ):
            await client.initialize()
            names = {t.name for t in (await client.list_tools()).tools}
            asked = await client.call_tool(
                "request_approval", {"title": "Expense 120 EUR", "data": {"amount": 120}}
            )
            inbox = await client.call_tool("check_inbox", {})
            decided = await client.call_tool(
                "decide_approval", {"approval_id": "t-42", "decision": "approve"}
            )
            bad = await client.call_tool("decide_approval", {"approval_id": "t-42"})

    assert names == {
        "send_task",
        "request_approval",
        "decide_approval",
        "notify",
        "fetch_status",
        "check_inbox",
        "reply",
        "list_agents",
    }
    assert text(asked) == "Approval a-1 requested from user:E001: Expense 120 EUR"
    assert asked.structured_content is not None
    assert asked.structured_content["kind"] == "approval"
    assert text(inbox).startswith("1 item(s) in inbox: approval t-42")
    assert text(decided) == "Approved approval t-42; it is now approved"
    assert bad.is_error
    assert "decision" in text(bad)

    posts = [r for r in standin.seen if r.path == "/v1/mesh/approvals"]
    assert len(posts) == 2
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    decision = next(r for r in standin.seen if r.path.endswith("/decision"))
    assert decision.headers["x-trace-id"] == TRACE
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in standin.seen)

    logged = stderr_path.read_text()
    assert "mesh.retry" in logged
    assert TOKEN not in logged
