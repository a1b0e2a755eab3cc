"""OpenAI Responses API: restore and police answers, whole or streamed event by event.

goose sends some OpenAI models (gpt-5 codex and the like) to ``/v1/responses``. An
answer is a list of output items: messages (``output_text`` and ``refusal`` parts),
function and custom tool calls, and reasoning (summary and text parts). A stream
announces each item, streams its text in ``*.delta`` events, repeats the whole text in
``*.done`` events, and ends with the whole response in ``response.completed``.

goose shows the text of the deltas and takes tool calls from the final items, so
every copy is restored: deltas incrementally, ``.done`` texts and final items whole.
A forbidden call is replaced by a message item carrying the notice, announced and
streamed like any message. Every event the client receives is numbered again
(``sequence_number``), as the proxy may add events (a held-back tail, a notice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orgtwin.core.privacy import RestoreMap, StreamRestorer
from orgtwin.proxy.policy import ToolRules, blocked_notice

OnBlock = Callable[[str], None]

# The output items that call a tool, and the field that carries the call's input.
CALL_INPUT = {"function_call": "arguments", "custom_tool_call": "input"}

# Streamed text: a delta event -> (its whole-text ``.done`` event, the done event's text
# field, the field that numbers the text within its item).
_DELTAS = {
    "response.output_text.delta": ("response.output_text.done", "text", "content_index"),
    "response.refusal.delta": ("response.refusal.done", "refusal", "content_index"),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "text", "content_index"),
    "response.reasoning_summary_text.delta": (
        "response.reasoning_summary_text.done",
        "text",
        "summary_index",
    ),
}
_DONE = {done: (delta, field, index) for delta, (done, field, index) in _DELTAS.items()}
# A call's input, in pieces; and its ``.done`` event -> (the delta event, the input field).
_FUNCTION_ARGS = "response.function_call_arguments"
_CUSTOM_INPUT = "response.custom_tool_call_input"
_CALL_DONE = {
    f"{_FUNCTION_ARGS}.done": (f"{_FUNCTION_ARGS}.delta", "arguments"),
    f"{_CUSTOM_INPUT}.done": (f"{_CUSTOM_INPUT}.delta", "input"),
}
_CALL_DELTAS = frozenset(delta for delta, _ in _CALL_DONE.values())
# Events that carry a whole part (its text in "text" or "refusal").
_PARTS = (
    "response.content_part.added",
    "response.content_part.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
)
# The events that end a stream, each with the whole response.
FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _restore_fields(obj: Any, names: tuple[str, ...], rmap: RestoreMap) -> None:
    if isinstance(obj, dict):
        for name in names:
            if isinstance(obj.get(name), str):
                obj[name] = rmap.restore(obj[name])


def _restore_parts(parts: Any, rmap: RestoreMap) -> None:
    """Parts in place: typed objects with a text or refusal, or (some servers' reasoning
    summaries) plain strings."""
    if not isinstance(parts, list):
        return
    for i, part in enumerate(parts):
        if isinstance(part, str):
            parts[i] = rmap.restore(part)
        else:
            _restore_fields(part, ("text", "refusal"), rmap)


def _notice_item(item_id: Any, text: str | None) -> dict[str, Any]:
    """The message item that replaces a forbidden call; without text, as first announced."""
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": []}]
    return {
        "id": item_id,
        "type": "message",
        "status": "in_progress" if text is None else "completed",
        "role": "assistant",
        "content": content,
    }


def restore_item(item: Any, rmap: RestoreMap, rules: ToolRules, on_block: OnBlock) -> Any:
    """One whole output item restored; a forbidden call comes back as a notice message."""
    if not isinstance(item, dict):
        return item
    kind = item.get("type")
    if kind in CALL_INPUT:
        name = str(item.get("name", ""))
        if not rules.allows(name):
            on_block(name)
            return _notice_item(item.get("id"), blocked_notice(name))
        field = CALL_INPUT[kind]
        if isinstance(item.get(field), str):
            item[field] = rmap.restore(item[field], json_escape=field == "arguments")
    elif kind == "message":
        _restore_parts(item.get("content"), rmap)
    elif kind == "reasoning":
        _restore_parts(item.get("summary"), rmap)
        _restore_parts(item.get("content"), rmap)
    return item


def _restore_echo(response: dict[str, Any], rmap: RestoreMap) -> None:
    """A response repeats parts of its request as the provider saw them, masked: the
    instructions, the end-user ids, metadata and a stored prompt's variables."""
    _restore_fields(response, ("instructions", "output_text", "user", "safety_identifier"), rmap)
    prompt = response.get("prompt")
    variables = prompt.get("variables") if isinstance(prompt, dict) else None
    for values in (response.get("metadata"), variables):
        if isinstance(values, dict):
            _restore_fields(values, tuple(values), rmap)


