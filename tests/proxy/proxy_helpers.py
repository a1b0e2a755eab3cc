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
        for _, data in _sse_events(r):
            if data == "[DONE]":
                seen.done = True
                continue
            obj = json.loads(data)
            seen.events.append(obj)
            if "error" in obj:
                seen.error = obj
                continue
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


def call(protocol: str, client: httpx.Client, body: dict[str, Any]) -> Seen:
    return openai(client, body) if protocol == "openai" else anthropic(client, body)


def user(text: str, protocol: str, model: str = "echo", stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
