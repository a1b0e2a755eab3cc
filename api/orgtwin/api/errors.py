"""The api's errors and their RFC 9457 problem+json rendering.

    OrgtwinError (orgtwin.core.errors)
    ├── InputValidationError      422 invalid-input (lines and fields in ``errors``)
    ├── NotFoundError             404 not-found
    ├── ConflictError             409 conflict
    │   └── InvalidTransitionError  409 invalid-transition (``allowed_events``)
    ├── TokenError                401 unauthenticated
    └── ApiError
        ├── ForbiddenError            403 forbidden
        ├── PayloadTooLargeError      413 payload-too-large
        ├── IdempotencyMismatchError  422 idempotency-key-reused
        └── UnavailableError          503 dependency-unavailable (``Retry-After``)

Details name fields, lines and kinds, never values: a value may be PII or a secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orgtwin.core.errors import (
    ConflictError,
    InputValidationError,
    NotFoundError,
    OrgtwinError,
    TokenError,
)

log = logging.getLogger("orgtwin.api")
PROBLEM_BASE = "https://orgtwin.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ApiError(OrgtwinError):
    """Base of the api's own errors."""

    status = 400
    slug = "bad-request"


class ForbiddenError(ApiError):
    status = 403
    slug = "forbidden"


class PayloadTooLargeError(ApiError):
    status = 413
    slug = "payload-too-large"


class IdempotencyMismatchError(ApiError):
    status = 422
    slug = "idempotency-key-reused"


class UnavailableError(ApiError):
    """A dependency (postgres or kubernetes) cannot be reached; the client should retry."""

    status = 503
    slug = "dependency-unavailable"

    def __init__(self, dependency: str, retry_after: int = 2) -> None:
        super().__init__(f"{dependency} is unavailable; retry later")
        self.dependency = dependency
        self.retry_after = retry_after


class InvalidTransitionError(ConflictError):
    """A session event that the state machine does not allow now."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Render one problem as application/problem+json."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path if request is not None else "",
        "trace_id": getattr(request.state, "trace_id", "") if request is not None else "",
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _for_orgtwin(request: Request, exc: OrgtwinError) -> Response:
    detail = str(exc)
    if isinstance(exc, InvalidTransitionError):
        return problem_response(
            409,
            "invalid-transition",
            "Invalid transition",
            detail,
            request,
            allowed_events=exc.allowed,
        )
    if isinstance(exc, InputValidationError):
        errors = [{"field": p.field, "message": p.message, "line": p.line} for p in exc.problems]
        return problem_response(
            422, "invalid-input", "Invalid input", detail, request, errors=errors
        )
    if isinstance(exc, NotFoundError):
        return problem_response(404, "not-found", "Not found", detail, request)
    if isinstance(exc, ConflictError):
        return problem_response(409, "conflict", "Conflict", detail, request)
    if isinstance(exc, TokenError):
        return problem_response(
            401,
            "unauthenticated",
            "Unauthenticated",
            detail,
            request,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, UnavailableError):
        return problem_response(
            503,
            exc.slug,
            "Service unavailable",
            detail,
            request,
            headers={"Retry-After": str(exc.retry_after)},
            dependency=exc.dependency,
        )
    if isinstance(exc, ApiError):
        return problem_response(
            exc.status, exc.slug, exc.slug.replace("-", " ").capitalize(), detail, request
        )
    return problem_response(400, "bad-request", "Bad request", detail, request)


async def _orgtwin_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OrgtwinError)
    return _for_orgtwin(request, exc)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Field locations and messages only: pydantic's `input` echoes the submitted value.
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return problem_response(
        422, "invalid-input", "Invalid input", "the request is not valid", request, errors=errors
    )


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
        exc.status_code, "http-error"
    )
    return problem_response(
        exc.status_code,
        slug,
        slug.replace("-", " ").capitalize(),
        str(exc.detail),
        request,
        headers=dict(exc.headers) if exc.headers else None,
    )


def is_db_unavailable(exc: BaseException) -> bool:
    """Connection-level database trouble: the client should retry, not see a 500.

    SQLAlchemy's wrappers for the engine's sessions, psycopg's own errors for the
    statement pool (db.StatementPool).
    """
    if isinstance(
        exc,
        (
            OperationalError,
            InterfaceError,
            PoolTimeoutError,
            psycopg.OperationalError,
            psycopg.InterfaceError,
        ),
    ):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def _db_handler(request: Request, exc: Exception) -> Response:
    if is_db_unavailable(exc):
        log.warning("db.unavailable", extra={"fields": {"error_type": type(exc).__name__}})
        return _for_orgtwin(request, UnavailableError("postgres"))
    if isinstance(exc, (DataError, psycopg.DataError)):
        # A value Postgres refuses (a NUL in a query parameter, a number out of range):
        # the request's fault. Request bodies are checked before this (schemas.common).
        log.info("db.data_error", extra={"fields": {"error_type": type(exc).__name__}})
        return problem_response(
            422,
            "invalid-input",
            "Invalid input",
            "the request is not valid",
            request,
            errors=[{"field": "request", "message": "contains a value Postgres cannot store"}],
        )
    log.error("db.error", extra={"fields": {"error_type": type(exc).__name__}})
    return problem_response(500, "internal", "Internal error", "", request)


Handler = Callable[[Request, Exception], Awaitable[Response]]
HANDLERS: dict[type[Exception], Handler] = {
    OrgtwinError: _orgtwin_handler,
    RequestValidationError: _validation_handler,
    StarletteHTTPException: _http_handler,
    DBAPIError: _db_handler,
    PoolTimeoutError: _db_handler,
    psycopg.Error: _db_handler,
}


def install(app: FastAPI) -> None:
    """Map every error class to problem+json in one place."""
    for cls, handler in HANDLERS.items():
        app.add_exception_handler(cls, handler)


async def render(request: Request, exc: Exception) -> Response | None:
    """The response the app's handlers give ``exc``, for code that runs ahead of them.

    Looked up along the class's MRO, as Starlette does; None if no handler takes it.
    """
    for cls in type(exc).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return await handler(request, exc)
    return None