def restore_response(
    body: dict[str, Any], rmap: RestoreMap, rules: ToolRules, on_block: OnBlock
) -> dict[str, Any]:
    """Restore a non-streamed response and replace forbidden tool calls by a notice."""
    _restore_echo(body, rmap)
    output = body.get("output")
    if isinstance(output, list):
        body["output"] = [restore_item(item, rmap, rules, on_block) for item in output]
    return body


@dataclass
class _Call:
    blocked: bool
    restorer: StreamRestorer | None


class StreamTransformer:
    """Turns upstream events into client events: restored texts, forbidden calls replaced."""

    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: OnBlock) -> None:
        self._rmap = rmap
        self._rules = rules
        self._on_block = on_block
        self._seq = 0
        # Streamed texts being restored, by (delta event, item id, index).
        self._texts: dict[tuple[str, Any, Any], StreamRestorer] = {}
        # Tool calls by item id: blocked, or restoring their input.
        self._calls: dict[Any, _Call] = {}
        # What the latest event of each item looked like, to shape an added delta event.
        self._where: dict[Any, dict[str, Any]] = {}

    def event(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """One upstream event in, the events to send out (usually exactly one)."""
        kind = str(obj.get("type", ""))
        out: list[dict[str, Any]] = []
        if kind in _DELTAS:
            self._delta(kind, obj, _DELTAS[kind][2])
        elif kind in _DONE:
            delta, field, index = _DONE[kind]
            self._flush_text((delta, obj.get("item_id"), obj.get(index)), obj, out)
            _restore_fields(obj, (field,), self._rmap)
        elif kind in _CALL_DELTAS or kind in _CALL_DONE:
            if not self._call_input(kind, obj, out):
                return self._numbered(out)
        elif kind in _PARTS:
            _restore_fields(obj.get("part"), ("text", "refusal"), self._rmap)
        elif kind == "response.output_item.added":
            return self._numbered(self._added(obj))
        elif kind == "response.output_item.done":
            return self._numbered(self._item_done(obj))
        elif kind in FINAL or kind in ("response.created", "response.in_progress"):
            self._response(obj)
        out.append(obj)
        return self._numbered(out)

    def finish(self) -> list[dict[str, Any]]:
        """The stream ended early: whatever is still held back, as delta events."""
        out: list[dict[str, Any]] = []
        for key in list(self._texts):
            self._flush_text(key, self._where.get(key[1], {}), out)
        for item_id, call in self._calls.items():
            self._flush_call(item_id, call, out)
        return self._numbered(out)

    def next_sequence_number(self) -> int:
        """The number the next event takes: an error event the relay adds, say."""
        self._seq += 1
        return self._seq - 1

    def _numbered(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for ev in events:
            ev["sequence_number"] = self._seq
            self._seq += 1
        return events

    def _delta(self, kind: str, obj: dict[str, Any], index: str) -> None:
        key = (kind, obj.get("item_id"), obj.get(index))
        restorer = self._texts.get(key)
        if restorer is None:
            restorer = self._texts[key] = StreamRestorer(self._rmap)
        self._where[obj.get("item_id")] = obj
        if isinstance(obj.get("delta"), str):
            obj["delta"] = restorer.feed(obj["delta"])

    def _flush_text(self, key: tuple[str, Any, Any], like: dict[str, Any], out: list[Any]) -> None:
        """The held-back tail of one text, as a delta event of its own before ``like``."""
        restorer = self._texts.pop(key, None)
        rest = restorer.flush() if restorer is not None else ""
        if rest:
            where: dict[str, Any] = {k: like[k] for k in ("item_id", "output_index") if k in like}
            where[_DELTAS[key[0]][2]] = key[2]
            out.append({"type": key[0], **where, "delta": rest})

    def _call_input(self, kind: str, obj: dict[str, Any], out: list[Any]) -> bool:
        """Restore a call's input delta or done event; False when the call is blocked."""
        item_id = obj.get("item_id")
        call = self._calls.get(item_id)
        if call is None or call.blocked:
            # Blocked, or never announced, so its tool is unknown: its input stays here.
            # An allowed call still reaches the client whole, in its done item.
            return False
        if kind in _CALL_DELTAS:
            if call.restorer is None:
                json_escape = kind == f"{_FUNCTION_ARGS}.delta"
                call.restorer = StreamRestorer(self._rmap, json_escape=json_escape)
            self._where[item_id] = obj
            if isinstance(obj.get("delta"), str):
                obj["delta"] = call.restorer.feed(obj["delta"])
            return True
        field = _CALL_DONE[kind][1]
        self._flush_call(item_id, call, out)
        if isinstance(obj.get(field), str):
            obj[field] = self._rmap.restore(obj[field], json_escape=field == "arguments")
        return True

    def _flush_call(self, item_id: Any, call: _Call, out: list[Any]) -> None:
        """The held-back tail of a call's input, as a delta event of its own."""
        rest = call.restorer.flush() if call.restorer is not None else ""
        if rest:
            like = self._where[item_id]
            where = {k: like[k] for k in ("item_id", "output_index") if k in like}
            out.append({"type": like["type"], **where, "delta": rest})

    def _decide(self, item: dict[str, Any]) -> _Call:
        """A call is allowed or blocked when first seen, once and for all."""
        item_id = item.get("id")
        call = self._calls.get(item_id)
        if call is None:
            name = str(item.get("name", ""))
            blocked = not self._rules.allows(name)
            if blocked:
                self._on_block(name)
            call = self._calls[item_id] = _Call(blocked, None)
        return call

    def _added(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        item = obj.get("item")
        if not isinstance(item, dict) or item.get("type") not in CALL_INPUT:
            obj["item"] = restore_item(item, self._rmap, self._rules, self._on_block)
            return [obj]
        if not self._decide(item).blocked:
            obj["item"] = restore_item(item, self._rmap, self._rules, self._on_block)
            return [obj]
        # The notice is a message of its own, streamed as one delta: goose shows text
        # from deltas only once any delta has arrived.
        item_id = item.get("id")
        at = {"item_id": item_id, "output_index": obj.get("output_index"), "content_index": 0}
        part = {"type": "output_text", "text": "", "annotations": []}
        notice = blocked_notice(str(item.get("name", "")))
        return [
            {**obj, "item": _notice_item(item_id, None)},
            {"type": "response.content_part.added", **at, "part": part},
            {"type": "response.output_text.delta", **at, "delta": notice},
        ]

    def _item_done(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        item = obj.get("item")
        item_id = item.get("id") if isinstance(item, dict) else None
        call = self._calls.get(item_id)
        out: list[dict[str, Any]] = []
        if call is not None and call.blocked:
            text = blocked_notice(str(item.get("name", "")) if isinstance(item, dict) else "")
            at = {"item_id": item_id, "output_index": obj.get("output_index"), "content_index": 0}
            part = {"type": "output_text", "text": text, "annotations": []}
            out.append({"type": "response.output_text.done", **at, "text": text})
            out.append({"type": "response.content_part.done", **at, "part": part})
            out.append({**obj, "item": _notice_item(item_id, text)})
            return out
        # Texts and inputs whose ``.done`` event never came: their tails go first.
        for key in [k for k in self._texts if k[1] == item_id]:
            self._flush_text(key, self._where.get(item_id, {}), out)
        if call is not None:
            self._flush_call(item_id, call, out)
        obj["item"] = self._policed(item)
        out.append(obj)
        return out

    def _policed(self, item: Any) -> Any:
        """A whole item at the end: blocked as its stream was, else restored."""
        if not isinstance(item, dict) or item.get("type") not in CALL_INPUT:
            return restore_item(item, self._rmap, self._rules, self._on_block)
        if self._decide(item).blocked:
            return _notice_item(item.get("id"), blocked_notice(str(item.get("name", ""))))
        return restore_item(item, self._rmap, self._rules, self._on_block)

    def _response(self, obj: dict[str, Any]) -> None:
        response = obj.get("response")
        if not isinstance(response, dict):
            return
        _restore_echo(response, self._rmap)
        output = response.get("output")
        if isinstance(output, list):
            response["output"] = [self._policed(item) for item in output]
