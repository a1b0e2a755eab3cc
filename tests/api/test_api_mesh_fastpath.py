"""The mesh creates' fast path answers every request exactly as the FastAPI routes did."""

from __future__ import annotations

import pytest
from apikit import Api, person

from orgtwin.api.repositories.kube import Kube
from orgtwin.api.services.directory import Directory
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
CREATES = {
    "/v1/mesh/tasks": {"to": "role:legal", "title": "x"},
    "/v1/mesh/notify": {"to": "role:legal", "title": "x"},
    "/v1/mesh/approvals": {"title": "x"},
}


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["trace_id"] == response.headers["x-trace-id"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", sorted(CREATES))
def test_content_types_keys_and_auth_get_the_apps_answers(org_api: Api, path: str) -> None:
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    body = CREATES[path]
    sent = c.post(
        path, json=body, headers={**agent, "content-type": "Application/JSON; charset=utf-8"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["content-type"] == "application/json"
    # Not JSON by its content type, or none: the body is not parsed, as FastAPI does.
    for headers in ({**agent, "content-type": "text/plain"}, agent):
        raw = c.post(path, content=b'{"title": "x"}', headers=headers)
        _problem(raw, 422)
    # FastAPI parses the body before it authenticates: malformed JSON is 422 even unsigned.
    _problem(c.post(path, content=b"{", headers={"content-type": "application/json"}), 422)
    unsigned = _problem(c.post(path, json=body), 401)
    assert unsigned["type"].endswith("/unauthenticated")
    _problem(c.post(path, json=body, headers=person("E3")), 403)
    # A person's malformed key still gets 403: the caller is checked before the header.
    _problem(c.post(path, json=body, headers={**person("E3"), "Idempotency-Key": "a b"}), 403)
    for bad in ("a b", "k" * 256, "\xe9".encode("latin-1")):
        invalid = _problem(c.post(path, json=body, headers={**agent, "Idempotency-Key": bad}), 422)
        assert any("Idempotency-Key" in e["field"] for e in invalid["errors"])
    longest = c.post(path, json=body, headers={**agent, "Idempotency-Key": "k" * 255})
    assert longest.status_code == 201, longest.text
    again = c.post(path, json=body, headers={**agent, "Idempotency-Key": "k" * 255})
    assert again.content == longest.content
    assert again.headers["idempotent-replayed"] == "true"
    changed = c.post(
        path, json={**body, "title": "y"}, headers={**agent, "Idempotency-Key": "k" * 255}
    )
    assert _problem(changed, 422)["type"].endswith("/idempotency-key-reused")
    # Errors of the route itself: a role nobody has.
    if path != "/v1/mesh/approvals":
        nobody = c.post(path, json={**body, "to": "role:nobody"}, headers=agent)
        assert _problem(nobody, 422)["errors"][0]["field"] == "to"


def test_creates_count_under_their_route_templates_and_stay_in_openapi(org_api: Api) -> None:
    agent = org_api.agent("E3", "finance")
    for path, body in CREATES.items():
        assert org_api.client.post(path, json=body, headers=agent).status_code == 201
    metrics = org_api.client.get("/metrics").text
    for path in CREATES:
        assert f'method="POST",route="{path}",status="201"' in metrics
    spec = org_api.client.get("/openapi.json").json()
    for path in CREATES:
        operation = spec["paths"][path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
        assert "201" in operation["responses"]


def test_masking_is_remembered_only_while_the_directory_is_unchanged(org_api: Api) -> None:
    c = org_api.client
    agent = org_api.agent("E3", "finance")
    # An employee id is PII only once the directory knows it.
    text = {"to": "role:hr", "title": "see zq77x today", "body": "see zq77x today"}
    first = c.post("/v1/mesh/tasks", json=text, headers=agent).json()
    assert first["title"] == first["body"] == "see zq77x today"
    imported = org_api.import_csv(
        "employee_id,name,email,department,title,manager_id,profile\n"
        "E1,Grace Okafor,grace@example.com,Executive,CEO,,manager\n"
        "E3,Ben Carter,ben@example.com,Finance,Accountant,E1,finance\n"
        "E5,Lena Vogel,lena@example.com,Legal,Counsel,E1,legal\n"
        "zq77x,Zora Quill,zora@example.com,Legal,Counsel,E5,legal\n"
    )
    assert imported.status_code == 201, imported.text
    runtime = c.app.state.runtime  # type: ignore[attr-defined]
    assert c.portal is not None
    c.portal.call(runtime.directory.refresh)
    second = c.post("/v1/mesh/tasks", json=text, headers=agent).json()
    assert "zq77x" not in second["title"]
    assert second["title"] == second["body"]


def test_refresh_validates_only_changed_objects(api: Api, settings: ApiSettings) -> None:
    assert (
        api.import_csv(
            "employee_id,name,email,department,title,manager_id,profile\n"
            "E1,Grace Okafor,grace@example.com,Executive,CEO,,manager\n"
            "E3,Ben Carter,ben@example.com,Finance,Accountant,E1,finance\n"
        ).status_code
        == 201
    )
    kube = Kube(settings)
    directory = Directory(kube, 60.0)
    try:
        assert api.client.portal is not None
        first = api.client.portal.call(directory.refresh)
        again = api.client.portal.call(directory.refresh)
        assert again.revision == first.revision
        assert again.users["E3"] is first.users["E3"]
        assert again.profiles["finance"] is first.profiles["finance"]
        api.custom.patch_namespaced_custom_object(
            k8s.GROUP,
            k8s.VERSION,
            api.namespace,
            k8s.USER_PLURAL,
            k8s.user_object_name("E3"),
            {"spec": {"suspended": True}},
        )
        changed = api.client.portal.call(directory.refresh)
        assert changed.revision == first.revision + 1
        assert changed.users["E3"].suspended
        assert changed.users["E1"] is first.users["E1"]
    finally:
        kube.close()
