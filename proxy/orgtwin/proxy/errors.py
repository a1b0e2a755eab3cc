"""Proxy errors and how each protocol shapes them on the wire.

ProxyError                     status + kind; message names types and counts, never values
├── AuthError                  401: missing, invalid or expired session token
├── ForbiddenError             403: the session's profile cannot be used
├── BadRequestError            400: the client's body is not what the protocol expects
├── PolicyRefusedError         400: strict privacy mode found PII (names the types)
└── UpstreamError              502/504/4xx: the provider failed, timed out or refused
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi.responses import JSONResponse

# OpenAI chat completions, Anthropic messages, the OpenAI Responses API.
Protocol = Literal["openai", "anthropic", "responses"]

# Anthropic's error type names for the statuses the proxy produces.
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
}


class ProxyError(Exception):
    """An error the client sees in its own protocol's shape."""

    status = 500
    kind = "proxy_error"

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind


class AuthError(ProxyError):
    status = 401
    kind = "invalid_session_token"


class ForbiddenError(ProxyError):
    status = 403
    kind = "profile_unavailable"


class BadRequestError(ProxyError):
    status = 400
    kind = "invalid_request"


class PolicyRefusedError(ProxyError):
    status = 400
    kind = "pii_refused"


class UpstreamError(ProxyError):
    status = 502
    kind = "upstream_error"


def error_body(protocol: Protocol, err: ProxyError) -> dict[str, Any]:
    if protocol == "anthropic":
        etype = _ANTHROPIC_TYPES.get(err.status, "api_error")
        return {"type": "error", "error": {"type": etype, "message": err.message}}
    etype = "invalid_request_error" if 400 <= err.status < 500 else "api_error"
    if err.status == 401:
        etype = "authentication_error"
    return {"error": {"message": err.message, "type": etype, "code": err.kind, "param": None}}


def error_response(protocol: Protocol, err: ProxyError) -> JSONResponse:
    return JSONResponse(error_body(protocol, err), status_code=err.status)


def error_event(protocol: Protocol, err: ProxyError, sequence_number: int = 0) -> bytes:
    """An in-stream error, as each provider sends one after the stream has started."""
    body = error_body(protocol, err)
    if protocol == "responses":
        # The Responses API's error event, numbered like the rest: its fields at the top,
        # as documented, and as an "error" object too, which clients such as goose read.
        fields = {k: body["error"][k] for k in ("code", "message", "param")}
        body = {
            "type": "error",
            **fields,
            "error": body["error"],
            "sequence_number": sequence_number,
        }
    data = json.dumps(body, separators=(",", ":"))
    if protocol == "openai":
        return f"data: {data}\n\n".encode()
    return f"event: error\ndata: {data}\n\n".encode()
