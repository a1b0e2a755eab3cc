"""OpenAI chat completions: restore and police answers, whole or streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orgtwin.core.privacy import RestoreMap, StreamRestorer
from orgtwin.proxy.policy import ToolRules, blocked_notice

OnBlock = Callable[[str], None]

# Where a call names its tool and carries its input: a function tool call (JSON
# arguments), a custom tool call (free text) or a legacy ``function_call`` message field.
# Answers restore these fields; requests mask them again in the history (masking.py).
CALL_INPUT = {"function": "arguments", "custom": "input", "function_call": "arguments"}


# Where OpenAI-compatible servers (DeepSeek, Ollama, OpenRouter and the like) put a
# model's reasoning; goose shows it, and sends it back as "reasoning_content".
REASONING = ("reasoning_content", "reasoning")


# Delta fields that need more than the text's restorer.
_BESIDE_TEXT = frozenset({*REASONING, "tool_calls", "function_call"})


def _kind(call: dict[str, Any]) -> str:
    """``function`` or ``custom``: the key of a tool call, or of a piece of one, that holds it."""
    kind = call.get("type")
    if kind in ("function", "custom"):
        return str(kind)
    return "custom" if isinstance(call.get("custom"), dict) else "function"


def restore_completion(
    body: dict[str, Any], rmap: RestoreMap, rules: ToolRules, on_block: OnBlock
) -> dict[str, Any]:
    """Restore a non-streamed completion and replace forbidden tool calls by a notice."""
    for choice in body.get("choices") or []:
        msg = choice.get("message") or {}
        for key in ("content", *REASONING):
            if isinstance(msg.get(key), str):
                msg[key] = rmap.restore(msg[key])
        notices: list[str] = []
        calls = msg.get("tool_calls")
        if isinstance(calls, list):
            kept = []
            for call in calls:
                kind = _kind(call)
                notice = _police(call.get(kind), kind, rmap, rules, on_block)
                if notice is None:
                    kept.append(call)
                else:
                    notices.append(notice)
            if kept:
                msg["tool_calls"] = kept
            else:
                msg.pop("tool_calls")
        # Some OpenAI-compatible servers send "function_call": null.
        if isinstance(msg.get("function_call"), dict):
            notice = _police(msg["function_call"], "function_call", rmap, rules, on_block)
            if notice is not None:
                notices.append(notice)
                del msg["function_call"]
        if not notices:
            continue
        text = msg.get("content") or ""
        msg["content"] = "\n".join(filter(None, [text, *notices]))
        calling = choice.get("finish_reason") in ("tool_calls", "function_call")
        if calling and not msg.get("tool_calls") and not msg.get("function_call"):
            choice["finish_reason"] = "stop"
    return body


def _police(
    spec: Any, kind: str, rmap: RestoreMap, rules: ToolRules, on_block: OnBlock
) -> str | None:
    """A whole call: restore its input, or return the notice that replaces it."""
    spec = spec if isinstance(spec, dict) else {}
    name = str(spec.get("name", ""))
    if not rules.allows(name):
        on_block(name)
        return blocked_notice(name)
    field = CALL_INPUT[kind]
    if isinstance(spec.get(field), str):
        spec[field] = rmap.restore(spec[field], json_escape=field == "arguments")
    return None


@dataclass
class _Tool:
    blocked: bool
    client_index: int
    # The key of the deltas that carry this call's input: see CALL_INPUT.
    kind: str
    restorer: StreamRestorer


@dataclass
class _Choice:
    content: StreamRestorer
    tools: dict[int, _Tool] = field(default_factory=dict)
    legacy: _Tool | None = None
    # One restorer per reasoning field in use, until the answer proper starts.
    reasoning: dict[str, StreamRestorer] = field(default_factory=dict)
    allowed: int = 0
    # Tool calls have started: the text before them is over.
    calling: bool = False
    # Notices of blocked calls not sent yet: see StreamTransformer._notices.
    notices: list[str] = field(default_factory=list)
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
        # Chunks that go after this one: notices of blocked calls (rare, hence None).
        after: list[dict[str, Any]] | None = None
        for choice in obj.get("choices") or []:
            index = int(choice.get("index", 0))
            st = self._choice(index)
            delta = choice.get("delta") or {}
            choice["delta"] = delta
            text = delta.get("content")
            if _BESIDE_TEXT.isdisjoint(delta):
                # Most chunks carry text alone: one set test instead of the look-ups below.
                if isinstance(text, str):
                    if st.reasoning and text:
                        _end_reasoning(st, delta)
                    delta["content"] = st.content.feed(text)
            else:
                self._rich(index, st, delta, out)
            if choice.get("finish_reason"):
                # What was held back belongs after what this chunk already carries.
                tail = self._flush(index, st)
                if tail is not None:
                    _merge(delta, tail["choices"][0]["delta"])
                if choice["finish_reason"] in ("tool_calls", "function_call") and not st.allowed:
                    choice["finish_reason"] = "stop"
                notices = self._notices(index, st)
                if notices is not None:
                    after = [*(after or []), notices]
        out.append(obj)
        if after:
            out.extend(after)
        return out

    def _rich(self, index: int, st: _Choice, delta: dict[str, Any], out: list[Any]) -> None:
        """A delta with reasoning or calls, besides or instead of text."""
        for key in REASONING:
            if isinstance(delta.get(key), str):
                self._reason(st, delta, key)
        calls = bool(delta.get("tool_calls")) or isinstance(delta.get("function_call"), dict)
        if st.reasoning and (delta.get("content") or calls):
            # The reasoning is over: what it held back comes before the answer.
            _end_reasoning(st, delta)
        if isinstance(delta.get("content"), str):
            delta["content"] = st.content.feed(delta["content"])
        if calls and not st.calling:
            st.calling = True
            # Clients such as goose read a chunk that starts tool calls for its calls
            # alone: what came before them (reasoning, then text, held-back tails
            # included) goes first, in a chunk of its own.
            before = {k: delta.pop(k) for k in REASONING if delta.get(k)}
            text = (delta.pop("content", None) or "") + st.content.flush()
            if text:
                before["content"] = text
            if before:
                out.append(self._wrap(index, before))
        if delta.get("tool_calls"):
            self._tools(st, delta)
        if isinstance(delta.get("function_call"), dict):
            self._legacy(st, delta)
        if st.notices and not st.allowed:
            # No call has reached the client: the notice stands where the call would have.
            said = (delta.pop("content", None) or "") + st.content.flush()
            delta["content"] = "\n".join(filter(None, [said, *st.notices]))
            st.notices.clear()

    def _reason(self, st: _Choice, delta: dict[str, Any], key: str) -> None:
        restorer = st.reasoning.get(key)
        if restorer is None:
            restorer = st.reasoning[key] = StreamRestorer(self._rmap)
        delta[key] = restorer.feed(delta[key])

    def _tools(self, st: _Choice, delta: dict[str, Any]) -> None:
        kept = []
        for call in delta["tool_calls"]:
            upstream_index = int(call.get("index", 0))
            tool = st.tools.get(upstream_index)
            if tool is None:
                kind = _kind(call)
                tool = st.tools[upstream_index] = self._open(st, delta, kind, call.get(kind))
            if tool.blocked:
                continue
            # Forbidden calls are dropped, so the client's tool indexes stay contiguous.
            call["index"] = tool.client_index
            _feed(tool, call.get(tool.kind))
            kept.append(call)
        if kept:
            delta["tool_calls"] = kept
        else:
            del delta["tool_calls"]

    def _legacy(self, st: _Choice, delta: dict[str, Any]) -> None:
        """A legacy ``function_call``: at most one per choice, policed like a tool call."""
        if st.legacy is None:
            st.legacy = self._open(st, delta, "function_call", delta["function_call"])
        if st.legacy.blocked:
            del delta["function_call"]
        else:
            _feed(st.legacy, delta["function_call"])

    def _open(self, st: _Choice, delta: dict[str, Any], kind: str, spec: Any) -> _Tool:
        """A call's first piece names its tool: decide once whether the call may pass."""
        name = str(spec.get("name", "")) if isinstance(spec, dict) else ""
        blocked = not self._rules.allows(name)
        restorer = StreamRestorer(self._rmap, json_escape=CALL_INPUT[kind] == "arguments")
        tool = _Tool(blocked, st.allowed, kind, restorer)
        if blocked:
            self._on_block(name)
            st.notices.append(blocked_notice(name))
        else:
            st.allowed += 1
        return tool

    def _flush(self, index: int, st: _Choice) -> dict[str, Any] | None:
        st.finished = True
        delta: dict[str, Any] = {}
        _end_reasoning(st, delta)
        text = st.content.flush()
        if text:
            delta["content"] = text
        calls = []
        for tool in st.tools.values():
            if not tool.blocked:
                rest = tool.restorer.flush()
                if rest:
                    calls.append(
                        {"index": tool.client_index, tool.kind: {CALL_INPUT[tool.kind]: rest}}
                    )
        if calls:
            delta["tool_calls"] = calls
        if st.legacy is not None and not st.legacy.blocked:
            rest = st.legacy.restorer.flush()
            if rest:
                delta["function_call"] = {"arguments": rest}
        return self._wrap(index, delta) if delta else None

    def _wrap(self, index: int, delta: dict[str, Any]) -> dict[str, Any]:
        """A chunk of its own for ``delta``, with the id, model and the like of the latest."""
        # Copied only when held-back text is sent on its own, not for every chunk.
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
                notices = self._notices(index, st)
                if notices is not None:
                    out.append(notices)
        return out

    def _notices(self, index: int, st: _Choice) -> dict[str, Any] | None:
        """The notices of calls blocked after an allowed one, in a chunk after the calls.

        Clients such as goose read the chunks from a choice's first tool call up to its
        finish reason for their calls alone, and drop any text in them: a notice sent
        there would never be shown.
        """
        if not st.notices:
            return None
        chunk = self._wrap(index, {"content": "\n".join(st.notices)})
        st.notices.clear()
        return chunk


