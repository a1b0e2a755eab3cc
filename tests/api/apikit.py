"""Helpers for the api tests: tokens, seeding profiles/org/sessions in the harness cluster."""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from kubernetes import client

from orgtwin.api.auth import dev
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s, tokens

DEV_KEY = b"d" * 16 + b"e" * 16
SIGNING_KEY = b"s" * 16 + b"k" * 16
MASKING_KEY = b"m" * 32

ORG_CSV = """employee_id,name,email,department,title,manager_id,profile
E1,Grace Okafor,grace@example.com,Executive,CEO,,manager
E2,Amara Lindqvist,amara@example.com,Finance,Head of Finance,E1,manager
E3,Ben Carter,ben@example.com,Finance,Accountant,E2,finance
E4,Tomas Reyes,tomas@example.com,Legal,General Counsel,E1,manager
E5,Lena Vogel,lena@example.com,Legal,Counsel,E4,legal
E6,Priya Nair,priya@example.com,HR,Head of People,E1,manager
E7,Omar Haddad,omar@example.com,HR,HR Partner,E6,hr
"""


def settings_for(db_url: str, kubeconfig: str, namespace: str, **extra: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": db_url,
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "dev_mode": True,
        "dev_signing_key": DEV_KEY.decode(),
        "session_signing_key": SIGNING_KEY.decode(),
        "masking_key": MASKING_KEY.decode(),
        "log_format": "text",
        "db_pool_size": 5,
        "session_cache_seconds": 0.0,
    }
    values.update(extra)
    return ApiSettings(**values)


def person(employee_id: str, role: str = "user") -> dict[str, str]:
    return {"Authorization": f"Bearer {dev.mint(DEV_KEY, employee_id, role)}"}


ADMIN = "E1"


def admin() -> dict[str, str]:
    return person(ADMIN, "admin")


@dataclass
class Api:
    """A running app (TestClient drives the real lifespan) plus the cluster it talks to."""

    client: TestClient
    k8s_api: client.ApiClient
    namespace: str
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.k8s_api)

    def import_csv(
        self, text: str | bytes, headers: dict[str, str] | None = None, **params: Any
    ) -> Any:
        raw = text.encode() if isinstance(text, str) else text
        return self.client.post(
            "/v1/org/import",
            params={k: str(v).lower() for k, v in params.items()},
            files={"file": ("org.csv", io.BytesIO(raw), "text/csv")},
            headers=headers or admin(),
        )

    def users(self) -> dict[str, dict[str, Any]]:
        out = self.custom.list_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, self.namespace, k8s.USER_PLURAL
        )
        return {o["spec"]["employeeId"]: o["spec"] for o in out["items"]}

    def create_session(self, employee_id: str, phase: str = "Active", role: str = "") -> str:
        """An AgentSession in ``phase``; the status is written as the operator would."""
        user_ref = k8s.user_object_name(employee_id)
        name = f"{user_ref}-{uuid.uuid4().hex[:6]}"
        body = {
            "apiVersion": k8s.API_VERSION,
            "kind": "AgentSession",
            "metadata": {"name": name, "labels": {k8s.LABEL_USER: user_ref}},
            "spec": {"userRef": user_ref, "desiredState": "Active"},
        }
        self.custom.create_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, self.namespace, k8s.SESSION_PLURAL, body
        )
        self.set_phase(name, phase, role)
        return name

    def set_phase(self, name: str, phase: str, role: str = "") -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status: dict[str, Any] = {"phase": phase, "lastTransitionAt": now}
        if role:
            status["role"] = role
        self.custom.patch_namespaced_custom_object_status(
            k8s.GROUP, k8s.VERSION, self.namespace, k8s.SESSION_PLURAL, name, {"status": status}
        )

    def agent(self, employee_id: str, role: str, profile: str | None = None) -> dict[str, str]:
        """Headers of an Active agent session for ``employee_id`` with ``role``."""
        name = self.create_session(employee_id, "Active", role)
        claims = tokens.SessionClaims(
            session=name,
            user=k8s.user_object_name(employee_id),
            profile=profile or role,
            role=role,
            namespace=self.namespace,
            expires_at=int(time.time()) + 3600,
        )
        headers = {"Authorization": f"Bearer {tokens.mint(SIGNING_KEY, claims)}", "X-Session": name}
        self.sessions[name] = headers
        return headers
