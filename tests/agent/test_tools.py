"""Every mesh tool, called through an in-process MCP client against the stand-in api.

The stand-in (``agent_standin.StandInApi``) is a scripted HTTP server on 127.0.0.1
that plays the orgtwin api's mesh routes; the extension talks to it over a real
socket. Per tool: its schema, success, a 4xx that is not retried, 5xx/429 that
are retried with the same Idempotency-Key, and a missing token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from agent_standin import TOKEN, TRACE, Reply, StandInApi
from mcp import Client

from orgtwin.agent.server import MeshServer
from orgtwin.agent.settings import AgentSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Case:
    tool: str
    args: dict[str, Any]
    method: str
    path: str
    body: dict[str, Any] | None
    summary: str
    required: frozenset[str]


CASES = [
    Case(
        "send_task",
        {"to": "role:legal", "title": "Review contract", "body": "See clause 4", "data": {"n": 4}},
        "POST",
        "/v1/mesh/tasks",
        {
            "to": "role:legal",
            "type": "task",
            "title": "Review contract",
            "body": "See clause 4",
            "data": {"n": 4},
        },
        "Task t-1 sent to role:legal: Review contract",
        frozenset({"to", "title"}),
    ),
    Case(
        "request_approval",
        {"title": "Expense 120 EUR", "type": "expense", "data": {"amount": 120}},
        "POST",
        "/v1/mesh/approvals",
        {"type": "expense", "title": "Expense 120 EUR", "body": "", "data": {"amount": 120}},
        "Approval a-1 requested from user:E001: Expense 120 EUR",
        frozenset({"title"}),
    ),
    Case(
        "decide_approval",
        {"approval_id": "a-1", "decision": "approve", "comment": "ok"},
        "POST",
        "/v1/mesh/approvals/a-1/decision",
        {"decision": "approve", "comment": "ok"},
        "Approved approval a-1; it is now approved",
        frozenset({"approval_id", "decision"}),
    ),
    Case(
        "notify",
        {"to": "user:E007", "title": "Filed"},
        "POST",
        "/v1/mesh/notify",
        {"to": "user:E007", "title": "Filed", "body": "", "data": {}},
        "Notified user:E007: Filed",
        frozenset({"to", "title"}),
    ),
    Case(
        "fetch_status",
        {"id": "a-1"},
        "GET",
        "/v1/mesh/status/a-1",
        None,
        "approval a-1 is approved",
        frozenset({"id"}),
    ),
    Case(
        "check_inbox",
        {"wait_seconds": 1, "limit": 5},
        "GET",
        "/v1/mesh/inbox",
        None,
        "1 item(s) in inbox: approval t-42 'Expense for [PERSON_1]' from user:E100",
        frozenset(),
    ),
    Case(
        "reply",
        {"task_id": "t-9", "body": "Reviewed, fine.", "data": {"ok": True}},
        "POST",
        "/v1/mesh/tasks/t-9/reply",
        {"body": "Reviewed, fine.", "data": {"ok": True}},
        "Replied to task t-9",
        frozenset({"task_id", "body"}),
    ),
    Case(
        "list_agents",
        {"role": "legal"},
        "GET",
        "/v1/mesh/agents",
        None,
        "1 active agent(s) with role=legal",
        frozenset(),
    ),
]
IDS = [c.tool for c in CASES]


@pytest.fixture
async def client(settings: AgentSettings) -> AsyncIterator[Client]:
    async with Client(MeshServer(settings).server) as c:
        yield c


def text_of(result: types.CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return first.text


async def test_every_tool_is_listed_with_a_strict_schema(client: Client) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == {c.tool for c in CASES}
    for case in CASES:
        schema = listed[case.tool].input_schema
        assert schema["type"] == "object"
        assert schema.get("additionalProperties") is False, case.tool
        assert set(schema.get("required", [])) == case.required, case.tool
        assert listed[case.tool].description
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{case.tool}.{name} has no description"


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_success_sends_the_api_call_and_summarises(
    client: Client, standin: StandInApi, case: Case
) -> None:
    result = await client.call_tool(case.tool, case.args)

    assert not result.is_error, text_of(result)
    assert text_of(result) == case.summary
    assert isinstance(result.structured_content, dict)
    assert [(r.method, r.path) for r in standin.seen] == [(case.method, case.path)]
    seen = standin.seen[0]
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert len(seen.headers["x-trace-id"]) == 32
    if case.method == "POST":
        assert seen.body == case.body
        assert seen.headers["idempotency-key"]
    else:
        assert "idempotency-key" not in seen.headers


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_4xx_is_reported_and_not_retried(
    client: Client, standin: StandInApi, case: Case
) -> None:
    problem = {
        "type": "https://orgtwin.dev/problems/forbidden-recipient",
        "title": "Forbidden",
        "status": 403,
        "detail": "profile finance may not message role legal",
    }
    standin.script(case.method, case.path, Reply(403, problem))

    result = await client.call_tool(case.tool, case.args)

    assert result.is_error
    assert "403 Forbidden" in text_of(result)
    assert "may not message role legal" in text_of(result)
    assert TOKEN not in text_of(result)
    assert "Traceback" not in text_of(result)
    assert len(standin.seen) == 1


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_5xx_and_429_are_retried_with_the_same_key(
    client: Client, standin: StandInApi, case: Case
) -> None:
    standin.script(
        case.method,
        case.path,
        Reply(503, {"title": "Service Unavailable"}, {"Retry-After": "0"}),
        Reply(500, {"title": "Internal Server Error"}),
        Reply(429, {"title": "Too Many Requests"}, {"Retry-After": "0"}),
    )

    result = await client.call_tool(case.tool, case.args)

    assert not result.is_error, text_of(result)
    assert text_of(result) == case.summary
    assert len(standin.seen) == 4
    keys = {r.headers.get("idempotency-key") for r in standin.seen}
    traces = {r.headers["x-trace-id"] for r in standin.seen}
    assert len(keys) == 1
    assert len(traces) == 1
    if case.method == "POST":
        assert None not in keys


async def test_retries_give_up_with_a_clear_error(client: Client, standin: StandInApi) -> None:
    standin.script("POST", "/v1/mesh/notify", *[Reply(502, {"title": "Bad Gateway"})] * 4)

    result = await client.call_tool("notify", {"to": "manager", "title": "x"})

    assert result.is_error
    assert text_of(result).startswith("Error: the mesh api is unavailable after 4 attempt(s)")
    assert len(standin.seen) == 4


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_missing_token_is_a_tool_error_and_sends_nothing(
    standin: StandInApi, tmp_path: Path, case: Case
) -> None:
    settings = AgentSettings(
        api_url=standin.url, session_token=None, session_token_file=tmp_path / "no-such-file"
    )
    async with Client(MeshServer(settings).server) as client:
        result = await client.call_tool(case.tool, case.args)

    assert result.is_error
    assert "no session token" in text_of(result)
    assert isinstance(result.structured_content, dict)
    assert result.structured_content["error"]["type"] == "missing_token"
    assert standin.seen == []


async def test_token_file_is_read_at_call_time(standin: StandInApi, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    settings = AgentSettings(api_url=standin.url, session_token=None, session_token_file=token_file)
    async with Client(MeshServer(settings).server) as client:
        token_file.write_text("first-token\n")
        await client.call_tool("list_agents", {})
        token_file.write_text("rotated-token\n")
        await client.call_tool("list_agents", {})

    auth = [r.headers["authorization"] for r in standin.seen]
    assert auth == ["Bearer first-token", "Bearer rotated-token"]


async def test_expired_token_reads_as_unauthorized(client: Client, standin: StandInApi) -> None:
    standin.script("GET", "/v1/mesh/inbox", Reply(401, {"title": "Unauthorized"}))

    result = await client.call_tool("check_inbox", {})

    assert result.is_error
    assert isinstance(result.structured_content, dict)
    assert result.structured_content["error"]["type"] == "unauthorized"
    assert len(standin.seen) == 1


async def test_bad_arguments_name_the_field_not_the_value(
    client: Client, standin: StandInApi
) -> None:
    result = await client.call_tool(
        "send_task", {"to": "ceo@example.com", "title": "x", "colour": "red"}
    )

    assert result.is_error
    assert "to:" in text_of(result)
    assert "colour" in text_of(result)
    assert "ceo@example.com" not in text_of(result)
    assert standin.seen == []


async def test_unknown_tool_is_a_tool_error(client: Client) -> None:
    result = await client.call_tool("delete_everything", {})
    assert result.is_error
    assert "no tool named" in text_of(result)


async def test_actions_on_an_inbox_item_continue_its_trace(
    client: Client, standin: StandInApi
) -> None:
    await client.call_tool("check_inbox", {})
    await client.call_tool("decide_approval", {"approval_id": "t-42", "decision": "reject"})
    await client.call_tool("notify", {"to": "manager", "title": "unrelated"})

    traces = [r.headers["x-trace-id"] for r in standin.seen]
    assert traces[1] == TRACE
    assert traces[2] != TRACE


async def test_new_work_that_names_an_inbox_item_joins_its_trace(
    client: Client, standin: StandInApi
) -> None:
    await client.call_tool("check_inbox", {})
    await client.call_tool(
        "request_approval", {"title": "Approve the review", "data": {"task": "t-42"}}
    )
    await client.call_tool("send_task", {"to": "role:legal", "title": "x", "data": {"n": 1}})

    traces = [r.headers["x-trace-id"] for r in standin.seen]
    assert traces[1] == TRACE
    assert traces[2] != TRACE


async def test_env_trace_id_is_passed_through(standin: StandInApi, settings: AgentSettings) -> None:
    fixed = settings.model_copy(update={"trace_id": "feedfacefeedfacefeedfacefeedface"})
    async with Client(MeshServer(fixed).server) as client:
        await client.call_tool("list_agents", {})
        await client.call_tool("send_task", {"to": "manager", "title": "x"})

    assert {r.headers["x-trace-id"] for r in standin.seen} == {"feedfacefeedfacefeedfacefeedface"}


async def test_inbox_lists_only_new_items_unless_asked(client: Client, standin: StandInApi) -> None:
    await client.call_tool("check_inbox", {"wait_seconds": 2})
    standin.script("GET", "/v1/mesh/inbox", Reply(200, {"items": [], "next_cursor": 7}))
    again = await client.call_tool("check_inbox", {})
    await client.call_tool("check_inbox", {"include_seen": True})

    queries = [r.query for r in standin.seen]
    assert queries[0] == {"after": "0", "limit": "20", "timeout": "2"}
    assert queries[1]["after"] == "7"
    assert queries[2]["after"] == "0"
    assert text_of(again) == "No new items in the inbox"


async def test_named_approver_and_reply_with_status(client: Client, standin: StandInApi) -> None:
    await client.call_tool("request_approval", {"title": "Contract", "approver": "E050"})
    done = await client.call_tool("reply", {"task_id": "t-9", "body": "Done.", "status": "done"})

    assert standin.seen[0].body["approver"] == "E050"
    assert [(r.method, r.path, r.body) for r in standin.seen[1:]] == [
        ("POST", "/v1/mesh/tasks/t-9/reply", {"body": "Done.", "data": {}}),
        ("POST", "/v1/mesh/tasks/t-9/status", {"status": "done"}),
    ]
    assert text_of(done) == "Replied to task t-9 and marked it done"
    assert isinstance(done.structured_content, dict)
    assert done.structured_content["status"] == "done"
