"""The Idempotency-Key dependency every POST route carries.

Claims the key inside the request's transaction (see repositories.idempotency);
the request middleware stores the response in the same transaction before commit.
A repeat with the same body gets the stored response and ``Idempotent-Replayed: true``;
with a different body, 422.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response

from orgtwin.api import metrics
from orgtwin.api.deps import CurrentPrincipal, RuntimeDep, SessionDep
from orgtwin.api.errors import IdempotencyMismatchError
from orgtwin.api.repositories import idempotency as repo

REPLAY_HEADER = "Idempotent-Replayed"


class Replay(Exception):  # noqa: N818 - control flow, not an error
    """Raised to short-circuit a request with its stored response."""

    def __init__(self, stored: repo.StoredResponse) -> None:
        super().__init__("replay")
        self.stored = stored


async def idempotency_key(
    request: Request,
    principal: CurrentPrincipal,
    db: SessionDep,
    runtime: RuntimeDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes the POST safe to retry: same key and body replay the response.",
        ),
    ] = None,
) -> None:
    if key is None:
        return
    body_hash = str(request.state.body_sha256)
    ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
    method, path = request.method, request.url.path
    row = await repo.claim(db, principal.caller, method, path, key, body_hash, ttl)
    if row is not None:
        request.state.idempotency_row = row
        return
    stored = await repo.get(db, principal.caller, method, path, key)
    if stored.body_hash != body_hash:
        raise IdempotencyMismatchError("this Idempotency-Key was used with a different body")
    raise Replay(stored)


Idempotent = Depends(idempotency_key)


async def _replay_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    metrics.REPLAYS.inc()
    headers = dict(exc.stored.headers)
    headers.pop("content-length", None)
    headers[REPLAY_HEADER] = "true"
    return Response(exc.stored.body, status_code=exc.stored.status_code or 200, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay_handler)
