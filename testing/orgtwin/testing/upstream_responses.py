"""The fake provider's OpenAI Responses API answers, whole and as event streams.

The stream follows the API's event order: the response is created, then each output
item (reasoning, message, tool calls) is announced, its text or input streamed in
``*.delta`` events and repeated whole in ``*.done`` events, and the response completes
with every item. Every event is numbered (``sequence_number``), as the API numbers them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

CallKind = Literal["function", "custom", "legacy"]


@dataclass(frozen=True)
class Call:
    """A tool call of the answer: its name, kind, and its input in the pieces to stream."""

    name: str
    kind: CallKind
    pieces: list[str]


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of a Responses request's ``input``."""
    items = body.get("input")
    if isinstance(items, str):
        return items
    for item in reversed(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        return "".join(
            p.get("text", "")
            for p in content or []
            if isinstance(p, dict) and p.get("type") == "input_text"
        )
    return ""


def _reasoning_item(text: str) -> dict[str, Any]:
    return {"id": "rs_0", "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def _message_item(text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {
        "id": "msg_0",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }


def _call_item(i: int, call: Call, done: bool = True) -> dict[str, Any]:
    value = "".join(call.pieces) if done else ""
    status = "completed" if done else "in_progress"
    common = {"id": f"fc_{i}", "status": status, "call_id": f"call_{i}", "name": call.name}
    if call.kind == "custom":
        return {"type": "custom_tool_call", **common, "input": value}
    return {"type": "function_call", **common, "arguments": value}


def _response(model: str, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": 0,
        "status": status,
        "model": model,
        "output": output,
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    }


def _items(text: list[str], reasoning: list[str], calls: list[Call]) -> list[dict[str, Any]]:
    items = [_reasoning_item("".join(reasoning))] if reasoning else []
    if text or not calls:
        items.append(_message_item("".join(text)))
    items.extend(_call_item(i, call) for i, call in enumerate(calls))
    return items


def whole(model: str, text: list[str], reasoning: list[str], calls: list[Call]) -> dict[str, Any]:
    """A non-streamed response."""
    return _response(model, _items(text, reasoning, calls), "completed")


def events(model: str, text: list[str], reasoning: list[str], calls: list[Call]) -> list[bytes]:
    """A streamed response, one SSE event per list entry."""
    out: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(model, [], "in_progress")},
        {"type": "response.in_progress", "response": _response(model, [], "in_progress")},
    ]
    items = _items(text, reasoning, calls)
    # The calls are the last items, in order.
    first_call = len(items) - len(calls)
    for index, item in enumerate(items):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            out.extend(_texts(at, item, "reasoning_summary", "summary_index", reasoning))
        elif item["type"] == "message":
            out.extend(_texts(at, item, "content", "content_index", text))
        else:
            number = index - first_call
            out.extend(_call(at, number, item, calls[number]))
    out.append({"type": "response.completed", "response": _response(model, items, "completed")})
    return [_sse(ev, n) for n, ev in enumerate(out)]


def _texts(
    at: dict[str, Any], item: dict[str, Any], part_kind: str, index: str, pieces: list[str]
) -> list[dict[str, Any]]:
    """An item whose one part streams text: a message's output text, a reasoning summary."""
    whole_text = "".join(pieces)
    is_message = part_kind == "content"
    parts = "content" if is_message else "summary"
    part = dict(item[parts][0])
    empty = {**item, parts: [], "status": "in_progress"} if is_message else {**item, parts: []}
    texts = "response.output_text" if is_message else "response.reasoning_summary_text"
    part_events = "response.content_part" if is_message else "response.reasoning_summary_part"
    where = {**at, index: 0}
    return [
        {"type": "response.output_item.added", "output_index": at["output_index"], "item": empty},
        {"type": f"{part_events}.added", **where, "part": {**part, "text": ""}},
        *({"type": f"{texts}.delta", **where, "delta": piece} for piece in pieces),
        {"type": f"{texts}.done", **where, "text": whole_text},
        {"type": f"{part_events}.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": at["output_index"], "item": item},
    ]


def _call(at: dict[str, Any], number: int, item: dict[str, Any], call: Call) -> list[Any]:
    kind, field = (
        ("response.custom_tool_call_input", "input")
        if call.kind == "custom"
        else ("response.function_call_arguments", "arguments")
    )
    return [
        {
            "type": "response.output_item.added",
            "output_index": at["output_index"],
            "item": _call_item(number, call, done=False),
        },
        *({"type": f"{kind}.delta", **at, "delta": piece} for piece in call.pieces),
        {"type": f"{kind}.done", **at, field: item[field]},
        {"type": "response.output_item.done", "output_index": at["output_index"], "item": item},
    ]


def _sse(event: dict[str, Any], number: int) -> bytes:
    data = json.dumps({**event, "sequence_number": number}, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()
