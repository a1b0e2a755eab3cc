"""OpenAI chat completions: restore and police answers, whole or streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orgtwin.core.privacy import RestoreMap, StreamRestorer
from orgtwin.proxy.policy import ToolRules, blocked_notice

OnBlock = Callable[[str], None]


def restore_completion(
    body: dict[str, Any], rmap: RestoreMap, rules: ToolRules, on_block: OnBlock
) -> dict[str, Any]:
    """Restore a non-streamed completion and replace forbidden tool calls by a notice."""
    for choice in body.get("choices") or []:
        msg = choice.get("message") or {}
        if isinstance(msg.get("content"), str):
            msg["content"] = rmap.restore(msg["content"])
        calls = msg.get("tool_calls")
        if not isinstance(calls, list):
            continue
        kept, notices = [], []
        for call in calls:
            fn = call.get("function") or {}
            name = str(fn.get("name", ""))
            if not rules.allows(name):
                on_block(name)
                notices.append(blocked_notice(name))
                continue
            if isinstance(fn.get("arguments"), str):
                fn["arguments"] = rmap.restore(fn["arguments"], json_escape=True)
            kept.append(call)
        if notices:
            text = msg.get("content") or ""
            msg["content"] = "\n".join(filter(None, [text, *notices]))
        if kept:
            msg["tool_calls"] = kept
        else:
            msg.pop("tool_calls", None)
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"
    return body


@dataclass
class _Tool:
    blocked: bool
    client_index: int
    restorer: StreamRestorer


@dataclass
class _Choice:
    content: StreamRestorer
    tools: dict[int, _Tool] = field(default_factory=dict)
    allowed: int = 0
    finished: bool = False


class StreamTransformer:
    """Turns upstream chunks into client chunks: restored deltas, forbidden tools blocked."""

    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: OnBlock) -> None:
        self._rmap = rmap
        self._rules = rules
        self._on_block = on_block
        self._choices: dict[int, _Choice] = {}
        # The latest upstream chunk: its id, model and the like wrap flushed text.
        self._last: dict[str, Any] = {}

    def _choice(self, index: int) -> _Choice:
        st = self._choices.get(index)
        if st is None:
            st = self._choices[index] = _Choice(StreamRestorer(self._rmap))
        return st

    def chunk(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """One upstream chunk in, the chunks to send out (usually exactly one)."""
        self._last = obj
        out: list[dict[str, Any]] = []
        for choice in obj.get("choices") or []:
            index = int(choice.get("index", 0))
            st = self._choice(index)
            delta = choice.get("delta") or {}
            choice["delta"] = delta
            if isinstance(delta.get("content"), str):
                delta["content"] = st.content.feed(delta["content"])
            if delta.get("tool_calls"):
                self._tools(st, delta)
            if choice.get("finish_reason"):
                # What was held back belongs after what this chunk already carries.
                tail = self._flush(index, st)
                if tail is not None:
                    _merge(delta, tail["choices"][0]["delta"])
                if choice["finish_reason"] == "tool_calls" and st.allowed == 0:
                    choice["finish_reason"] = "stop"
        out.append(obj)
        return out

    def _tools(self, st: _Choice, delta: dict[str, Any]) -> None:
        kept = []
        for call in delta["tool_calls"]:
            upstream_index = int(call.get("index", 0))
            tool = st.tools.get(upstream_index)
            fn = call.get("function") or {}
            if tool is None:
                name = str(fn.get("name", ""))
                blocked = not self._rules.allows(name)
                tool = _Tool(blocked, st.allowed, StreamRestorer(self._rmap, json_escape=True))
                st.tools[upstream_index] = tool
                if blocked:
                    self._on_block(name)
                    # What the model said before the tool call comes first, then the notice.
                    before = (delta.get("content") or "") + st.content.flush()
                    delta["content"] = before + ("\n" if before else "") + blocked_notice(name)
                else:
                    st.allowed += 1
            if tool.blocked:
                continue
            # Forbidden calls are dropped, so the client's tool indexes stay contiguous.
            call["index"] = tool.client_index
            if isinstance(fn.get("arguments"), str):
                fn["arguments"] = tool.restorer.feed(fn["arguments"])
            kept.append(call)
        if kept:
            delta["tool_calls"] = kept
        else:
            del delta["tool_calls"]

    def _flush(self, index: int, st: _Choice) -> dict[str, Any] | None:
        st.finished = True
        delta: dict[str, Any] = {}
        text = st.content.flush()
        if text:
            delta["content"] = text
        calls = []
        for tool in st.tools.values():
            if not tool.blocked:
                rest = tool.restorer.flush()
                if rest:
                    calls.append({"index": tool.client_index, "function": {"arguments": rest}})
        if calls:
            delta["tool_calls"] = calls
        if not delta:
            return None
        # Copied only when text is flushed, not for every chunk.
        extra = {k: v for k, v in self._last.items() if k not in ("choices", "usage")}
        extra["choices"] = [{"index": index, "delta": delta, "finish_reason": None}]
        return extra

    def finish(self) -> list[dict[str, Any]]:
        """The stream ended: whatever is still held back, for choices that never finished."""
        out = []
        for index, st in self._choices.items():
            if not st.finished:
                tail = self._flush(index, st)
                if tail is not None:
                    out.append(tail)
        return out


def _merge(delta: dict[str, Any], tail: dict[str, Any]) -> None:
    """Append flushed text and tool-call arguments to a chunk's delta, in stream order."""
    if tail.get("content"):
        delta["content"] = (delta.get("content") or "") + tail["content"]
    for extra in tail.get("tool_calls") or []:
        calls = delta.setdefault("tool_calls", [])
        same = next((c for c in calls if c.get("index") == extra["index"]), None)
        if same is None:
            calls.append(extra)
            continue
        fn = same.setdefault("function", {})
        fn["arguments"] = (fn.get("arguments") or "") + extra["function"]["arguments"]
