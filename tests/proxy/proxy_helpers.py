"""Client-side helpers: send a request through the proxy and read what a client would see."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Seen:
    """What a client reads from one response, whole or streamed."""

    status: int
    text: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    finish: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    done: bool = False
    # OpenAI-compatible reasoning ("reasoning_content" or "reasoning"), whole or streamed.
    reasoning: str = ""
    # A streamed chat completion's text as goose shows it: see _goose_reads.
    shown: str = ""


def _sse_events(response: httpx.Response) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    name, data = "", []
    for line in response.iter_lines():
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = "", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        events.append((name, "\n".join(data)))
    return events


LEGACY = 1 << 16


def _openai_spec(call: dict[str, Any]) -> dict[str, Any]:
    """A tool call's name and input: ``function.arguments`` or a custom tool's ``input``."""
    spec: dict[str, Any] = call.get("function") or call.get("custom") or {}
    return spec


class _GooseReader:
    """Which streamed chat-completion chunks goose shows the text of.

    As goose's OpenAI format reads a stream (``response_to_streaming_message`` in
    crates/goose/src/providers/formats/openai.rs; goose itself does not run here): from
    the first chunk with tool calls up to a chunk with a finish reason, or without
    choices, every chunk is read for its calls alone and any text in it is dropped.
    """

    def __init__(self) -> None:
        self.calling = False

    def reads(self, chunk: dict[str, Any]) -> bool:
        choices = chunk.get("choices") or []
        if not choices:
            self.calling = False
            return False
        finished = bool(choices[0].get("finish_reason"))
        if self.calling:
            self.calling = not finished
            return False
        if choices[0].get("delta", {}).get("tool_calls"):
            self.calling = not finished
            return False
        return True


def openai(client: httpx.Client, body: dict[str, Any]) -> Seen:
    if not body.get("stream"):
        r = client.post("/v1/chat/completions", json=body)
        data = r.json()
        if r.status_code != 200:
            return Seen(r.status_code, error=data)
        choice = data["choices"][0]
        msg = choice["message"]
        calls = [_openai_spec(c) for c in msg.get("tool_calls") or []]
        if msg.get("function_call"):
            calls.append(msg["function_call"])
        tools = [
            {"name": c["name"], "arguments": c.get("arguments") or c.get("input")} for c in calls
        ]
        reasoning = msg.get("reasoning_content") or msg.get("reasoning") or ""
        text = msg.get("content") or ""
        return Seen(200, text, tools, choice["finish_reason"], [data], reasoning=reasoning)
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            r.read()
            return Seen(r.status_code, error=r.json())
        seen = Seen(200)
        tools: dict[int, dict[str, Any]] = {}
        goose = _GooseReader()
        for _, data in _sse_events(r):
            if data == "[DONE]":
                seen.done = True
                continue
            obj = json.loads(data)
            seen.events.append(obj)
            if "error" in obj:
                seen.error = obj
                continue
            if goose.reads(obj):
                seen.shown += obj["choices"][0]["delta"].get("content") or ""
            for choice in obj.get("choices") or []:
                delta = choice.get("delta") or {}
                seen.text += delta.get("content") or ""
                seen.reasoning += delta.get("reasoning_content") or delta.get("reasoning") or ""
                pieces = [(c["index"], _openai_spec(c)) for c in delta.get("tool_calls") or []]
                if delta.get("function_call"):
                    # A legacy function call: one per answer, after every tool call.
                    pieces.append((LEGACY, delta["function_call"]))
                for index, spec in pieces:
                    entry = tools.setdefault(index, {"name": "", "arguments": ""})
                    entry["name"] += spec.get("name") or ""
                    entry["arguments"] += spec.get("arguments") or spec.get("input") or ""
                if choice.get("finish_reason"):
                    seen.finish = choice["finish_reason"]
        seen.tools = [tools[i] for i in sorted(tools)]
        return seen


def anthropic(client: httpx.Client, body: dict[str, Any]) -> Seen:
    body = {"max_tokens": 64, **body}
    if not body.get("stream"):
        r = client.post("/v1/messages", json=body)
        data = r.json()
        if r.status_code != 200:
            return Seen(r.status_code, error=data)
        text = "".join(b["text"] for b in data["content"] if b["type"] == "text")
        tools = [
            {"name": b["name"], "arguments": json.dumps(b["input"])}
            for b in data["content"]
            if b["type"] == "tool_use"
        ]
        return Seen(200, text, tools, data["stop_reason"], [data])
    with client.stream("POST", "/v1/messages", json=body) as r:
        if r.status_code != 200:
            r.read()
            return Seen(r.status_code, error=r.json())
        seen = Seen(200)
        blocks: dict[int, dict[str, Any]] = {}
        for name, data in _sse_events(r):
            obj = json.loads(data)
            obj["_event"] = name
            seen.events.append(obj)
            kind = obj["type"]
            if kind == "error":
                seen.error = obj
            elif kind == "content_block_start":
                block = obj["content_block"]
                blocks[obj["index"]] = {
                    "type": block["type"],
                    "name": block.get("name", ""),
                    "buf": "",
                }
            elif kind == "content_block_delta":
                delta = obj["delta"]
                blocks[obj["index"]]["buf"] += delta.get("text", delta.get("partial_json", ""))
            elif kind == "message_delta":
                seen.finish = obj["delta"].get("stop_reason")
            elif kind == "message_stop":
                seen.done = True
        for i in sorted(blocks):
            b = blocks[i]
            if b["type"] == "text":
                seen.text += b["buf"]
            else:
                seen.tools.append({"name": b["name"], "arguments": b["buf"]})
        return seen


_CALL_ITEMS = {"function_call": "arguments", "custom_tool_call": "input"}
# A streamed text's or input's ``.done`` event and the field with the whole of it.
_DONE_FIELDS = {
    "response.output_text.done": "text",
    "response.refusal.done": "refusal",
    "response.reasoning_summary_text.done": "text",
    "response.reasoning_text.done": "text",
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
}


def _responses_output(seen: Seen, output: list[dict[str, Any]]) -> None:
    """Text, reasoning and tool calls of a response's output items, as goose reads them."""
    texts = []
    for item in output:
        if item["type"] == "message":
            texts.append("".join(p.get("text") or p.get("refusal") or "" for p in item["content"]))
        elif item["type"] == "reasoning":
            seen.reasoning += "".join(p["text"] for p in item.get("summary") or [])
        elif item["type"] in _CALL_ITEMS:
            value = item[_CALL_ITEMS[item["type"]]]
            seen.tools.append({"name": item["name"], "arguments": value})
    seen.text = "\n".join(texts)
    seen.finish = "tool_calls" if seen.tools else "stop"


