"""Per-session tokens: minted by the operator, verified by the api and the proxy.

A session token is a JWT signed with HS256 using the tenant's key from the
Secret ``orgtwin-session-signing`` (key ``signing-key``). docs/tokens.md
describes the format. Verification errors never include the token itself.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

import jwt

from orgtwin.core.errors import TokenError

ISSUER: Final = "orgtwin-operator"
AUDIENCE: Final = "orgtwin-session"
ALGORITHM: Final = "HS256"
MIN_KEY_BYTES: Final = 32


@dataclass(frozen=True)
class SessionClaims:
    """What a session token asserts."""

    session: str
    user: str
    profile: str
    role: str
    namespace: str
    expires_at: int
    issued_at: int = 0
    token_id: str = ""


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise TokenError(f"signing key must be at least {MIN_KEY_BYTES} bytes")


def mint(key: bytes, claims: SessionClaims) -> str:
    """Sign ``claims`` into a compact JWT."""
    _check_key(key)
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": claims.user,
        "sid": claims.session,
        "ns": claims.namespace,
        "profile": claims.profile,
        "role": claims.role,
        "iat": claims.issued_at or int(time.time()),
        "exp": claims.expires_at,
        "jti": claims.token_id or secrets.token_hex(8),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def verify(key: bytes, token: str, *, leeway: float = 5.0) -> SessionClaims:
    """Check signature, issuer, audience and expiry; return the claims."""
    _check_key(key)
    try:
        data = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=leeway,
            options={"require": ["exp", "iat", "sub", "sid", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("session token expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid session token ({type(exc).__name__})") from exc
    try:
        return SessionClaims(
            session=str(data["sid"]),
            user=str(data["sub"]),
            profile=str(data.get("profile", "")),
            role=str(data.get("role", "")),
            namespace=str(data.get("ns", "")),
            expires_at=int(data["exp"]),
            issued_at=int(data["iat"]),
            token_id=str(data.get("jti", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenError("session token has malformed claims") from exc


class Verifier:
    """``verify`` with a memory: a session sends the same token on every call.

    A verified token is remembered until its ``exp`` (checked again on every use);
    after that it is verified anew, so expiry errors stay the verifier's. At most
    ``capacity`` tokens are remembered; the oldest is forgotten first.
    """

    def __init__(self, key: bytes, capacity: int = 4096) -> None:
        self._key = key
        self._capacity = capacity
        self._seen: dict[str, SessionClaims] = {}

    def cached(self, token: str) -> SessionClaims | None:
        """The claims of a token verified before and not yet expired, else None."""
        claims = self._seen.get(token)
        if claims is not None and claims.expires_at <= time.time():
            del self._seen[token]
            return None
        return claims

    def verify(self, token: str) -> SessionClaims:
        claims = self.cached(token)
        if claims is None:
            claims = verify(self._key, token)
            if len(self._seen) >= self._capacity:
                del self._seen[next(iter(self._seen))]
            self._seen[token] = claims
        return claims


def new_signing_key() -> bytes:
    """A fresh random signing key (256 bits), printable so it also travels as an env variable.

    The api and proxy read the key from the environment, where NUL bytes or invalid
    UTF-8 from raw random bytes would break it.
    """
    return secrets.token_urlsafe(32).encode("ascii")
