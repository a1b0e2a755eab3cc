"""The per-session token Secret and the tenant's signing-key Secret."""

from __future__ import annotations

import base64
from typing import Any

from orgtwin.core import k8s
from orgtwin.operator.builders.meta import MANAGED_BY, SessionContext, session_metadata

TOKEN_KEY = "token"


def token_secret(ctx: SessionContext, token: str) -> dict[str, Any]:
    """The Secret holding the session token: the only credential the agent pod gets."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": session_metadata(ctx, k8s.session_secret_name(ctx.session.name)),
        "type": "Opaque",
        "data": {TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


def signing_secret(namespace: str, key: bytes) -> dict[str, Any]:
    """The tenant's signing key, created only when an install has none yet."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": k8s.SIGNING_SECRET_NAME,
            "namespace": namespace,
            "labels": {k8s.LABEL_MANAGED_BY: MANAGED_BY},
        },
        "type": "Opaque",
        "data": {k8s.SIGNING_SECRET_KEY: base64.b64encode(key).decode()},
    }
