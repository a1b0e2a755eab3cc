"""The authorization matrix: admins, users and agents each see only what is theirs."""

from __future__ import annotations

import pytest
from apikit import ORG_CSV, Api, admin, person

pytestmark = pytest.mark.integration


def test_only_admins_import_assign_and_read_the_audit(org_api: Api) -> None:
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    for headers in (person("E3"), agent):
        assert org_api.import_csv(ORG_CSV, headers=headers).status_code == 403
        assert (
            c.put(
                "/v1/org/users/E3/profile", json={"profile": "legal"}, headers=headers
            ).status_code
            == 403
        )
        assert c.get("/v1/audit", headers=headers).status_code == 403
        assert c.get("/v1/org/users", headers=headers).status_code == 403
        assert c.get("/v1/org/tree", headers=headers).status_code == 403
    assert c.get("/v1/audit", headers=admin()).status_code == 200


def test_a_user_sees_only_their_own_sessions_and_profile(org_api: Api) -> None:
    c = org_api.client
    mine = c.post("/v1/sessions", json={"purpose": "close the books"}, headers=person("E3"))
    assert mine.status_code == 201, mine.text
    sid = mine.json()["id"]
    theirs = c.post("/v1/sessions", json={}, headers=person("E5"))
    assert theirs.status_code == 201

    listed = c.get("/v1/sessions", headers=person("E5")).json()
    assert [s["id"] for s in listed["items"]] == [theirs.json()["id"]]
    assert c.get(f"/v1/sessions/{sid}", headers=person("E5")).status_code == 404
    assert (
        c.post(
            f"/v1/sessions/{sid}/events", json={"event": "complete"}, headers=person("E5")
        ).status_code
        == 404
    )
    assert c.post("/v1/sessions", json={"user_id": "E3"}, headers=person("E5")).status_code == 403
    everyone = c.get("/v1/sessions", headers=admin()).json()
    assert {s["id"] for s in everyone["items"]} == {sid, theirs.json()["id"]}
    for_e3 = c.post("/v1/sessions", json={"user_id": "E3"}, headers=admin())
    assert for_e3.status_code == 201
    assert for_e3.json()["user_id"] == "E3"

    assert c.get("/v1/me/profile", headers=person("E3")).json()["role"] == "finance"
    assert c.get("/v1/me/profile", headers=person("E5")).json()["role"] == "legal"
    assert c.get("/v1/org/users/E5", headers=person("E3")).status_code == 403
    # Agents steer nothing through the session routes.
    agent = org_api.agent("E3", "finance")
    assert c.get("/v1/sessions", headers=agent).status_code == 403


def test_an_agent_never_sees_another_agents_inbox(org_api: Api) -> None:
    c = org_api.client
    finance = org_api.agent("E3", "finance")
    legal = org_api.agent("E5", "legal")
    hr = org_api.agent("E7", "hr")
    to_legal = c.post("/v1/mesh/tasks", json={"to": "user:E5", "title": "NDA"}, headers=finance)
    to_role = c.post(
        "/v1/mesh/tasks", json={"to": "role:legal", "title": "Policy"}, headers=finance
    )
    assert to_legal.status_code == 201
    assert to_role.status_code == 201
    ids = {to_legal.json()["id"], to_role.json()["id"]}
    assert {i["id"] for i in c.get("/v1/mesh/inbox", headers=legal).json()["items"]} == ids
    assert c.get("/v1/mesh/inbox", headers=hr).json()["items"] == []
    assert c.get("/v1/mesh/inbox", headers=finance).json()["items"] == []
    task_id = to_legal.json()["id"]
    assert c.get(f"/v1/mesh/status/{task_id}", headers=hr).status_code == 404
    assert (
        c.post(f"/v1/mesh/tasks/{task_id}/reply", json={"body": "hi"}, headers=hr).status_code
        == 404
    )
    assert (
        c.post(
            f"/v1/mesh/tasks/{task_id}/status", json={"status": "done"}, headers=finance
        ).status_code
        == 403
    )
    approval = c.post("/v1/mesh/approvals", json={"title": "Trip"}, headers=finance).json()
    assert c.post(
        f"/v1/mesh/approvals/{approval['id']}/decision", json={"decision": "approve"}, headers=legal
    ).status_code in (403, 404)
    # People do not use the mesh; agents do.
    assert c.get("/v1/mesh/inbox", headers=person("E5")).status_code == 403


def test_mesh_policy_restricts_whom_a_profile_may_message(org_api: Api) -> None:
    org_api.custom.patch_namespaced_custom_object(
        "orgtwin.dev",
        "v1alpha1",
        org_api.namespace,
        "agentprofiles",
        "hr",
        {"spec": {"mesh": {"canMessage": ["finance"]}}},
    )
    runtime = org_api.client.app.state.runtime  # type: ignore[attr-defined]
    assert org_api.client.portal is not None
    org_api.client.portal.call(runtime.directory.refresh)
    hr = org_api.agent("E7", "hr")
    allowed = org_api.client.post(
        "/v1/mesh/tasks", json={"to": "role:finance", "title": "x"}, headers=hr
    )
    assert allowed.status_code == 201
    denied = org_api.client.post(
        "/v1/mesh/tasks", json={"to": "role:legal", "title": "x"}, headers=hr
    )
    assert denied.status_code == 403
    assert denied.json()["type"].endswith("/forbidden")
