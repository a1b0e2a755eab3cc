"""Per-process proxy state built in the lifespan, and caller authentication."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import httpx
from starlette.datastructures import Headers

from orgtwin.core import tokens
from orgtwin.core.errors import TokenError
from orgtwin.proxy.errors import AuthError
from orgtwin.proxy.kube import ActivityRecorder
from orgtwin.proxy.metrics import Metrics
from orgtwin.proxy.profiles import EngineCache, ProfileSource
from orgtwin.proxy.sessions import SessionCache
from orgtwin.proxy.settings import ProxySettings

log = logging.getLogger("orgtwin.proxy")


def bearer(headers: Headers) -> str:
    """The session token from ``Authorization: Bearer`` (OpenAI clients) or ``x-api-key``."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key", "").strip()


@dataclass(frozen=True)
class UpstreamTarget:
    """Where one provider's calls go: the parsed URL and the headers every call carries."""

    url: httpx.URL
    headers: dict[str, str]


@dataclass
class ProxyState:
    settings: ProxySettings
    client: httpx.AsyncClient
    # The client's transport: the relay sends through it directly (see relay._send).
    transport: httpx.AsyncBaseTransport
    profiles: ProfileSource
    engines: EngineCache
    sessions: SessionCache
    activity: ActivityRecorder
    metrics: Metrics
    signing_key: bytes
    _tasks: set[asyncio.Future[None]] = field(default_factory=set)
    # Verifying the signature on every call costs more than masking a short message.
    _verifier: tokens.Verifier = field(init=False)
    # Per (protocol, provider), built on first use by the relay.
    targets: dict[tuple[str, str], UpstreamTarget] = field(default_factory=dict)
    # The client's timeouts as the request extension httpx's build_request would set.
    timeouts: dict[str, float | None] = field(init=False)

    def __post_init__(self) -> None:
        self.timeouts = self.client.timeout.as_dict()
        self._verifier = tokens.Verifier(self.signing_key, capacity=16384)

    def authenticate(self, headers: Headers) -> tokens.SessionClaims:
        token = bearer(headers)
        if not token:
            raise AuthError("missing session token")
        try:
            claims = self._verifier.verify(token)
        except TokenError as exc:
            # TokenError messages name the problem, never the token.
            raise AuthError(str(exc)) from exc
        if claims.namespace and claims.namespace != self.settings.namespace:
            raise AuthError("session token belongs to another namespace")
        if not self.profiles.session_usable(claims.session):
            raise AuthError("the session is not active")
        return claims

    def touch(self, session: str) -> None:
        """Record activity for the operator's idle timeout, throttled, off the request path."""
        if not self.settings.record_activity or not self.activity.due(session):
            return
        future = asyncio.get_running_loop().run_in_executor(None, self.activity.record, session)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
