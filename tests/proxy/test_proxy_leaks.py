"""Leak property test: random conversations with PII in every slot; the upstream sees none of it.

Slots: system prompt, messages (strings and parts), tool arguments, tool results, and
the fields that carry text beside them: OpenAI participant names, refusals, reasoning,
predicted output and end-user identifiers; Anthropic documents, search results and
metadata; Responses instructions, reasoning summaries, custom tool calls and their outputs,
prompt variables and end-user identifiers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Proxy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seeds import ALL_SEEDS, phrase

pytestmark = pytest.mark.integration

WORDS = ["please", "check", "the", "invoice", "for", "and", "reply", "to", "meeting", "at", "42"]
SEPARATORS = [" ", ", ", "\n", "; ", " (", ") "]


@st.composite
def texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Filler words with 1-3 seeded values at random places; returns the text and its seeds."""
    seeds = draw(st.lists(st.sampled_from(ALL_SEEDS), min_size=1, max_size=3))
    parts: list[str] = []
    for seed in seeds:
        parts.extend(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
        parts.append(phrase(seed))
    parts.extend(draw(st.lists(st.sampled_from(WORDS), max_size=3)))
    out = ""
    for part in parts:
        out += part + draw(st.sampled_from(SEPARATORS))
    return out, seeds


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _openai_body(slots: list[str], parts: bool, stream: bool) -> dict[str, Any]:
    system, first, assistant, args, result, last, identity, attachment = slots
    content: Any = [{"type": "text", "text": first}] if parts else first
    earlier: Any = [{"type": "refusal", "refusal": assistant}] if parts else assistant
    return {
        "model": "echo",
        "stream": stream,
        # The caller's end-user identifiers, and a predicted output.
        "user": identity,
        "safety_identifier": identity,
        "metadata": {"ticket": attachment},
        "prediction": {"type": "content", "content": attachment},
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "name": identity, "content": content},
            # goose sends a reasoning model's reasoning back as "reasoning_content".
            {
                "role": "assistant",
                "content": None,
                "refusal": attachment,
                "reasoning_content": assistant,
                "reasoning": attachment,
                "function_call": {"name": "lookup", "arguments": json.dumps({"q": args})},
            },
            {
                "role": "assistant",
                "content": earlier,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"q": args})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": result},
            # A custom tool's call: free-text input, restored in the answer that made it.
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c2", "type": "custom", "custom": {"name": "shell", "input": args}}
                ],
            },
            {"role": "tool", "tool_call_id": "c2", "content": result},
            {"role": "user", "content": last},
        ],
    }


def _anthropic_body(slots: list[str], parts: bool, stream: bool) -> dict[str, Any]:
    system, first, assistant, args, result, last, identity, attachment = slots
    source: dict[str, Any] = (
        {"type": "content", "content": [{"type": "text", "text": attachment}]}
        if parts
        else {"type": "text", "media_type": "text/plain", "data": attachment}
    )
    return {
        "model": "echo",
        "stream": stream,
        "max_tokens": 16,
        "metadata": {"user_id": identity},
        "system": [{"type": "text", "text": system}] if parts else system,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": first}] if parts else first},
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": source, "title": identity, "context": first},
                    {
                        "type": "search_result",
                        "source": "https://wiki.example/" + identity,
                        "title": identity,
                        "content": [{"type": "text", "text": attachment}],
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": assistant},
                    {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": args}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": result if parts else [{"type": "text", "text": result}],
                    },
                    {"type": "text", "text": last},
                ],
            },
        ],
    }


def _responses_body(slots: list[str], parts: bool, stream: bool) -> dict[str, Any]:
    system, first, assistant, args, result, last, identity, attachment = slots
    output: Any = [{"type": "input_text", "text": result}] if parts else result

    def message(role: str, text: str, kind: str = "input_text") -> dict[str, Any]:
        return {"role": role, "content": [{"type": kind, "text": text}] if parts else text}

    return {
        "model": "echo",
        "stream": stream,
        "instructions": system,
        "user": identity,
        "safety_identifier": identity,
        "metadata": {"ticket": attachment},
        "prompt": {"id": "pmpt_1", "variables": {"customer": identity}},
        # As goose sends a conversation: the system prompt is the first input item.
        "input": [
            message("system", system),
            message("user", first),
            {**message("assistant", assistant, "output_text"), "type": "message"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": attachment}],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "lookup",
                "arguments": json.dumps({"q": args}),
            },
            {"type": "function_call_output", "call_id": "c1", "output": output},
            {"type": "custom_tool_call", "call_id": "c2", "name": "shell", "input": args},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": output},
            message("user", last),
        ],
    }


_BODIES = {
    "openai": (_openai_body, "/v1/chat/completions"),
    "anthropic": (_anthropic_body, "/v1/messages"),
    "responses": (_responses_body, "/v1/responses"),
}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    protocol=st.sampled_from(sorted(_BODIES)),
    slots=st.lists(texts(), min_size=8, max_size=8),
    parts=st.booleans(),
    stream=st.booleans(),
)
def test_upstream_never_receives_a_seeded_value(
    proxy_server: Proxy,
    protocol: str,
    slots: list[tuple[str, list[str]]],
    parts: bool,
    stream: bool,
) -> None:
    proxy = proxy_server
    proxy.upstream.reset()
    texts_only = [t for t, _ in slots]
    last = texts_only[5]
    seeded = {s for _, seeds in slots for s in seeds}
    make, path = _BODIES[protocol]
    body = make(texts_only, parts, stream)
    with proxy.client() as client:
        response = client.post(path, json=body)
    assert response.status_code == 200
    received = proxy.upstream.requests[-1]
    haystack = "\n".join([received.raw.decode(), *_strings(received.body)])
    # Tool arguments travel as JSON text inside JSON: look inside those too.
    leaked = sorted(s for s in seeded if s in haystack)
    assert leaked == []
    # The echo comes back restored: the user sees the original last message.
    if not stream:
        data = response.json()
        if protocol == "openai":
            assert data["choices"][0]["message"]["content"] == last
        elif protocol == "responses":
            assert data["output"][0]["content"][0]["text"] == last
        else:
            assert data["content"][0]["text"] == last
