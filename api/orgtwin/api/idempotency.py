"""The Idempotency-Key header every POST route carries.

``Idempotent`` claims the key inside the request's transaction (see
repositories.idempotency); the request middleware stores the response in the same
transaction before commit. ``DeferredKey`` only reads the header, for the routes that
claim the key in the same statement as their write (repositories.mesh_create).
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
from orgtwin.api.repositories.idempotency import KeyClaim, StoredResponse

REPLAY_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
KEY_PATTERN = r"^[\x21-\x7e]+$"
"""Printable ASCII without spaces, 1 to ``KEY_MAX_LENGTH`` characters."""


class Replay(Exception):  # noqa: N818 - control flow, not an error
    """Raised to short-circuit a request with its stored response."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("replay")
        self.stored = stored


async def key_claim(
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=KEY_MAX_LENGTH,
            pattern=KEY_PATTERN,
            description="Makes the POST safe to retry: same key and body replay the response.",
        ),
    ] = None,
) -> KeyClaim | None:
    if key is None:
        return None
    return KeyClaim(
        caller=principal.caller,
        method=request.method,
        path=request.scope["path"],
        key=key,
        body_hash=str(request.state.body_sha256),
        ttl=timedelta(hours=runtime.settings.idempotency_ttl_hours),
    )


DeferredKey = Annotated[KeyClaim | None, Depends(key_claim)]


async def idempotency_key(request: Request, claim: DeferredKey, db: SessionDep) -> None:
    if claim is None:
        return
    row = await repo.claim(db, claim)
    if row is not None:
        request.state.idempotency_row = row
        return
    stored = await repo.get(db, claim)
    if stored.body_hash != claim.body_hash:
        raise IdempotencyMismatchError("this Idempotency-Key was used with a different body")
    raise Replay(stored)


Idempotent = Depends(idempotency_key)


def replay_response(stored: StoredResponse) -> Response:
    metrics.REPLAYS.inc()
    headers = dict(stored.headers)
    headers.pop("content-length", None)
    headers[REPLAY_HEADER] = "true"
    return Response(stored.body, status_code=stored.status_code or 200, headers=headers)


async def _replay_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return replay_response(exc.stored)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay_handler)
