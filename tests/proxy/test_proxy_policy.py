"""Tool policy: forbidden tools leave the request, forbidden calls in answers are blocked."""

from __future__ import annotations

import logging

import pytest
from conftest import Proxy
from proxy_helpers import call, user

from orgtwin.testing.upstream import Script, ToolCall

pytestmark = pytest.mark.integration

BOTH = pytest.mark.parametrize(
    ("protocol", "stream"),
    [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)],
)


def _tools(protocol: str, names: list[str]) -> list[dict[str, object]]:
    schema = {"type": "object", "properties": {}}
    if protocol == "openai":
        return [{"type": "function", "function": {"name": n, "parameters": schema}} for n in names]
    return [{"name": n, "input_schema": schema} for n in names]


def _names(protocol: str, body: dict[str, object]) -> list[str]:
    tools = body.get("tools") or []
    assert isinstance(tools, list)
    if protocol == "openai":
        return [t["function"]["name"] for t in tools]
    return [t["name"] for t in tools]


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
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


@BOTH
def test_forbidden_tool_call_is_blocked_and_audited(
    proxy: Proxy, protocol: str, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.upstream.script(
        "mixed",
        Script(
            text="Working on it.",
            tool_calls=(ToolCall("shell__run", '{"cmd": "rm -rf /"}'), ToolCall("web", '{"q": 1}')),
        ),
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
        # The allowed call becomes index 0 for the client: indexes stay contiguous.
        indexes = {
            c["index"]
            for e in seen.events
            for ch in e.get("choices", [])
            for c in (ch.get("delta") or {}).get("tool_calls") or []
        }
        assert indexes == {0}


@BOTH
def test_only_forbidden_calls_end_the_turn_normally(
    proxy: Proxy, protocol: str, stream: bool
) -> None:
    proxy.upstream.script("bad", Script(text="", tool_calls=(ToolCall("shell__run", "{}"),)))
    with proxy.client("masked") as client:
        seen = call(protocol, client, user("go", protocol, model="bad", stream=stream))
    assert seen.tools == []
    assert "'shell__run' was blocked" in seen.text
    assert seen.finish in ("stop", "end_turn")
