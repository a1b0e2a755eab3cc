"""Bad input always gets a 4xx problem+json, never a 500, and never echoes the value."""

from __future__ import annotations

import pytest
from apikit import Api, admin, person

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def _is_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://orgtwin.dev/problems/")
    assert body["trace_id"] == response.headers["x-trace-id"]
    return body  # type: ignore[no-any-return]


def test_malformed_wrong_types_unknown_fields_invalid_ids_and_oversized(org_api: Api) -> None:
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    headers = {**agent, "content-type": "application/json"}
    _is_problem(
        c.post("/v1/mesh/tasks", content=b'{"to": "role:legal", "title": ', headers=headers), 422
    )
    _is_problem(
        c.post("/v1/mesh/tasks", json={"to": "role:legal", "title": 42}, headers=agent), 422
    )
    secret = "jane.doe@example.com"
    unknown = _is_problem(
        c.post(
            "/v1/mesh/tasks", json={"to": "role:legal", "title": "x", "ssn": secret}, headers=agent
        ),
        422,
    )
    assert any(e["field"].endswith("ssn") for e in unknown["errors"])
    bad_to = c.post("/v1/mesh/tasks", json={"to": secret, "title": "x"}, headers=agent)
    _is_problem(bad_to, 422)
    assert secret not in bad_to.text
    _is_problem(c.get("/v1/mesh/status/not-a-uuid", headers=agent), 422)
    _is_problem(c.get("/v1/mesh/status/0b0c6a59-3a55-4b8e-9a57-0c9c3bb2b0a1", headers=agent), 404)
    _is_problem(c.get("/v1/org/users/bad id!", headers=admin()), 422)
    _is_problem(c.get("/v1/sessions/UPPER_case", headers=person("E3")), 422)
    _is_problem(
        c.post("/v1/sessions/x/events", json={"event": "explode"}, headers=person("E3")), 422
    )
    huge = {"to": "role:legal", "title": "x", "body": "a" * 2_000_000}
    _is_problem(c.post("/v1/mesh/tasks", json=huge, headers=agent), 413)
    _is_problem(
        c.post(
            "/v1/mesh/tasks",
            content=b"x" * 10,
            headers={**agent, "content-length": "999999999", "content-type": "application/json"},
        ),
        413,
    )
    _is_problem(c.get("/v1/nothing-here", headers=admin()), 404)
    _is_problem(c.delete("/v1/audit", headers=admin()), 405)
    _is_problem(
        c.post(
            "/v1/mesh/tasks",
            json={"to": "role:legal", "title": "x"},
            headers={**agent, "Idempotency-Key": ""},
        ),
        422,
    )


def test_values_postgres_cannot_store_get_a_422_naming_the_field(org_api: Api) -> None:
    """A NUL character or a NaN used to reach Postgres and come back as a 500."""
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    hidden = "jane.doe@example.com\x00"
    cases = {
        "title": {"to": "role:legal", "title": f"a {hidden}"},
        "data": {"to": "role:legal", "title": "x", "data": {"list": [{"k": hidden}]}},
    }
    for field, body in cases.items():
        for path in ("/v1/mesh/tasks", "/v1/mesh/notify"):
            refused = _is_problem(c.post(path, json=body, headers=agent), 422)
            assert [e["field"] for e in refused["errors"]] == [f"body.{field}"]
            assert "jane.doe" not in refused["errors"][0]["message"]
    for number in (b"NaN", b"Infinity", b"-Infinity"):
        raw = b'{"to": "role:legal", "title": "x", "data": {"amount": ' + number + b"}}"
        sent = c.post(
            "/v1/mesh/tasks", content=raw, headers={**agent, "content-type": "application/json"}
        )
        assert _is_problem(sent, 422)["errors"][0]["field"] == "body.data"
    # Query parameters reach SQL without a body model: the database's refusal is a 422 too.
    audit = c.get("/v1/audit", params={"actor": "a\x00b"}, headers=admin())
    assert _is_problem(audit, 422)["errors"][0]["field"] == "request"
    # Nothing of it was stored.
    inbox = c.get("/v1/mesh/inbox", headers=org_api.agent("E5", "legal")).json()
    assert inbox["items"] == []


def test_trace_id_is_accepted_or_generated_returned_and_stored(org_api: Api) -> None:
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    given = c.post(
        "/v1/mesh/tasks",
        json={"to": "role:legal", "title": "x"},
        headers={**agent, "X-Trace-Id": "abc-123"},
    )
    assert given.headers["x-trace-id"] == "abc-123"
    assert given.json()["trace_id"] == "abc-123"
    generated = c.post("/v1/mesh/tasks", json={"to": "role:legal", "title": "y"}, headers=agent)
    trace = generated.headers["x-trace-id"]
    assert len(trace) == 32
    assert generated.json()["trace_id"] == trace
    # A malformed trace id is replaced, not stored.
    odd = c.get("/healthz", headers={"X-Trace-Id": "bad trace id with spaces"})
    assert odd.headers["x-trace-id"] != "bad trace id with spaces"
    events = c.get("/v1/audit", params={"trace_id": "abc-123"}, headers=admin()).json()["items"]
    assert [e["action"] for e in events] == ["task.create"]
    assert "ben@example.com" not in str(events)


def test_metrics_count_requests_by_route_template_without_ids(org_api: Api) -> None:
    agent = org_api.agent("E3", "finance")
    org_api.client.get("/v1/mesh/status/0b0c6a59-3a55-4b8e-9a57-0c9c3bb2b0a1", headers=agent)
    text = org_api.client.get("/metrics").text
    assert 'route="/v1/mesh/status/{task_id}"' in text
    assert "0b0c6a59" not in text
    assert "orgtwin_api_imports_total" in text
