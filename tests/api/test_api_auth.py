"""Authentication: every route but the probes needs a token; OIDC, agent and dev tokens."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import SIGNING_KEY, Api, person, settings_for
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from kubernetes import client
from oidc import AUDIENCE, ISSUER, Jwks
from pydantic import ValidationError

from orgtwin.api.app import create_app
from orgtwin.api.db import SchemaBehindError
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s, tokens

pytestmark = pytest.mark.integration
OPEN = {"/healthz", "/readyz", "/metrics"}
SAMPLE = {
    "task_id": "0b0c6a59-3a55-4b8e-9a57-0c9c3bb2b0a1",
    "employee_id": "E1",
    "session_id": "s-1",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


def test_every_route_except_probes_requires_auth(api: Api) -> None:
    app = api.client.app
    routes = [c.route for c in iter_route_contexts(app.routes)]  # type: ignore[attr-defined]
    # The published OpenAPI document is the one public non-probe route; no docs UI is mounted.
    assert {r.path for r in routes if not isinstance(r, APIRoute)} == {"/openapi.json"}
    assert api.client.get("/openapi.json").status_code == 200
    checked = 0
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods - {"HEAD"}:
            path = _concrete(route.path)
            anonymous = api.client.request(method, path)
            forged = api.client.request(method, path, headers={"Authorization": "Bearer x.y.z"})
            if route.path in OPEN:
                assert anonymous.status_code in (200, 503), (method, path)
                continue
            checked += 1
            for response in (anonymous, forged):
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["type"].endswith("/unauthenticated")
    assert checked >= 20


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    server.add_rsa("rsa-1")
    yield server
    server.close()


@pytest.fixture
def oidc_api(settings: ApiSettings, jwks: Jwks, k8s_api: client.ApiClient) -> Iterator[Api]:
    oidc = settings_for(
        settings.database_url.get_secret_value(),
        str(settings.kubeconfig),
        settings.namespace,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks.url,
        oidc_jwks_cache_seconds=3600,
        oidc_jwks_refresh_cooldown_seconds=0,
    )
    with TestClient(create_app(oidc), raise_server_exceptions=False) as c:
        yield Api(c, k8s_api, settings.namespace)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_oidc_roles_rotation_and_rejections(oidc_api: Api, jwks: Jwks) -> None:
    c = oidc_api.client
    user = c.get("/v1/me", headers=_bearer(jwks.token("rsa-1", "E3")))
    assert user.status_code == 200, user.text
    assert (user.json()["subject"], user.json()["role"]) == ("E3", "user")
    boss = c.get("/v1/audit", headers=_bearer(jwks.token("rsa-1", "E1", ["admin", "x"])))
    assert boss.status_code == 200
    assert c.get("/v1/audit", headers=_bearer(jwks.token("rsa-1", "E3"))).status_code == 403

    # Rotation: a new kid (ES256 this time) is fetched on first sight, without a restart.
    jwks.add_ec("ec-2")
    rotated = c.get("/v1/me", headers=_bearer(jwks.token("ec-2", "E5")))
    assert rotated.status_code == 200, rotated.text

    for bad in (
        jwks.token("rsa-1", "E3", aud="someone-else"),
        jwks.token("rsa-1", "E3", exp=int(time.time()) - 3600),
        jwks.token("rsa-1", "E3", iss="https://evil.example"),
        jwks.token("rsa-1", "E3")[:-4] + "AAAA",
    ):
        response = c.get("/v1/me", headers=_bearer(bad))
        assert response.status_code == 401
        assert bad not in response.text
    unknown_kid = Jwks()
    unknown_kid.add_rsa("never-published")
    forged = unknown_kid.token("never-published", "E1", "admin")
    unknown_kid.close()
    assert c.get("/v1/audit", headers=_bearer(forged)).status_code == 401


def test_agent_tokens_work_only_while_the_session_is_active(org_api: Api) -> None:
    agent = org_api.agent("E3", "finance")
    name = agent["X-Session"]
    assert org_api.client.get("/v1/mesh/inbox", headers=agent).status_code == 200
    org_api.set_phase(name, "Paused")
    paused = org_api.client.get("/v1/mesh/inbox", headers=agent)
    assert paused.status_code == 401
    assert "not active" in paused.json()["detail"]

    claims = tokens.SessionClaims(
        session=name,
        user=k8s.user_object_name("E5"),
        profile="legal",
        role="legal",
        namespace=org_api.namespace,
        expires_at=int(time.time()) + 60,
    )
    org_api.set_phase(name, "Active")
    other_user = {"Authorization": f"Bearer {tokens.mint(SIGNING_KEY, claims)}"}
    assert org_api.client.get("/v1/mesh/inbox", headers=other_user).status_code == 401
    wrong_key = {"Authorization": f"Bearer {tokens.mint(b'x' * 32, claims)}"}
    assert org_api.client.get("/v1/mesh/inbox", headers=wrong_key).status_code == 401
    # Another tenant's token is refused every time, also once its signature is remembered.
    foreign = tokens.mint(SIGNING_KEY, dataclasses.replace(claims, namespace="other-tenant"))
    for _ in range(2):
        r = org_api.client.get("/v1/mesh/inbox", headers={"Authorization": f"Bearer {foreign}"})
        assert r.status_code == 401
        assert "another namespace" in r.json()["detail"]


def test_dev_mode_is_refused_with_production_settings(settings: ApiSettings) -> None:
    with pytest.raises(ValidationError, match="dev_mode is refused"):
        ApiSettings(environment="production", dev_mode=True, dev_signing_key="k" * 32)
    env = {
        **os.environ,
        "ORGTWIN_API_ENVIRONMENT": "production",
        "ORGTWIN_API_DEV_MODE": "true",
        "ORGTWIN_API_DEV_SIGNING_KEY": "k" * 32,
        "ORGTWIN_API_DATABASE_URL": settings.database_url.get_secret_value(),
    }
    orgtwin = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "orgtwin"
    out = subprocess.run(
        [str(orgtwin), "api", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "dev_mode is refused" in out.stderr
    assert "k" * 32 not in out.stderr


URL = "https://idp.test.local/jwks"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (
            {"oidc_jwks_url": URL},
            "set ORGTWIN_API_OIDC_ISSUER, ORGTWIN_API_OIDC_AUDIENCE",
        ),
        ({"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE}, "set ORGTWIN_API_OIDC_JWKS_URL"),
        (
            {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks_url": "idp.test/jwks"},
            "ORGTWIN_API_OIDC_JWKS_URL must be an http or https URL",
        ),
    ],
)
def test_incomplete_oidc_settings_are_refused_at_start(given: dict[str, str], problem: str) -> None:
    """Half an OIDC configuration would start an api that refuses every person's token."""
    url = "postgresql+psycopg://orgtwin@127.0.0.1/orgtwin"
    with pytest.raises(ValidationError, match=problem):
        ApiSettings(database_url=url, **given)  # type: ignore[arg-type]
    # All three together are accepted.
    ApiSettings(database_url=url, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=URL)


def test_dev_tokens_are_rejected_when_dev_mode_is_off(
    settings: ApiSettings, k8s_api: client.ApiClient
) -> None:
    prod = settings_for(
        settings.database_url.get_secret_value(),
        str(settings.kubeconfig),
        settings.namespace,
        dev_mode=False,
        environment="production",
    )
    with TestClient(create_app(prod), raise_server_exceptions=False) as c:
        assert c.get("/v1/me", headers=person("E1", "admin")).status_code == 401


def test_the_api_refuses_to_start_on_a_schema_that_is_behind(pg_url: str, cluster) -> None:  # type: ignore[no-untyped-def]
    behind = settings_for(pg_url, str(cluster.kubeconfig), "default")
    with (
        pytest.raises(SchemaBehindError, match="orgtwin api migrate"),
        TestClient(create_app(behind)),
    ):
        pass