def responses(client: httpx.Client, body: dict[str, Any]) -> Seen:
    """An OpenAI Responses call. A stream must be consistent, as goose relies on it: events
    numbered from 0 without gaps, and every ``.done`` text, input and final item equal to
    its deltas. The text and reasoning are the deltas' (goose shows those), the tool
    calls those of the completed response (goose takes them from there)."""
    if not body.get("stream"):
        r = client.post("/v1/responses", json=body)
        data = r.json()
        if r.status_code != 200:
            return Seen(r.status_code, error=data)
        seen = Seen(200, events=[data])
        _responses_output(seen, data["output"])
        return seen
    with client.stream("POST", "/v1/responses", json=body) as r:
        if r.status_code != 200:
            r.read()
            return Seen(r.status_code, error=r.json())
        seen = Seen(200)
        deltas: dict[tuple[str, Any], str] = {}
        for name, data in _sse_events(r):
            obj = json.loads(data)
            assert (obj["type"], obj["sequence_number"]) == (name, len(seen.events)), obj
            seen.events.append(obj)
            kind = obj["type"]
            key = (kind.rsplit(".", 1)[0], obj.get("item_id"))
            if kind == "error":
                seen.error = obj
            elif kind.endswith(".delta"):
                deltas[key] = deltas.get(key, "") + obj["delta"]
            elif kind in _DONE_FIELDS:
                whole = obj[_DONE_FIELDS[kind]]
                assert whole == deltas.get(key, ""), (kind, whole, deltas.get(key))
            elif kind == "response.completed":
                seen.done = True
                _responses_output(seen, obj["response"]["output"])
        streamed = Seen(200)
        for (kind, _), text in deltas.items():
            if kind == "response.output_text":
                streamed.text += ("\n" if streamed.text else "") + text
            elif kind == "response.reasoning_summary_text":
                streamed.reasoning += text
        if seen.done:
            assert (seen.text, seen.reasoning) == (streamed.text, streamed.reasoning)
        seen.text, seen.reasoning = streamed.text, streamed.reasoning
        return seen


def call(protocol: str, client: httpx.Client, body: dict[str, Any]) -> Seen:
    if protocol == "responses":
        return responses(client, body)
    return openai(client, body) if protocol == "openai" else anthropic(client, body)


def last_user_text(protocol: str, body: dict[str, Any]) -> str:
    """The last user message's text in a request body, as the upstream received it."""
    if protocol == "responses":
        return str(body["input"][-1]["content"][0]["text"])
    return str(body["messages"][-1]["content"])


def user(text: str, protocol: str, model: str = "echo", stream: bool = False) -> dict[str, Any]:
    if protocol == "responses":
        message = {"role": "user", "content": [{"type": "input_text", "text": text}]}
        return {"model": model, "stream": stream, "input": [message]}
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
