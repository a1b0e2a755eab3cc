"""Small units of the proxy: SSE parsing across reads, tool globs, session cache bounds,
null call fields."""

from __future__ import annotations

import pytest

from orgtwin.core.privacy import RestoreMap
from orgtwin.proxy.openai_protocol import restore_completion
from orgtwin.proxy.policy import ToolRules
from orgtwin.proxy.sessions import SessionCache
from orgtwin.proxy.sse import Event, SSEParser

pytestmark = pytest.mark.unit

STREAM = (
    'event: content_block_delta\r\ndata: {"text": "caf\u00e9 \u2603"}\r\n\r\n'
    ": keep-alive comment\n\n"
    "data: line one\ndata: line two\n\n"
    "data: [DONE]\n\n"
).encode()
EXPECTED = [
    Event("content_block_delta", '{"text": "caf\u00e9 \u2603"}'),
    Event("", "line one\nline two"),
    Event("", "[DONE]"),
]


def test_sse_parser_is_exact_for_every_read_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        parser = SSEParser()
        events = parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:])
        assert events == EXPECTED, cut
        assert not parser.has_partial


def test_sse_parser_byte_by_byte() -> None:
    parser = SSEParser()
    events = [e for i in range(len(STREAM)) for e in parser.feed(STREAM[i : i + 1])]
    assert events == EXPECTED


def test_sse_parser_reports_a_cut_event() -> None:
    parser = SSEParser()
    parser.feed(b'data: {"half":')
    assert parser.has_partial


@pytest.mark.parametrize(
    ("allow", "deny", "name", "allowed"),
    [
        (["*"], [], "anything", True),
        (["*"], ["shell__*"], "shell__run", False),
        (["mesh__*"], [], "web_search", False),
        (["mesh__*"], ["mesh__notify"], "mesh__notify", False),
        (["mesh__*"], ["mesh__notify"], "mesh__send_task", True),
        ([], [], "x", False),
    ],
)
def test_tool_rules(allow: list[str], deny: list[str], name: str, allowed: bool) -> None:
    assert ToolRules(tuple(allow), tuple(deny)).allows(name) is allowed


def test_session_cache_is_bounded() -> None:
    cache = SessionCache(max_sessions=2, max_entries=3)
    cache.remember("a", {f"[E_{i}]": str(i) for i in range(5)})
    assert cache.get("a") == {"[E_2]": "2", "[E_3]": "3", "[E_4]": "4"}
    cache.remember("b", {"[E_X]": "x"})
    cache.get("a")  # touch a: b is now least recently used
    cache.remember("c", {"[E_Y]": "y"})
    assert cache.get("b") == {}
    assert len(cache) == 2


def test_null_call_fields_of_compatible_servers_are_not_calls() -> None:
    """Some OpenAI-compatible servers send ``"function_call": null``: nothing to block."""
    blocked: list[str] = []
    message = {"role": "assistant", "content": "hi", "function_call": None, "tool_calls": None}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    restored = restore_completion(body, RestoreMap({}), ToolRules(("mesh__*",)), blocked.append)
    assert restored["choices"][0]["message"]["content"] == "hi"
    assert blocked == []
