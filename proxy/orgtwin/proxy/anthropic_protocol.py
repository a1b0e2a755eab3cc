"""Anthropic messages: restore and police answers, whole or streamed event by event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orgtwin.core.privacy import RestoreMap, StreamRestorer
from orgtwin.proxy.masking import mask_tree
from orgtwin.proxy.policy import ToolRules, blocked_notice

OnBlock = Callable[[str], None]
Out = tuple[str, dict[str, Any]]


def restore_message(
    body: dict[str, Any], rmap: RestoreMap, rules: ToolRules, on_block: OnBlock
) -> dict[str, Any]:
    """Restore a non-streamed message and replace forbidden tool_use blocks by a notice."""
    content = body.get("content")
    if not isinstance(content, list):
        return body
    allowed = 0
    blocked = 0
    for i, block in enumerate(content):
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            block["text"] = rmap.restore(block["text"])
        elif kind == "tool_use":
            name = str(block.get("name", ""))
            if rules.allows(name):
                block["input"] = mask_tree(block.get("input", {}), rmap.restore)
                allowed += 1
            else:
                on_block(name)
                blocked += 1
                content[i] = {"type": "text", "text": blocked_notice(name)}
    if blocked and not allowed and body.get("stop_reason") == "tool_use":
        body["stop_reason"] = "end_turn"
    return body


class StreamTransformer:
    """Turns upstream events into client events: restored deltas, forbidden tools blocked."""

    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: OnBlock) -> None:
        self._rmap = rmap
        self._rules = rules
        self._on_block = on_block
        self._blocks: dict[int, tuple[str, StreamRestorer]] = {}
        self._blocked: set[int] = set()
        self._allowed_tools = 0

    def event(self, name: str, obj: dict[str, Any]) -> list[Out]:
        kind = obj.get("type", name)
        index = int(obj.get("index", 0))
        if kind == "content_block_start":
            return self._start(name, index, obj)
        if kind == "content_block_delta":
            if index in self._blocked:
                return []
            delta = obj.get("delta") or {}
            entry = self._blocks.get(index)
            if entry is not None:
                field = "text" if delta.get("type") == "text_delta" else "partial_json"
                if isinstance(delta.get(field), str):
                    delta[field] = entry[1].feed(delta[field])
            return [(name, obj)]
        if kind == "content_block_stop":
            return [*self._flush(index), (name, obj)]
        if kind == "message_delta":
            delta = obj.get("delta") or {}
            if delta.get("stop_reason") == "tool_use" and self._blocked and not self._allowed_tools:
                delta["stop_reason"] = "end_turn"
        return [(name, obj)]

    def _start(self, name: str, index: int, obj: dict[str, Any]) -> list[Out]:
        block = obj.get("content_block") or {}
        if block.get("type") == "tool_use":
            tool = str(block.get("name", ""))
            if not self._rules.allows(tool):
                self._on_block(tool)
                self._blocked.add(index)
                obj["content_block"] = {"type": "text", "text": ""}
                notice = {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": blocked_notice(tool)},
                }
                return [(name, obj), ("content_block_delta", notice)]
            self._allowed_tools += 1
            self._blocks[index] = ("json", StreamRestorer(self._rmap, json_escape=True))
        elif block.get("type") == "text":
            restorer = StreamRestorer(self._rmap)
            self._blocks[index] = ("text", restorer)
            if isinstance(block.get("text"), str):
                block["text"] = restorer.feed(block["text"])
        return [(name, obj)]

    def _flush(self, index: int) -> list[Out]:
        entry = self._blocks.pop(index, None)
        if entry is None:
            return []
        kind, restorer = entry
        rest = restorer.flush()
        if not rest:
            return []
        delta = (
            {"type": "text_delta", "text": rest}
            if kind == "text"
            else {"type": "input_json_delta", "partial_json": rest}
        )
        return [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        ]

    def finish(self) -> list[Out]:
        out: list[Out] = []
        for index in list(self._blocks):
            out.extend(self._flush(index))
        return out
