"""The three collaboration flows at API level, each audited end to end under one trace id."""

from __future__ import annotations

from typing import Any

import pytest
from apikit import Api, admin

from orgtwin.core import k8s

pytestmark = pytest.mark.integration


def _post(
    api: Api, path: str, headers: dict[str, str], trace: str, body: dict[str, Any], key: str
) -> dict[str, Any]:
    response = api.client.post(
        path, json=body, headers={**headers, "X-Trace-Id": trace, "Idempotency-Key": key}
    )
    assert response.status_code in (200, 201), response.text
    assert response.headers["x-trace-id"] == trace
    return response.json()


def _inbox(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.client.get("/v1/mesh/inbox", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _trail(api: Api, trace: str) -> list[tuple[str, str]]:
    items = api.client.get("/v1/audit", params={"trace_id": trace}, headers=admin()).json()["items"]
    return [(e["action"], e["outcome"]) for e in reversed(items)]


def test_flow_expense_approval_routed_to_manager(org_api: Api) -> None:
    trace = "flow-1-expense"
    finance = org_api.agent("E3", "finance")
    head = org_api.agent("E2", "manager")
    approval = _post(
        org_api,
        "/v1/mesh/approvals",
        finance,
        trace,
        {
            "type": "expense",
            "title": "Team dinner 420 EUR",
            "body": "Receipt from ben@example.com",
            "data": {"amount": 420},
        },
        "a1",
    )
    assert approval["recipient"]["user_id"] == "E2"
    assert approval["status"] == "pending"
    # Masked for the manager profile (mode mask): the email never reaches the approver.
    assert "ben@example.com" not in approval["body"]

    inbox = _inbox(org_api, head)
    assert [i["id"] for i in inbox] == [approval["id"]]
    assert _inbox(org_api, org_api.agent("E5", "legal")) == []

    decided = _post(
        org_api,
        f"/v1/mesh/approvals/{approval['id']}/decision",
        head,
        trace,
        {"decision": "approve", "comment": "ok"},
        "d1",
    )
    assert decided["status"] == "approved"
    status = org_api.client.get(f"/v1/mesh/status/{approval['id']}", headers=finance).json()
    assert status["status"] == "approved"
    assert status["decision"] == "approve"
    assert _trail(org_api, trace) == [
        ("approval.request", "success"),
        ("approval.decide", "success"),
    ]


def test_flow_finance_legal_review_then_manager_approval(org_api: Api) -> None:
    trace = "flow-2-legal"
    finance = org_api.agent("E3", "finance")
    legal = org_api.agent("E5", "legal")
    head = org_api.agent("E2", "manager")
    task = _post(
        org_api,
        "/v1/mesh/tasks",
        finance,
        trace,
        {"to": "role:legal", "type": "review", "title": "Review vendor contract"},
        "t1",
    )
    assert task["recipient"]["role"] == "legal"
    seen = _inbox(org_api, legal)
    assert [i["id"] for i in seen] == [task["id"]]
    _post(
        org_api, f"/v1/mesh/tasks/{task['id']}/status", legal, trace, {"status": "accepted"}, "s1"
    )
    _post(
        org_api,
        f"/v1/mesh/tasks/{task['id']}/reply",
        legal,
        trace,
        {"body": "Clause 7 needs a cap.", "data": {"risk": "medium"}},
        "r1",
    )
    done = _post(
        org_api,
        f"/v1/mesh/tasks/{task['id']}/status",
        legal,
        trace,
        {"status": "done", "note": "Reviewed."},
        "s2",
    )
    assert done["status"] == "done"
    assert [r["body"] for r in done["replies"]] == ["Clause 7 needs a cap.", "Reviewed."]
    approval = _post(
        org_api,
        "/v1/mesh/approvals",
        finance,
        trace,
        {"title": "Sign vendor contract", "data": {"review": task["id"]}},
        "a2",
    )
    _post(
        org_api,
        f"/v1/mesh/approvals/{approval['id']}/decision",
        head,
        trace,
        {"decision": "approve"},
        "d2",
    )
    assert (
        org_api.client.get(f"/v1/mesh/status/{task['id']}", headers=finance).json()["status"]
        == "done"
    )
    assert _trail(org_api, trace) == [
        ("task.create", "success"),
        ("task.status", "success"),
        ("task.reply", "success"),
        ("task.status", "success"),
        ("approval.request", "success"),
        ("approval.decide", "success"),
    ]


def test_flow_hr_to_finance_to_manager(org_api: Api) -> None:
    trace = "flow-3-hr"
    hr = org_api.agent("E7", "hr")
    finance = org_api.agent("E3", "finance")
    head = org_api.agent("E2", "manager")
    task = _post(
        org_api,
        "/v1/mesh/tasks",
        hr,
        trace,
        {"to": "user:E3", "type": "payroll", "title": "Budget a new hire"},
        "t3",
    )
    assert [i["id"] for i in _inbox(org_api, finance)] == [task["id"]]
    approval = _post(
        org_api,
        "/v1/mesh/approvals",
        finance,
        trace,
        {"type": "budget", "title": "New hire budget"},
        "a3",
    )
    assert approval["recipient"]["user_id"] == "E2"
    _post(
        org_api,
        f"/v1/mesh/approvals/{approval['id']}/decision",
        head,
        trace,
        {"decision": "reject", "comment": "Next quarter."},
        "d3",
    )
    _post(
        org_api,
        f"/v1/mesh/tasks/{task['id']}/reply",
        finance,
        trace,
        {"body": "Rejected by the head of finance."},
        "r3",
    )
    _post(
        org_api,
        "/v1/mesh/notify",
        finance,
        trace,
        {"to": "role:hr", "title": "Hire postponed"},
        "n3",
    )
    status = org_api.client.get(f"/v1/mesh/status/{task['id']}", headers=hr).json()
    assert status["replies"][0]["body"] == "Rejected by the head of finance."
    assert [i["kind"] for i in _inbox(org_api, hr)] == ["notification"]
    assert _trail(org_api, trace) == [
        ("task.create", "success"),
        ("approval.request", "success"),
        ("approval.decide", "success"),
        ("task.reply", "success"),
        ("notify", "success"),
    ]


def test_approval_walks_past_a_suspended_manager(org_api: Api) -> None:
    # An admin suspends the head of finance directly on the OrgUser (kubectl-style).
    org_api.custom.patch_namespaced_custom_object(
        k8s.GROUP,
        k8s.VERSION,
        org_api.namespace,
        k8s.USER_PLURAL,
        k8s.user_object_name("E2"),
        {"spec": {"suspended": True}},
    )
    runtime = org_api.client.app.state.runtime  # type: ignore[attr-defined]
    assert org_api.client.portal is not None
    org_api.client.portal.call(runtime.directory.refresh)
    finance = org_api.agent("E3", "finance")
    approval = org_api.client.post("/v1/mesh/approvals", json={"title": "Laptop"}, headers=finance)
    assert approval.status_code == 201, approval.text
    assert approval.json()["recipient"]["user_id"] == "E1"


def test_inbox_long_poll_wakes_on_a_new_task_and_agents_are_listed(org_api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    finance = org_api.agent("E3", "finance")
    legal = org_api.agent("E5", "legal")
    c = org_api.client
    cursor = c.get("/v1/mesh/inbox", headers=legal).json()["next_cursor"]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            c.get, "/v1/mesh/inbox", params={"after": cursor, "timeout": 30}, headers=legal
        )
        sent = c.post(
            "/v1/mesh/tasks", json={"to": "role:legal", "title": "wake up"}, headers=finance
        ).json()
        woke = waiting.result(timeout=60).json()
    assert [i["id"] for i in woke["items"]] == [sent["id"]]
    assert woke["next_cursor"] == sent["seq"]
    empty = c.get(
        "/v1/mesh/inbox", params={"after": woke["next_cursor"], "timeout": 0.2}, headers=legal
    ).json()
    assert empty["items"] == []
    assert empty["next_cursor"] == woke["next_cursor"]

    org_api.set_phase(legal["X-Session"], "Active", "legal")
    org_api.set_phase(finance["X-Session"], "Active", "finance")
    agents = c.get("/v1/mesh/agents", params={"role": "legal"}, headers=finance).json()
    assert [(a["session"], a["user_id"], a["department"]) for a in agents["items"]] == [
        (legal["X-Session"], "E5", "Legal")
    ]
    everyone = c.get("/v1/mesh/agents", headers=finance).json()
    assert everyone["by_role"] == {"legal": 1, "finance": 1}
    assert everyone["by_department"] == {"Legal": 1, "Finance": 1}
