"""Agent activity lands in status.lastActivityAt, at most one write per minute per session."""

from __future__ import annotations

import time

import pytest
from apikit import Api

from orgtwin.core import k8s

pytestmark = pytest.mark.integration


def test_last_activity_is_written_once_within_the_throttle_window(org_api: Api) -> None:
    agent = org_api.agent("E3", "finance")
    name = agent["X-Session"]

    def current() -> dict:  # type: ignore[type-arg]
        return org_api.custom.get_namespaced_custom_object(  # type: ignore[no-any-return]
            k8s.GROUP, k8s.VERSION, org_api.namespace, k8s.SESSION_PLURAL, name
        )

    assert org_api.client.get("/v1/mesh/inbox", headers=agent).status_code == 200
    deadline = time.monotonic() + 30
    while current().get("status", {}).get("lastActivityAt") is None:
        assert time.monotonic() < deadline, "lastActivityAt was never written"
        time.sleep(0.1)
    version = current()["metadata"]["resourceVersion"]
    for _ in range(5):
        assert (
            org_api.client.post(
                "/v1/mesh/tasks", json={"to": "role:legal", "title": "x"}, headers=agent
            ).status_code
            == 201
        )
        assert org_api.client.get("/v1/mesh/inbox", headers=agent).status_code == 200
    # Within the one-minute window the object is not written again, however busy the agent is.
    assert current()["metadata"]["resourceVersion"] == version
