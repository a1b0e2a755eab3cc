"""Turn a bearer token into a Principal: agent session token, dev token or OIDC JWT.

The unverified ``iss`` only routes the token to its verifier; every path then
verifies signature, issuer, audience and expiry. Errors never echo the token.
An agent token that verified is remembered until its ``exp`` (an agent sends the
same token with every mesh call); its session must still be Active on every use.
"""

from __future__ import annotations

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
        key = settings.session_signing_key
        self._agents = tokens.Verifier(key.get_secret_value().encode()) if key else None

    async def authenticate(self, token: str) -> Principal:
        claims = self._agents.cached(token) if self._agents else None
        if claims is not None:
            return await self._active(claims)
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
        if self._agents is None:
            raise TokenError("agent tokens are not accepted: no session signing key configured")
        try:
            claims = self._agents.verify(token)
        except TokenError:
            metrics.AUTH_FAILURES.labels("agent").inc()
            raise
        return await self._active(claims)

    async def _active(self, claims: tokens.SessionClaims) -> Principal:
        """Checked on every use, remembered token or not: namespace, session Active, user."""
        if claims.namespace and claims.namespace != self.settings.namespace:
            raise TokenError("session token is for another namespace")
        state = await self.phases.state(claims.session)
        if state is None or state.phase != "Active":
            metrics.AUTH_FAILURES.labels("agent_inactive").inc()
            raise TokenError("session is not active")
        if state.user_ref and state.user_ref != claims.user:
            raise TokenError("session token does not match the session's user")
        return Principal(
            "agent", claims.session, claims.role, claims.user, None, claims.session, claims.profile
        )

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
