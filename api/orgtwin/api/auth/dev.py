"""Dev-mode tokens: HS256 JWTs from a local key, for demos; refused in production settings."""

from __future__ import annotations

import time
from typing import Final

import jwt

DEV_ISSUER: Final = "orgtwin-dev"
DEV_AUDIENCE: Final = "orgtwin-api"


def mint(key: bytes, employee_id: str, role: str, ttl_seconds: int = 8 * 3600) -> str:
    now = int(time.time())
    payload = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": employee_id,
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(payload, key, algorithm="HS256")


def verify(key: bytes, token: str) -> tuple[str, str]:
    """(employee_id, role) of a valid dev token; raises jwt.PyJWTError otherwise."""
    data = jwt.decode(
        token,
        key,
        algorithms=["HS256"],
        audience=DEV_AUDIENCE,
        issuer=DEV_ISSUER,
        options={"require": ["exp", "iat", "sub"]},
    )
    return str(data["sub"]), str(data.get("role", "user"))
