"""Caller auth: only a valid, unexpired session token of this namespace gets through."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import NAMESPACE, SIGNING_KEY, Proxy

from orgtwin.core import tokens

pytestmark = pytest.mark.integration

PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
}
BODY = {"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


def _token(
    key: bytes = SIGNING_KEY, ttl: int = 600, namespace: str = NAMESPACE, profile: str = "masked"
) -> str:
    now = int(time.time())
    claims = tokens.SessionClaims("s-1", "u-1", profile, "finance", namespace, now + ttl, now - 600)
    return tokens.mint(key, claims)


CASES = {
    "missing": {},
    "garbage": {"authorization": "Bearer not-a-token"},
    "wrong key": {"authorization": f"Bearer {_token(key=b'x' * 32)}"},
    "expired": {"authorization": f"Bearer {_token(ttl=-300)}"},
    "other namespace": {"authorization": f"Bearer {_token(namespace='globex')}"},
}


@pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_tokens_get_401_in_the_protocol_shape(proxy: Proxy, protocol: str, case: str) -> None:
    headers = CASES[case]
    r = httpx.post(f"{proxy.url}{PATHS[protocol]}", json=BODY, headers=headers)
    assert r.status_code == 401
    body = r.json()
    if protocol != "anthropic":
        assert body["error"]["type"] == "authentication_error"
    else:
        assert body == {
            "type": "error",
            "error": {"type": "authentication_error", "message": body["error"]["message"]},
        }
    token = headers.get("authorization", "").removeprefix("Bearer ")
    assert not token or token not in r.text
    assert proxy.upstream.requests == []


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_token_accepted_as_bearer_or_api_key(proxy: Proxy, header: str) -> None:
    value = _token()
    headers = {header: f"Bearer {value}" if header == "authorization" else value}
    r = httpx.post(f"{proxy.url}/v1/messages", json=BODY, headers=headers)
    assert r.status_code == 200


def test_unknown_profile_is_forbidden(proxy: Proxy) -> None:
    headers = {"authorization": f"Bearer {_token(profile='nope')}"}
    r = httpx.post(f"{proxy.url}/v1/chat/completions", json=BODY, headers=headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "profile_unavailable"


def test_malformed_body_is_a_400(proxy: Proxy) -> None:
    headers = {"authorization": f"Bearer {_token()}", "content-type": "application/json"}
    r = httpx.post(f"{proxy.url}/v1/chat/completions", content=b"{nope", headers=headers)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
