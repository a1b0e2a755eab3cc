"""Pure ASGI fast path for the three mesh creates, the bulk of the agents' traffic.

FastAPI's routing, exception, exit-stack and dependency layers cost as much CPU per
create as the create itself (a py-spy profile put them at half of it). For a
well-formed request this path calls the same dependency functions and the same
route function directly; the routes stay declared on the app, so OpenAPI, 405s and
every other behaviour are unchanged. Anything it does not answer itself goes to the
app with the body it read, so FastAPI gives its own answer:

    JSON body that is not application/json, malformed or empty   -> the app (422/400)
    bearer token missing or invalid, caller not an agent          -> 401/403 here,
                                                                     in the order FastAPI
                                                                     checks them
    Idempotency-Key or body that fails validation                 -> the app (422)
    errors raised by the route                                    -> errors.render

It runs inside ``RequestMiddleware``, so trace id, body limit, unit of work,
metrics and the access log are the same for both paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from orgtwin.api import deps, errors
from orgtwin.api.idempotency import KEY_MAX_LENGTH, KEY_PATTERN, key_claim
from orgtwin.api.middleware import replaying
from orgtwin.api.routes import mesh
from orgtwin.api.runtime import Runtime
from orgtwin.api.schemas.mesh import ApprovalCreate, NotifyCreate, TaskCreate

_KEY = re.compile(KEY_PATTERN)
_IDEMPOTENCY_KEY = b"idempotency-key"


@dataclass(frozen=True)
class Create:
    """One fast route: its route function and the model of its body."""

    endpoint: Callable[..., Awaitable[Response]]
    body: type[BaseModel]


CREATES: dict[str, Create] = {
    "/v1/mesh/tasks": Create(mesh.send_task, TaskCreate),
    "/v1/mesh/notify": Create(mesh.notify, NotifyCreate),
    "/v1/mesh/approvals": Create(mesh.request_approval, ApprovalCreate),
}


def _json(content_type: str | None, body: bytes) -> Any:
    """The parsed body if FastAPI would parse it the same way, else None (the app decides)."""
    if content_type is None or not body:
        return None
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError: the app's 422/400
        return None


def _key(scope: Scope) -> tuple[bool, str | None]:
    """(valid, key): the first Idempotency-Key header, as FastAPI reads it."""
    for name, value in scope["headers"]:
        if name == _IDEMPOTENCY_KEY:
            key = value.decode("latin-1")
            return len(key) <= KEY_MAX_LENGTH and _KEY.fullmatch(key) is not None, key
    return True, None


class MeshFastPath:
    """Answers well-formed POSTs to the ``CREATES`` routes without FastAPI's layers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The routes as declared (the app includes the mesh router without a prefix), for
        # the metrics' route template.
        self._routes = {
            r.path: r
            for r in mesh.router.routes
            if isinstance(r, APIRoute) and r.path in CREATES and "POST" in (r.methods or ())
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            create = CREATES.get(scope["path"])
            if create is not None:
                await self._create(create, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _create(self, create: Create, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        parsed = _json(request.headers.get("content-type"), raw)
        if parsed is None:
            await self._to_app(scope, raw, receive, send)
            return
        scope["route"] = self._routes.get(scope["path"])
        runtime = request.app.state.runtime
        assert isinstance(runtime, Runtime)
        try:
            credentials = await deps.bearer(request)
            principal = await deps.current_principal(request, runtime, credentials)
            agent = await deps.agent_principal(principal)
            valid, key = _key(scope)
            try:
                body = create.body.model_validate(parsed)
            except ValidationError:
                valid = False
            if not valid:
                await self._to_app(scope, raw, receive, send)
                return
            claim = await key_claim(request, principal, runtime, key)
            response = await create.endpoint(
                request, runtime, agent, str(request.state.trace_id), claim, body
            )
        except Exception as exc:
            rendered = await errors.render(request, exc)
            if rendered is None:
                raise
            response = rendered
        await response(scope, receive, send)

    async def _to_app(self, scope: Scope, raw: bytes, receive: Receive, send: Send) -> None:
        """Let FastAPI answer, with the body this path already read."""
        await self.app(scope, replaying(raw, receive), send)