def _end_reasoning(st: _Choice, delta: dict[str, Any]) -> None:
    """Append what the reasoning restorers hold back to ``delta``; the reasoning is over."""
    for key, restorer in st.reasoning.items():
        rest = restorer.flush()
        if rest:
            delta[key] = (delta.get(key) or "") + rest
    st.reasoning.clear()


def _feed(tool: _Tool, spec: Any) -> None:
    """Restore the piece of a call's input that this delta carries, if any."""
    field = CALL_INPUT[tool.kind]
    if isinstance(spec, dict) and isinstance(spec.get(field), str):
        spec[field] = tool.restorer.feed(spec[field])


def _append(holder: dict[str, Any], kind: str, rest: str) -> None:
    spec = holder.setdefault(kind, {})
    field = CALL_INPUT[kind]
    spec[field] = (spec.get(field) or "") + rest


def _merge(delta: dict[str, Any], tail: dict[str, Any]) -> None:
    """Append flushed text and tool-call inputs to a chunk's delta, in stream order."""
    for key in ("content", *REASONING):
        if tail.get(key):
            delta[key] = (delta.get(key) or "") + tail[key]
    for extra in tail.get("tool_calls") or []:
        calls = delta.setdefault("tool_calls", [])
        same = next((c for c in calls if c.get("index") == extra["index"]), None)
        if same is None:
            calls.append(extra)
            continue
        kind = next(k for k in extra if k != "index")
        _append(same, kind, extra[kind][CALL_INPUT[kind]])
    if tail.get("function_call"):
        _append(delta, "function_call", tail["function_call"]["arguments"])
