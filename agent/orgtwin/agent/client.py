"""HTTP client of the mesh api: auth, Idempotency-Key, X-Trace-Id and retries of transient failures.

A POST carries one Idempotency-Key for all its attempts, so a retry after a lost
response is replayed by the api instead of executed twice. Connect errors,
timeouts, 5xx and 429 are retried (honouring Retry-After); any other 4xx is
returned to the caller at once as ``MeshRejectedError``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from orgtwin.agent.errors import MeshAuthError, MeshRejectedError, MeshUnavailableError
from orgtwin.agent.settings import AgentSettings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_DETAIL_CHARS = 300

Sleep = Callable[[float], Awaitable[None]]


def new_trace_id() -> str:
    """A fresh trace id: 32 hex digits, the W3C trace-id shape."""
    return uuid.uuid4().hex


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class MeshClient:
    """Calls the mesh api as this session; one instance per process, shared by every tool."""

    def __init__(
        self,
        settings: AgentSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=settings.api_url.rstrip("/"),
            timeout=settings.request_timeout,
            transport=transport,
            headers={"User-Agent": "orgtwin-mesh-extension/0.1", "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        trace_id: str,
        wait: float | None = None,
    ) -> Any:
        """Send one logical request, retrying transient failures; return the decoded JSON body.

        ``wait`` is how long the server may hold the request (a long poll), added to the timeout.
        """
        token = self._settings.token()
        headers = {"Authorization": f"Bearer {token}", "X-Trace-Id": trace_id}
        if method.upper() == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        attempts = self._settings.max_attempts
        reason = ""
        for attempt in range(1, attempts + 1):
            pause: float | None = None
            try:
                response = await self._http.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=headers,
                    timeout=self._settings.request_timeout + (wait or 0.0),
                )
            except httpx.TransportError as exc:
                # Safe to resend: POSTs carry the same Idempotency-Key on every attempt.
                reason = type(exc).__name__
            else:
                if response.status_code < 400:
                    return _decode(response)
                if response.status_code not in RETRY_STATUSES:
                    raise _rejected(response, token)
                reason = f"HTTP {response.status_code}"
                pause = retry_after_seconds(response.headers.get("Retry-After"))
            log.warning(
                "mesh.retry",
                extra={
                    "fields": {
                        "method": method,
                        "path": path,
                        "attempt": attempt,
                        "reason": reason,
                        "trace_id": trace_id,
                    }
                },
            )
            if attempt < attempts:
                await self._sleep(self._backoff(attempt, pause))
        raise MeshUnavailableError(attempts, reason)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        base = self._settings.backoff_base * (2 ** (attempt - 1))
        wanted = retry_after if retry_after is not None else base
        return min(wanted, self._settings.backoff_max)


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise MeshUnavailableError(1, "the api answered with a body that is not JSON") from exc


def _rejected(response: httpx.Response, token: str) -> MeshRejectedError:
    """A MeshRejectedError from an RFC 9457 problem body, trimmed and scrubbed of the token."""
    title = response.reason_phrase or "error"
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        detail = str(body.get("detail") or "")
        errors = body.get("errors")
        if not detail and isinstance(errors, list) and errors:
            detail = "; ".join(_describe(item) for item in errors[:5])
    detail = _scrub(detail, token)[:MAX_DETAIL_CHARS]
    title = _scrub(title, token)[:MAX_DETAIL_CHARS]
    cls = MeshAuthError if response.status_code in (401, 403) else MeshRejectedError
    return cls(response.status_code, title, detail)


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        where = item.get("field") or item.get("loc") or ""
        message = item.get("message") or item.get("msg") or ""
        return f"{where}: {message}" if where else str(message)
    return str(item)


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "[token]") if token else text
