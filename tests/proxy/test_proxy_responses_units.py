"""The Responses stream transformer on event orders the scripted upstream does not send.

Providers may leave out ``.done`` events, or send a call whose ``output_item.added``
never came: what the client gets must still be restored, numbered and policed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orgtwin.core.privacy import RestoreMap
from orgtwin.proxy.errors import UpstreamError, error_event
from orgtwin.proxy.policy import ToolRules
from orgtwin.proxy.responses_protocol import StreamTransformer, restore_response

pytestmark = pytest.mark.unit

EMAIL_PH, EMAIL = "[EMAIL_7K2Q9D]", "jane@acme.example"
RULES = ToolRules(("*",), ("shell__*",))


def _run(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    blocked: list[str] = []
    t = StreamTransformer(RestoreMap({EMAIL_PH: EMAIL}), RULES, blocked.append)
    out = [o for ev in events for o in t.event(ev)]
    return [*out, *t.finish()], blocked


def _message(text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {"id": "msg_1", "type": "message", "role": "assistant", "content": [part]}


def test_a_tail_held_back_comes_out_before_its_item_ends_without_done_events() -> None:
    at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    said = f"write to {EMAIL_PH[:-1]}"
    events = [
        {"type": "response.output_item.added", "output_index": 0, "item": _message("")},
        {"type": "response.output_text.delta", **at, "delta": said[:12]},
        {"type": "response.output_text.delta", **at, "delta": said[12:]},
        {"type": "response.output_item.done", "output_index": 0, "item": _message(said)},
    ]
    out, _ = _run(events)
    deltas = [e["delta"] for e in out if e["type"] == "response.output_text.delta"]
    # The bracket-less placeholder is held to the item's end, then restored.
    assert "".join(deltas) == f"write to {EMAIL}"
    assert out[-1]["type"] == "response.output_item.done"
    assert out[-1]["item"]["content"][0]["text"] == f"write to {EMAIL}"
    assert [e["sequence_number"] for e in out] == list(range(len(out)))


def test_a_call_never_announced_is_policed_by_its_final_item_and_audited_once() -> None:
    call = {"id": "fc_1", "type": "function_call", "call_id": "c1", "name": "shell__run"}
    events = [
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "rm"},
        {"type": "response.output_item.done", "item": {**call, "arguments": '"rm"'}},
        {"type": "response.completed", "response": {"output": [{**call, "arguments": '"rm"'}]}},
    ]
    out, blocked = _run(events)
    # Its input was never forwarded: the tool was unknown when it arrived.
    assert [e["type"] for e in out] == ["response.output_item.done", "response.completed"]
    assert out[0]["item"]["type"] == "message"
    assert "'shell__run' was blocked" in out[0]["item"]["content"][0]["text"]
    assert out[1]["response"]["output"][0]["type"] == "message"
    assert "rm" not in str(out)
    assert blocked == ["shell__run"]


def test_an_allowed_call_never_announced_reaches_the_client_restored_in_its_item() -> None:
    call = {"id": "fc_1", "type": "function_call", "call_id": "c1", "name": "send"}
    arguments = f'{{"to": "{EMAIL_PH}"}}'
    events = [
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": arguments},
        {"type": "response.output_item.done", "item": {**call, "arguments": arguments}},
    ]
    out, blocked = _run(events)
    assert [e["type"] for e in out] == ["response.output_item.done"]
    assert out[0]["item"]["arguments"] == f'{{"to": "{EMAIL}"}}'
    assert blocked == []


def test_whole_response_restores_every_text_including_plain_string_summaries() -> None:
    body: dict[str, Any] = {
        "instructions": f"help {EMAIL_PH}",
        # What the response repeats of its request, as the provider saw it.
        "user": EMAIL_PH,
        "metadata": {"ticket": f"for {EMAIL_PH}"},
        "prompt": {"id": "pmpt_1", "variables": {"who": EMAIL_PH}},
        "output": [
            {"id": "rs_1", "type": "reasoning", "summary": [f"mail {EMAIL_PH}"]},
            _message(f"sent to {EMAIL_PH}"),
        ],
    }
    restored = restore_response(body, RestoreMap({EMAIL_PH: EMAIL}), RULES, [].append)
    assert restored["instructions"] == f"help {EMAIL}"
    assert (restored["user"], restored["metadata"]) == (EMAIL, {"ticket": f"for {EMAIL}"})
    assert restored["prompt"]["variables"] == {"who": EMAIL}
    assert restored["output"][0]["summary"] == [f"mail {EMAIL}"]
    assert restored["output"][1]["content"][0]["text"] == f"sent to {EMAIL}"


def test_in_stream_error_event_has_the_documented_fields_and_an_error_object() -> None:
    raw = error_event("responses", UpstreamError("the upstream timed out", kind="timeout"), 7)
    name, data = raw.decode().strip().split("\n")
    event = json.loads(data.removeprefix("data: "))
    assert name == "event: error"
    assert (event["type"], event["code"], event["sequence_number"]) == ("error", "timeout", 7)
    assert event["error"]["message"] == event["message"] == "the upstream timed out"


# Every streamed text of the Responses API: (delta event, done event, done field, index).
_STREAMS = [
    ("response.output_text.delta", "response.output_text.done", "text", "content_index"),
    ("response.refusal.delta", "response.refusal.done", "refusal", "content_index"),
    ("response.reasoning_text.delta", "response.reasoning_text.done", "text", "content_index"),
    (
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "text",
        "summary_index",
    ),
]


@pytest.mark.parametrize(("delta", "done", "field", "index"), _STREAMS)
def test_every_streamed_text_is_restored_for_a_split_at_every_offset(
    delta: str, done: str, field: str, index: str
) -> None:
    said = f"mail {EMAIL_PH} now"
    at = {"item_id": "it_1", "output_index": 0, index: 0}
    for k in range(len(said) + 1):
        events = [
            {"type": delta, **at, "delta": said[:k]},
            {"type": delta, **at, "delta": said[k:]},
            {"type": done, **at, field: said},
        ]
        out, _ = _run(events)
        streamed = "".join(e["delta"] for e in out if e["type"] == delta)
        assert (streamed, out[-1][field]) == (f"mail {EMAIL} now",) * 2, k
