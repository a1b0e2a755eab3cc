"""Split-stream test: a placeholder cut at any offset still reaches the client as the original."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import MASKING_KEY, PEOPLE, Proxy
from proxy_helpers import call, user

from orgtwin.core.privacy import Directory, Engine
from orgtwin.testing.upstream import Script, ToolCall

pytestmark = pytest.mark.integration

NAME, EMAIL, _ = PEOPLE[0]
PROMPT = f"Write to {NAME} at {EMAIL}"


def _placeholders() -> tuple[str, str]:
    # Placeholders are deterministic per tenant key, so the test can compute the proxy's.
    engine = Engine(secret=MASKING_KEY.encode(), directory=Directory.from_people(PEOPLE))
    masked = engine.mask(PROMPT)
    by_value = {v: k for k, v in masked.mapping.items()}
    return by_value[NAME], by_value[EMAIL]


PERSON_PH, EMAIL_PH = _placeholders()


def _splits(text: str, *placeholders: str) -> Iterator[tuple[tuple[str, str], object]]:
    """``text`` cut in two at every offset within (and around) each placeholder.

    Yields the two pieces, and which cut it was for the failure message.
    """
    for placeholder in placeholders:
        at = text.index(placeholder)
        for k in range(at, at + len(placeholder) + 1):
            yield (text[:k], text[k:]), (placeholder, k - at)


@pytest.mark.parametrize(
    ("protocol", "field"),
    [
        ("openai", "content"),
        ("anthropic", "content"),
        ("openai", "reasoning_content"),
        ("openai", "reasoning"),
        ("responses", "content"),
        # A Responses reasoning item's summary: the fake streams the reasoning there.
        ("responses", "reasoning"),
    ],
)
def test_text_delta_split_at_every_offset(proxy: Proxy, protocol: str, field: str) -> None:
    """The answer's text; from OpenAI-compatible servers also their reasoning, a third
    text stream restored like the answer."""
    said = f"Done: {PERSON_PH} got it at {EMAIL_PH}."
    expected = f"Done: {NAME} got it at {EMAIL}."
    with proxy.client() as client:
        for chunks, cut in _splits(said, PERSON_PH, EMAIL_PH):
            script = (
                Script(text=said, chunks=chunks)
                if field == "content"
                else Script(
                    text="ok",
                    reasoning=said,
                    reasoning_field=field,  # type: ignore[arg-type]
                    reasoning_chunks=chunks,
                )
            )
            proxy.upstream.script("split", script)
            seen = call(protocol, client, user(PROMPT, protocol, model="split", stream=True))
            if field == "content":
                assert seen.text == expected, cut
            else:
                assert (seen.reasoning, seen.text) == (expected, "ok"), cut


@pytest.mark.parametrize(
    ("protocol", "kind"),
    [
        ("openai", "function"),
        ("openai", "custom"),
        ("openai", "legacy"),
        ("anthropic", "function"),
        ("responses", "function"),
        ("responses", "custom"),
    ],
)
def test_tool_argument_delta_split_at_every_offset(proxy: Proxy, protocol: str, kind: str) -> None:
    """Tool-call arguments; for OpenAI also a legacy function_call, and a custom tool's
    free-text input. That one ends in a placeholder that lost its brackets, so its tail is
    held to the end of the stream (a "]" might still follow) and then restored."""
    expected: object
    if kind == "custom":
        bare = PERSON_PH.strip("[]")
        args, expected = f"send to {EMAIL_PH} for {bare}", f"send to {EMAIL} for {NAME}"
        placeholders = (EMAIL_PH, bare)
    else:
        args = json.dumps({"to": EMAIL_PH, "name": PERSON_PH})
        expected = {"to": EMAIL, "name": NAME}
        placeholders = (EMAIL_PH, PERSON_PH)
    with proxy.client() as client:
        for chunks, cut in _splits(args, *placeholders):
            script = Script(
                text="",
                tool_calls=(ToolCall("send_mail", args, kind),),  # type: ignore[arg-type]
                arg_chunks=chunks,
            )
            proxy.upstream.script("split", script)
            seen = call(protocol, client, user(PROMPT, protocol, model="split", stream=True))
            got = seen.tools[0]["arguments"]
            assert (got if kind == "custom" else json.loads(got)) == expected, cut


def _text_deltas(protocol: str, events: list[dict[str, Any]]) -> list[str]:
    """The non-empty pieces of answer text, one per event, as the client received them."""
    if protocol == "openai":
        pieces = [c["delta"].get("content") for e in events for c in e.get("choices") or []]
    elif protocol == "anthropic":
        pieces = [(e.get("delta") or {}).get("text") for e in events]
    else:
        pieces = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    return [p for p in pieces if p]


@pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])
def test_one_character_events_and_no_event_held_without_placeholders(
    proxy: Proxy, protocol: str
) -> None:
    plain = "Nothing personal in here, just 42 words of text."
    proxy.upstream.script("plain", Script(text=plain, chunk_size=1))
    # A fresh session: placeholders remembered from other tests would add more prefixes.
    with proxy.client(session=f"s-plain-{protocol}") as client:
        seen = call(protocol, client, user(PROMPT, protocol, model="plain", stream=True))
    assert seen.text == plain
    # Every upstream event reached the client, each with its one character: nothing in
    # plain prose can start a placeholder ("[" or an upper-case type name).
    upstream_events = len(plain) + {"openai": 2, "anthropic": 5, "responses": 8}[protocol]
    assert len(seen.events) >= upstream_events
    deltas = _text_deltas(protocol, seen.events)
    assert sum(len(d) == 1 for d in deltas) >= len(plain) - 2

    answer = f"to {EMAIL_PH}!"
    proxy.upstream.script("tiny", Script(text=answer, chunk_size=1))
    with proxy.client() as client:
        seen = call(protocol, client, user(PROMPT, protocol, model="tiny", stream=True))
    assert seen.text == f"to {EMAIL}!"


def test_openai_finish_chunk_carrying_text(proxy: Proxy) -> None:
    # Some providers put the last text in the chunk with finish_reason: what the proxy
    # held back must still come out after that text, not before it.
    # Ending in a bracketless placeholder: it stays held (a "]" might follow) until the
    # stream ends, while the same chunk's earlier text is emitted at once.
    answer = f"Sent to {EMAIL_PH[1:-1]}"
    with proxy.client() as client:
        for k in range(1, len(answer)):
            script = Script(text=answer, chunks=(answer[:k], answer[k:]), finish_with_last=True)
            proxy.upstream.script("finish", script)
            seen = call("openai", client, user(PROMPT, "openai", model="finish", stream=True))
            assert seen.text == f"Sent to {EMAIL}", k
            assert seen.finish == "stop"
