"""Tool policy: forbidden tools leave the request, forbidden calls in answers are blocked."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import Proxy
from proxy_helpers import call, user

from orgtwin.testing.upstream import Script, ToolCall

pytestmark = pytest.mark.integration

EVERY_WAY = pytest.mark.parametrize(
    ("protocol", "stream"),
    [(p, stream) for p in ("openai", "anthropic", "responses") for stream in (False, True)],
)


def _tools(protocol: str, names: list[str]) -> list[dict[str, object]]:
    schema = {"type": "object", "properties": {}}
    if protocol == "openai":
        return [{"type": "function", "function": {"name": n, "parameters": schema}} for n in names]
    if protocol == "responses":
        return [{"type": "function", "name": n, "parameters": schema} for n in names]
    return [{"name": n, "input_schema": schema} for n in names]


def _names(protocol: str, body: dict[str, object]) -> list[str]:
    tools = body.get("tools") or []
    assert isinstance(tools, list)
    if protocol == "openai":
        return [t["function"]["name"] for t in tools]
    return [t["name"] for t in tools]


@pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])
def test_forbidden_tools_are_removed_from_the_request(proxy: Proxy, protocol: str) -> None:
    body = user("hi", protocol)
    body["tools"] = _tools(protocol, ["mesh__send_task", "mesh__notify", "shell__run", "web"])
    with proxy.client("narrow") as client:
        assert call(protocol, client, body).status == 200
    assert _names(protocol, proxy.upstream.requests[-1].body) == ["mesh__send_task"]
    with proxy.client("masked") as client:
        call(protocol, client, body)
    assert _names(protocol, proxy.upstream.requests[-1].body) == [
        "mesh__send_task",
        "mesh__notify",
        "web",
    ]


@EVERY_WAY
@pytest.mark.parametrize("blocked_first", [True, False])
def test_forbidden_tool_call_is_blocked_and_audited(
    proxy: Proxy,
    protocol: str,
    stream: bool,
    blocked_first: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = (ToolCall("shell__run", '{"cmd": "rm -rf /"}'), ToolCall("web", '{"q": 1}'))
    proxy.upstream.script(
        "mixed",
        Script(text="Working on it.", tool_calls=calls if blocked_first else calls[::-1]),
    )
    with caplog.at_level(logging.INFO), proxy.client("masked") as client:
        seen = call(protocol, client, user("go", protocol, model="mixed", stream=stream))
    assert seen.status == 200
    assert [t["name"] for t in seen.tools] == ["web"]
    assert "Working on it." in seen.text
    assert "'shell__run' was blocked" in seen.text
    assert "rm -rf" not in seen.text
    audits = [r for r in caplog.records if r.getMessage() == "proxy.tool_blocked"]
    assert len(audits) == 1
    assert audits[0].fields["tool"] == "shell__run"  # type: ignore[attr-defined]
    if protocol == "openai" and stream:
        # goose shows the notice also when the blocked call follows an allowed one.
        assert "Working on it." in seen.shown
        assert "'shell__run' was blocked" in seen.shown
        # The allowed call becomes index 0 for the client: indexes stay contiguous.
        indexes = {
            c["index"]
            for e in seen.events
            for ch in e.get("choices", [])
            for c in (ch.get("delta") or {}).get("tool_calls") or []
        }
        assert indexes == {0}


@EVERY_WAY
def test_only_forbidden_calls_end_the_turn_normally(
    proxy: Proxy, protocol: str, stream: bool
) -> None:
    proxy.upstream.script("bad", Script(text="", tool_calls=(ToolCall("shell__run", "{}"),)))
    with proxy.client("masked") as client:
        seen = call(protocol, client, user("go", protocol, model="bad", stream=stream))
    assert seen.tools == []
    assert "'shell__run' was blocked" in seen.text
    assert seen.finish in ("stop", "end_turn")


def test_custom_tools_and_legacy_functions_are_policed_in_the_request(proxy: Proxy) -> None:
    """Every way an OpenAI request offers the model a tool is filtered, not just ``tools``."""
    body = user("hi", "openai")
    body["tools"] = [
        {"type": "custom", "custom": {"name": "shell__run"}},
        {"type": "custom", "custom": {"name": "mesh__send_task"}},
    ]
    body["tool_choice"] = {"type": "custom", "custom": {"name": "shell__run"}}
    body["functions"] = [{"name": "shell__run"}, {"name": "mesh__notify"}]
    body["function_call"] = {"name": "shell__run"}
    with proxy.client("narrow") as client:
        assert call("openai", client, body).status == 200
    sent = proxy.upstream.requests[-1].body
    assert sent["tools"] == [{"type": "custom", "custom": {"name": "mesh__send_task"}}]
    # The choice named a removed tool, and no legacy function is left.
    assert "tool_choice" not in sent
    assert "functions" not in sent
    assert "function_call" not in sent


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("protocol", "kind"), [("openai", "custom"), ("openai", "legacy"), ("responses", "custom")]
)
def test_forbidden_custom_and_legacy_calls_are_blocked(
    proxy: Proxy, protocol: str, kind: str, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(text="On it.", tool_calls=(ToolCall("shell__run", "rm -rf /", kind),))
    proxy.upstream.script("sneaky", script)
    with caplog.at_level(logging.INFO), proxy.client("masked") as client:
        seen = call(protocol, client, user("go", protocol, model="sneaky", stream=stream))
    assert seen.status == 200
    assert seen.tools == []
    assert seen.text.startswith("On it.")
    assert "'shell__run' was blocked" in seen.text
    assert "rm -rf" not in json.dumps(seen.events)
    assert seen.finish == "stop"
    audits = [r for r in caplog.records if r.getMessage() == "proxy.tool_blocked"]
    assert [a.fields["tool"] for a in audits] == ["shell__run"]  # type: ignore[attr-defined]


# How each protocol names a remote MCP server: the field, and what the error names.
_MCP = {
    "anthropic": ("mcp_servers", [{"type": "url", "url": "https://mcp.example/sse", "name": "w"}]),
    "responses": (
        "tools",
        [{"type": "mcp", "server_label": "w", "server_url": "https://x.example"}],
    ),
}


@pytest.mark.parametrize("protocol", sorted(_MCP))
def test_remote_mcp_servers_pass_only_when_every_tool_is_allowed(
    proxy: Proxy, protocol: str
) -> None:
    """The proxy cannot see the names of a remote MCP server's tools, so it cannot police them."""
    field, servers = _MCP[protocol]
    body = {**user("hi", protocol), field: servers}
    with proxy.client("masked") as client:
        refused = call(protocol, client, body)
    assert refused.status == 403
    assert refused.error is not None
    assert "mcp" in refused.error["error"]["message"]
    if protocol == "responses":
        assert refused.error["error"]["code"] == "tool_policy"
    with proxy.client("detect") as client:
        assert call(protocol, client, body).status == 200
    assert proxy.upstream.requests[-1].body[field] == servers


def test_responses_tools_of_every_kind_are_policed_in_the_request(proxy: Proxy) -> None:
    """Function and custom tools by name, hosted tools by their type; the tool choice and
    an allowed-tools subset lose what was removed."""
    body = user("hi", "responses")
    body["tools"] = [
        {"type": "function", "name": "mesh__send_task"},
        {"type": "custom", "name": "shell__run"},
        {"type": "function", "name": "mesh__notify"},
        {"type": "web_search"},
    ]
    body["tool_choice"] = {
        "type": "allowed_tools",
        "mode": "auto",
        "tools": [{"type": "function", "name": "mesh__send_task"}, {"type": "web_search"}],
    }
    with proxy.client("narrow") as client:
        assert call("responses", client, body).status == 200
    sent = proxy.upstream.requests[-1].body
    assert sent["tools"] == [{"type": "function", "name": "mesh__send_task"}]
    assert sent["tool_choice"]["tools"] == [{"type": "function", "name": "mesh__send_task"}]
    body["tool_choice"] = {"type": "custom", "name": "shell__run"}
    with proxy.client("narrow") as client:
        assert call("responses", client, body).status == 200
    assert "tool_choice" not in proxy.upstream.requests[-1].body
