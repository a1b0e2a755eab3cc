"""A minimal OpenAI chat-completions streaming client, speaking to the privacy proxy as goose does.

goose's OpenAI provider always streams; ``stream_chat`` sends one request with the
session token as the bearer key and folds the SSE deltas (content and tool-call
fragments, split anywhere) back into one assistant message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from orgtwin.agent.errors import AgentError


class LLMError(AgentError):
    """The proxy or the provider behind it failed; the message names status and type only."""

    kind = "llm"


@dataclass
class ToolCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class Reply:
    """One assistant turn, reassembled from the stream."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    events: int = 0

    def as_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        return message


def _fold(reply: Reply, calls: dict[int, ToolCall], chunk: dict[str, Any]) -> None:
    if isinstance(chunk.get("error"), dict):
        kind = chunk["error"].get("type") or chunk["error"].get("code") or "error"
        raise LLMError(f"the model stream ended with an error ({kind})")
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if isinstance(delta.get("content"), str):
            reply.content += delta["content"]
        for part in delta.get("tool_calls") or []:
            call = calls.setdefault(int(part.get("index", 0)), ToolCall())
            call.id = part.get("id") or call.id
            function = part.get("function") or {}
            call.name += function.get("name") or ""
            call.arguments += function.get("arguments") or ""
        if choice.get("finish_reason"):
            reply.finish_reason = choice["finish_reason"]


async def stream_chat(http: httpx.AsyncClient, url: str, token: str, body: dict[str, Any]) -> Reply:
    """POST a streaming chat completion and return the reassembled assistant message."""
    reply = Reply()
    calls: dict[int, ToolCall] = {}
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with http.stream("POST", url, json={**body, "stream": True}, headers=headers) as resp:
        if resp.status_code >= 400:
            await resp.aread()
            kind = ""
            try:
                error = resp.json().get("error", {})
                kind = str(error.get("type") or error.get("code") or "")
            except (ValueError, AttributeError):
                pass
            raise LLMError(f"the proxy answered {resp.status_code}{f' ({kind})' if kind else ''}")
        async for line in resp.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise LLMError("the model stream carried an event that is not JSON") from exc
            reply.events += 1
            _fold(reply, calls, chunk)
    reply.tool_calls = [calls[i] for i in sorted(calls)]
    return reply
