"""Turn a bearer token into a Principal: agent session token, dev token or OIDC JWT.

The unverified ``iss`` only routes the token to its verifier; every path then
verifies signature, issuer, audience and expiry. Errors never echo the token.
An agent token that verified is remembered until its ``exp`` (an agent sends the
same token with every mesh call); its session must still be Active on every use.
"""

from __future__ import annotations

import time

import anyio
import jwt

from orgtwin.api import metrics
from orgtwin.api.auth import dev
from orgtwin.api.auth.agents import SessionPhases
from orgtwin.api.auth.principal import Principal
from orgtwin.api.settings import ApiSettings
from orgtwin.core import tokens
from orgtwin.core.errors import TokenError

OIDC_ALGORITHMS = ["RS256", "ES256"]
VERIFIED_AGENT_TOKENS = 4096
"""How many verified agent tokens are remembered; the oldest is forgotten first."""


class Authenticator:
    """Verifies the three kinds of bearer token this api accepts."""

    def __init__(self, settings: ApiSettings, phases: SessionPhases) -> None:
        self.settings = settings
        self.phases = phases
        self.jwks: jwt.PyJWKClient | None = None
        if settings.oidc_jwks_url:
            self.jwks = jwt.PyJWKClient(
                settings.oidc_jwks_url,
                cache_keys=True,
                lifespan=max(settings.oidc_jwks_cache_seconds, 1),
                timeout=5,
                cooldown_duration=settings.oidc_jwks_refresh_cooldown_seconds,
            )
        self._verified: dict[str, tuple[int, Principal]] = {}

    async def authenticate(self, token: str) -> Principal:
        verified = self._verified.get(token)
        if verified is not None:
            if verified[0] > time.time():
                return await self._active(verified[1])
            # Past exp: verify again, so the leeway and the error are the verifier's.
            del self._verified[token]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            metrics.AUTH_FAILURES.labels("malformed").inc()
            raise TokenError("malformed bearer token") from exc
        issuer = unverified.get("iss") if isinstance(unverified, dict) else None
        if issuer == tokens.ISSUER:
            return await self._agent(token)
        if issuer == dev.DEV_ISSUER and self.settings.dev_mode:
            return self._dev(token)
        if self.jwks is not None and issuer == self.settings.oidc_issuer:
            return await self._oidc(token)
        metrics.AUTH_FAILURES.labels("issuer").inc()
        raise TokenError("token issuer is not accepted")

    async def _agent(self, token: str) -> Principal:
        key = self.settings.session_signing_key
        if key is None:
            raise TokenError("agent tokens are not accepted: no session signing key configured")
        try:
            claims = tokens.verify(key.get_secret_value().encode(), token)
        except TokenError:
            metrics.AUTH_FAILURES.labels("agent").inc()
            raise
        if claims.namespace and claims.namespace != self.settings.namespace:
            raise TokenError("session token is for another namespace")
        principal = Principal(
            "agent", claims.session, claims.role, claims.user, None, claims.session, claims.profile
        )
        if len(self._verified) >= VERIFIED_AGENT_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (claims.expires_at, principal)
        return await self._active(principal)

    async def _active(self, principal: Principal) -> Principal:
        """The agent's session must be Active and still belong to the token's user."""
        assert principal.session is not None
        state = await self.phases.state(principal.session)
        if state is None or state.phase != "Active":
            metrics.AUTH_FAILURES.labels("agent_inactive").inc()
            raise TokenError("session is not active")
        if state.user_ref and state.user_ref != principal.user_ref:
            raise TokenError("session token does not match the session's user")
        return principal

    def _dev(self, token: str) -> Principal:
        key = self.settings.dev_signing_key
        assert key is not None
        try:
            employee_id, role = dev.verify(key.get_secret_value().encode(), token)
        except jwt.PyJWTError as exc:
            metrics.AUTH_FAILURES.labels("dev").inc()
            raise TokenError(f"invalid dev token ({type(exc).__name__})") from exc
        return Principal.person(employee_id, "admin" if role == "admin" else "user")

    async def _oidc(self, token: str) -> Principal:
        assert self.jwks is not None
        jwks = self.jwks
        try:
            signing = await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)
            data = jwt.decode(
                token,
                signing.key,
                algorithms=OIDC_ALGORITHMS,
                audience=self.settings.oidc_audience,
                issuer=self.settings.oidc_issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            metrics.AUTH_FAILURES.labels("jwks").inc()
            raise TokenError("signing keys are unavailable") from exc
        except jwt.PyJWTError as exc:
            metrics.AUTH_FAILURES.labels("oidc").inc()
            raise TokenError(f"invalid token ({type(exc).__name__})") from exc
        employee_id = data.get(self.settings.oidc_user_claim)
        if not isinstance(employee_id, str) or not employee_id:
            raise TokenError(f"token lacks the {self.settings.oidc_user_claim} claim")
        roles = data.get(self.settings.oidc_role_claim, [])
        roles = [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else []
        return Principal.person(
            employee_id, "admin" if self.settings.oidc_admin_value in roles else "user"
        )
