"""Proxy fixtures: the scripted upstream and the proxy, both on real 127.0.0.1 sockets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from orgtwin.core import tokens
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.proxy.app import create_app
from orgtwin.proxy.profiles import StaticProfiles
from orgtwin.proxy.settings import ProxySettings
from orgtwin.testing.upstream import FakeUpstream, ThreadedServer

SIGNING_KEY = b"s" * 32
MASKING_KEY = "m" * 32
NAMESPACE = "acme"
UPSTREAM_OPENAI_KEY = "upstream-openai-key-123"
UPSTREAM_ANTHROPIC_KEY = "upstream-anthropic-key-456"

# People in the org directory: their names, emails and ids must never reach the upstream.
PEOPLE = [
    ("Margarethe Vandersloot", "m.vandersloot@acme.example", "EMP-77120"),
    ("Oluwaseun Adebayo-Kerr", "seun.ak@acme.example", "EMP-77121"),
]


def _profile(
    mode: str, allow: list[str] | None = None, deny: list[str] | None = None
) -> AgentProfileSpec:
    return AgentProfileSpec.model_validate(
        {
            "role": "finance",
            "model": {"provider": "openai", "name": "gpt-test"},
            "privacy": {"mode": mode},
            "tools": {"allow": allow or ["*"], "deny": deny or []},
        }
    )


PROFILES = {
    "masked": _profile("mask", deny=["shell__*"]),
    "detect": _profile("detect"),
    "strict": _profile("strict"),
    "off": _profile("off"),
    "narrow": _profile("mask", allow=["mesh__*"], deny=["mesh__notify"]),
}


@dataclass
class Proxy:
    server: ThreadedServer
    upstream: FakeUpstream
    namespace: str = NAMESPACE

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, profile: str = "masked", session: str = "s-1", ttl: int = 600) -> str:
        now = int(time.time())
        claims = tokens.SessionClaims(
            session=session,
            user="u-1",
            profile=profile,
            role="finance",
            namespace=self.namespace,
            expires_at=now + ttl,
            issued_at=now - 1,
        )
        return tokens.mint(SIGNING_KEY, claims)

    def client(self, profile: str = "masked", session: str = "s-1") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"authorization": f"Bearer {self.token(profile, session)}"},
            timeout=10,
        )


def proxy_settings(upstream: FakeUpstream, **overrides: object) -> ProxySettings:
    values: dict[str, object] = {
        "namespace": NAMESPACE,
        "session_signing_key": SecretStr(SIGNING_KEY.decode()),
        "masking_key": SecretStr(MASKING_KEY),
        "openai_base_url": upstream.base_url,
        "openai_api_key": SecretStr(UPSTREAM_OPENAI_KEY),
        "anthropic_base_url": upstream.base_url,
        "anthropic_api_key": SecretStr(UPSTREAM_ANTHROPIC_KEY),
        "read_timeout_seconds": 2.0,
        "record_activity": False,
    }
    values.update(overrides)
    return ProxySettings.model_validate(values)


def static_profiles() -> StaticProfiles:
    users = [OrgUserSpec(employee_id=e, display_name=n, email=m) for n, m, e in PEOPLE]
    return StaticProfiles(dict(PROFILES), users)


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="session")
def proxy_server(upstream: FakeUpstream) -> Iterator[Proxy]:
    app = create_app(proxy_settings(upstream), profiles=static_profiles())
    with ThreadedServer(app) as server:
        yield Proxy(server, upstream)


@pytest.fixture
def proxy(proxy_server: Proxy) -> Proxy:
    proxy_server.upstream.reset()
    return proxy_server
