"""Sessions: create, list, state machine, failure requests, and history that outlives the CR."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from apikit import Api, person
from fastapi.testclient import TestClient

from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s

pytestmark = pytest.mark.integration


def eventually(check: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
    """Poll until ``check`` returns something truthy (a bound for progress, not a timing test)."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.2)


def _phases(c: TestClient, sid: str, user: str = "E3") -> list[str]:
    return [
        h["phase"] for h in c.get(f"/v1/sessions/{sid}", headers=person(user)).json()["history"]
    ]


def test_state_machine_through_desired_state_and_failure_request(org_api: Api) -> None:
    c = org_api.client
    created = c.post("/v1/sessions", json={"purpose": "quarter close"}, headers=person("E3"))
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    obj = org_api.custom.get_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, org_api.namespace, k8s.SESSION_PLURAL, sid
    )
    assert obj["spec"] == {
        "userRef": k8s.user_object_name("E3"),
        "desiredState": "Active",
        "purpose": "quarter close",
    }
    assert created.json()["allowed_events"] == ["activate", "complete", "fail"]

    org_api.set_phase(sid, "Active", "finance")
    wrong = c.post(f"/v1/sessions/{sid}/events", json={"event": "resume"}, headers=person("E3"))
    assert wrong.status_code == 409
    assert wrong.json()["allowed_events"] == ["pause", "complete", "fail"]
    paused = c.post(f"/v1/sessions/{sid}/events", json={"event": "pause"}, headers=person("E3"))
    assert paused.status_code == 200
    assert paused.json()["desired_state"] == "Paused"
    org_api.set_phase(sid, "Paused")
    failed = c.post(
        f"/v1/sessions/{sid}/events",
        json={"event": "fail", "reason": "StuckTool", "message": "gave up"},
        headers=person("E3"),
    )
    assert failed.status_code == 200, failed.text
    obj = org_api.custom.get_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, org_api.namespace, k8s.SESSION_PLURAL, sid
    )
    assert obj["status"]["failureRequest"]["reason"] == "StuckTool"
    org_api.set_phase(sid, "Failed")
    final = c.post(f"/v1/sessions/{sid}/events", json={"event": "complete"}, headers=person("E3"))
    assert final.status_code == 409
    assert final.json()["allowed_events"] == []

    history = eventually(
        lambda: _phases(c, sid) if "Failed" in _phases(c, sid) else None,
        "the watcher records Failed",
    )
    # Pending is seen only if the watch was up before the object existed; the rest always.
    assert [p for p in history if p != "Pending"] == ["Active", "Paused", "Failed"]
    listed = c.get("/v1/sessions", params={"phase": "Failed"}, headers=person("E3")).json()
    assert [s["id"] for s in listed["items"]] == [sid]
    audit = c.get(
        "/v1/audit", params={"subject": f"session:{sid}"}, headers=person("E1", "admin")
    ).json()["items"]
    assert [e["action"] for e in reversed(audit)] == [
        "session.create",
        "session.event",
        "session.event",
    ]


def test_history_survives_deletion_and_api_restart(org_api: Api, settings: ApiSettings) -> None:
    c = org_api.client
    sid = c.post("/v1/sessions", json={}, headers=person("E3")).json()["id"]
    org_api.set_phase(sid, "Active", "finance")
    eventually(lambda: "Active" in _phases(c, sid), "Active recorded")
    c.__exit__(None, None, None)  # stop this api; the next one must pick up where it left off

    org_api.set_phase(sid, "Completed")
    with TestClient(create_app(settings), raise_server_exceptions=False) as again:
        eventually(lambda: "Completed" in _phases(again, sid), "Completed recorded after restart")
        org_api.custom.delete_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, org_api.namespace, k8s.SESSION_PLURAL, sid
        )
        gone = eventually(
            lambda: (
                (r := again.get(f"/v1/sessions/{sid}", headers=person("E3")).json()).get("deleted")
                and any(h["phase"] == "Deleted" for h in r["history"])
                and r
            ),
            "deletion recorded",
        )
        phases = [h["phase"] for h in gone["history"] if h["phase"] != "Pending"]
        assert phases == ["Active", "Completed", "Deleted"]
        assert again.get(f"/v1/sessions/{sid}", headers=person("E5")).status_code == 404


def test_suspended_and_unknown_users_get_no_session(org_api: Api) -> None:
    c = org_api.client
    org_api.custom.patch_namespaced_custom_object(
        k8s.GROUP,
        k8s.VERSION,
        org_api.namespace,
        k8s.USER_PLURAL,
        k8s.user_object_name("E7"),
        {"spec": {"suspended": True}},
    )
    assert c.post("/v1/sessions", json={}, headers=person("E7")).status_code == 422
    assert c.post("/v1/sessions", json={}, headers=person("E404")).status_code == 422
