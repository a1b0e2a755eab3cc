"""A scripted stand-in for the orgtwin api's mesh routes, served by uvicorn on 127.0.0.1.

It is not the api: it records every request it receives and answers from a script
(status, JSON body, headers) per ``METHOD path``, falling back to a plausible
success body. Tests use it to see exactly what the extension sent over a real socket.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgtwin.testing.upstream import ThreadedServer

TRACE = "0af7651916cd43dd8448eb211c80319c"
TOKEN = "eyJ0ZXN0IjoidG9rZW4ifQ.session-token-for-tests.c2lnbmF0dXJl"


@dataclass(frozen=True)
class Seen:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def task_read(ident: str, kind: str = "task", status: str = "open", **extra: Any) -> dict[str, Any]:
    """A TaskRead as ``orgtwin.api.schemas.mesh`` defines it."""
    now = "2026-11-21T20:00:00Z"
    read: dict[str, Any] = {
        "id": ident,
        "seq": 7,
        "kind": kind,
        "type": kind,
        "title": "Expense for [PERSON_1]",
        "body": "",
        "data": {},
        "status": status,
        "sender": {"session": "finance-1", "user_id": "E100", "role": None},
        "recipient": {"session": None, "user_id": "E001", "role": None},
        "trace_id": TRACE,
        "created_at": now,
        "updated_at": now,
        "replies": [],
    }
    read.update(extra)
    return read


def default_body(method: str, path: str, body: Any) -> Any:
    """What a healthy api answers, in the api's wire shapes."""
    if path == "/v1/mesh/inbox":
        return {"items": [task_read("t-42", "approval", "pending")], "next_cursor": 7}
    if path == "/v1/mesh/agents":
        agent = {"session": "s-1", "user_id": "E100", "role": "legal", "department": "Legal"}
        return {"items": [agent], "by_role": {"legal": 1}, "by_department": {"Legal": 1}}
    if path.startswith("/v1/mesh/status/"):
        return task_read(path.rsplit("/", 1)[1], "approval", "approved")
    if path.endswith("/decision"):
        decided = "approved" if (body or {}).get("decision") == "approve" else "rejected"
        return task_read(path.split("/")[-2], "approval", decided)
    if path.endswith("/reply"):
        return task_read(path.split("/")[-2], "task", "open")
    if path.endswith("/status"):
        return task_read(path.split("/")[-2], "task", (body or {}).get("status", "open"))
    if path == "/v1/mesh/approvals":
        return task_read("a-1", "approval", "pending")
    if path == "/v1/mesh/notify":
        return task_read("n-1", "notification", "delivered")
    return task_read("t-1", "task", "open")


class StandInApi(ThreadedServer):
    """Start with ``start()``; script with ``script()``; read ``seen``; ``stop()`` at the end."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        super().__init__(
            Starlette(
                routes=[
                    Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])
                ]
            )
        )

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()
            self._script.clear()

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``METHOD path`` with ``replies``, in order."""
        with self._lock:
            self._script[f"{method} {path}"].extend(replies)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        path = request.url.path
        with self._lock:
            self.seen.append(
                Seen(
                    request.method,
                    path,
                    dict(request.query_params),
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                )
            )
            queue = self._script.get(f"{request.method} {path}")
            reply = queue.popleft() if queue else None
        if reply is None:
            reply = Reply(body=default_body(request.method, path, body))
        media = "application/problem+json" if reply.status >= 400 else "application/json"
        return JSONResponse(
            reply.body if reply.body is not None else {},
            status_code=reply.status,
            headers=reply.headers,
            media_type=media,
        )


class ScriptedLLM(ThreadedServer):
    """A scripted OpenAI chat-completions endpoint that streams in tiny chunks, as a proxy would.

    Each scripted turn is either ``{"content": str}`` or ``{"tool_calls": [(name, args)]}``;
    once the script is used up it answers "Nothing left to do.". Every request body is
    recorded in ``bodies`` with its Authorization header in ``auth``.
    """

    def __init__(self, *turns: dict[str, Any]) -> None:
        self.turns: deque[dict[str, Any]] = deque(turns)
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []
        super().__init__(
            Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        )

    async def _chat(self, request: Request) -> Response:
        self.bodies.append(await request.json())
        self.auth.append(request.headers.get("authorization", ""))
        turn = self.turns.popleft() if self.turns else {"content": "Nothing left to do."}
        return Response(
            "".join(f"data: {json.dumps(c)}\n\n" for c in _chunks(turn)) + "data: [DONE]\n\n",
            media_type="text/event-stream",
        )


def _chunks(turn: dict[str, Any], size: int = 3) -> list[dict[str, Any]]:
    """The turn as OpenAI stream chunks, every string cut into ``size``-character pieces."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c-1", "object": "chat.completion.chunk", "choices": [choice]}

    out = [chunk({"role": "assistant"})]
    text = turn.get("content", "")
    out += [chunk({"content": text[i : i + size]}) for i in range(0, len(text), size)]
    for index, (name, args) in enumerate(turn.get("tool_calls", [])):
        head = {"index": index, "id": f"call_{index}", "type": "function"}
        out.append(chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]}))
        raw = json.dumps(args)
        for i in range(0, len(raw), size):
            part = {"index": index, "function": {"arguments": raw[i : i + size]}}
            out.append(chunk({"tool_calls": [part]}))
    out.append(chunk({}, "tool_calls" if turn.get("tool_calls") else "stop"))
    return out
