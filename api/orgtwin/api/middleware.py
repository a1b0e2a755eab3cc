"""Pure ASGI middleware: trace ids, access log and metrics, body limits, and the unit of work.

The unit of work gives each /v1 request one database session, opened when a
route first asks for it (deps.request_session). The response is buffered; the
transaction commits (with the idempotency record of a keyed POST) before the first
byte goes out, so an acknowledged write is a committed write, and a request that
fails with 4xx/5xx leaves nothing behind. Routes whose write is a single statement
(repositories.mesh_create) need no session: the statement is its own transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgtwin.api import metrics
from orgtwin.api.db import Database
from orgtwin.api.errors import PROBLEM_BASE, PROBLEM_JSON, is_db_unavailable
from orgtwin.api.repositories import idempotency as idem_repo

log = logging.getLogger("orgtwin.api.access")
TRACE_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    trace_id: str,
    path: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[Message, Message]:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
            "trace_id": trace_id,
        },
        separators=(",", ":"),
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    )


class RequestMiddleware:
    """Trace id, body limit and hash, unit of work, metrics and one access log line."""

    def __init__(self, app: ASGIApp, db: Database, max_body: int, max_import: int) -> None:
        self.app = app
        self.db = db
        self.max_body = max_body
        self.max_import = max_import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-trace-id", b"").decode("latin-1")
        trace_id = given if TRACE_RE.match(given) else secrets.token_hex(16)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["trace_id"] = trace_id
        path: str = scope["path"]
        status_holder = [500]

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-trace-id", trace_id.encode()),
                ]
            await send(message)

        try:
            if path.startswith("/v1/"):
                await self._unit_of_work(scope, receive, send_traced, state, headers, trace_id)
            else:
                await self.app(scope, receive, send_traced)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics.observe_request(scope["method"], template, status_holder[0], elapsed)
            if not path.startswith(("/healthz", "/metrics")):
                log.info(
                    "http.request",
                    extra={
                        "fields": {
                            "trace_id": trace_id,
                            "method": scope["method"],
                            "route": template,
                            "status": status_holder[0],
                            "ms": round(elapsed * 1000, 2),
                        }
                    },
                )

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _unit_of_work(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: dict[str, Any],
        headers: dict[bytes, bytes],
        trace_id: str,
    ) -> None:
        path: str = scope["path"]
        limit = self.max_import if path == "/v1/org/import" else self.max_body
        declared = headers.get(b"content-length", b"")
        body = (
            None
            if declared.isdigit() and int(declared) > limit
            else await self._read_body(receive, limit)
        )
        if body is None:
            for m in _problem(
                413,
                "payload-too-large",
                "Payload too large",
                f"the body exceeds {limit} bytes",
                trace_id,
                path,
            ):
                await send(m)
            return
        state["body_sha256"] = hashlib.sha256(body).hexdigest()
        replay_receive = replaying(body, receive)

        start: Message | None = None
        parts: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        state["db_sessions"] = self.db.sessions
        try:
            try:
                await self.app(scope, replay_receive, buffer)
                assert start is not None
                content = b"".join(parts)
                session = state.get("db")
                if start["status"] < 400:
                    if session is not None:
                        row_id = state.get("idempotency_row")
                        if row_id is not None:
                            await idem_repo.complete(
                                session,
                                row_id,
                                start["status"],
                                _replayable_headers(start),
                                content,
                            )
                        await session.commit()
                    for callback in state.get("after_commit", ()):
                        callback()
                elif session is not None:
                    await session.rollback()
            except Exception as exc:
                await _safe_rollback(state.get("db"))
                if not is_db_unavailable(exc):
                    raise
                log.warning(
                    "db.unavailable",
                    extra={"fields": {"trace_id": trace_id, "error_type": type(exc).__name__}},
                )
                for m in _problem(
                    503,
                    "dependency-unavailable",
                    "Service unavailable",
                    "postgres is unavailable; retry later",
                    trace_id,
                    path,
                    [(b"retry-after", b"2")],
                ):
                    await send(m)
                return
        finally:
            session = state.get("db")
            if session is not None:
                await session.close()
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over ``body``, already read, once; then the real messages."""
    delivered = False

    async def again() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _replayable_headers(start: Message) -> dict[str, str]:
    keep = {b"content-type", b"location"}
    return {k.decode(): v.decode("latin-1") for k, v in start.get("headers", []) if k in keep}


async def _safe_rollback(session: Any) -> None:
    if session is None:
        return
    try:
        await session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the pool discards it
        log.debug("db.rollback_failed")
