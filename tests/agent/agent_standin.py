"""A scripted stand-in for the orgtwin api's mesh routes, served by uvicorn on 127.0.0.1.

It is not the api: it records every request it receives and answers from a script
(status, JSON body, headers) per ``METHOD path``, falling back to a plausible
success body. Tests use it to see exactly what the extension sent over a real socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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


def default_body(method: str, path: str, body: Any) -> Any:
    """What a healthy api might answer; enough for the extension's summaries."""
    if path == "/v1/mesh/inbox":
        return {
            "items": [
                {
                    "id": "t-42",
                    "kind": "approval",
                    "type": "expense",
                    "title": "Expense for [PERSON_1]",
                    "status": "pending",
                    "trace_id": TRACE,
                }
            ]
        }
    if path == "/v1/mesh/agents":
        agent = {"session": "s-1", "user": "E100", "role": "legal", "department": "Legal"}
        return {"items": [agent]}
    if path.startswith("/v1/mesh/status/"):
        ident = path.rsplit("/", 1)[1]
        return {"id": ident, "kind": "approval", "status": "approved", "trace_id": TRACE}
    if path.endswith("/decision"):
        ident = path.split("/")[-2]
        return {"id": ident, "kind": "approval", "status": (body or {}).get("decision", "") + "d"}
    if path.endswith("/reply") or path.endswith("/status"):
        return {"id": path.split("/")[-2], "kind": "task", "status": "in_progress"}
    if path == "/v1/mesh/approvals":
        return {"id": "a-1", "kind": "approval", "status": "pending", "approver": "E001"}
    if path == "/v1/mesh/notify":
        return {"id": "n-1", "kind": "notification", "status": "delivered"}
    return {"id": "t-1", "kind": "task", "status": "pending", "trace_id": TRACE}


class StandInApi:
    """Start with ``start()``; script with ``script()``; read ``seen``; ``stop()`` at the end."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("stand-in api did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

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
