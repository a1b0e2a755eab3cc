"""Org import, users, tree and profile assignment against real Postgres and the apiserver."""

from __future__ import annotations

import time

import pytest
from apikit import ORG_CSV, Api, admin, person
from fastapi.testclient import TestClient
from kubernetes import client

from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s

pytestmark = pytest.mark.integration


def test_import_applies_all_users_and_records_the_run(api: Api) -> None:
    response = api.import_csv(ORG_CSV)
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["outcome"], run["created"], run["updated"], run["unchanged"]) == (
        "applied",
        7,
        0,
        0,
    )
    users = api.users()
    assert set(users) == {f"E{i}" for i in range(1, 8)}
    assert users["E3"]["managerId"] == "E2"
    assert users["E3"]["profileRef"] == "finance"
    managed = api.custom.get_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, api.namespace, k8s.USER_PLURAL, k8s.user_object_name("E3")
    )
    assert {f["manager"] for f in managed["metadata"]["managedFields"]} == {"orgtwin-api"}

    again = api.import_csv(ORG_CSV).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 7)


def test_dry_run_writes_nothing(api: Api) -> None:
    run = api.import_csv(ORG_CSV, dry_run=True).json()
    assert run["outcome"] == "dry_run"
    assert run["created"] == 7
    assert api.users() == {}


def test_reimport_reports_missing_users_and_suspends_on_request(org_api: Api) -> None:
    smaller = "\n".join(line for line in ORG_CSV.splitlines() if not line.startswith("E7,"))
    run = org_api.import_csv(smaller).json()
    assert run["missing"] == ["E7"]
    assert run["suspended"] == 0
    assert org_api.users()["E7"]["suspended"] is False
    run = org_api.import_csv(smaller, suspend_missing=True).json()
    assert run["suspended"] == 1
    assert org_api.users()["E7"]["suspended"] is True
    audit = org_api.client.get("/v1/audit", params={"action": "org.import"}, headers=admin())
    assert len(audit.json()["items"]) == 3


def test_users_filters_pagination_tree_and_one_user(org_api: Api) -> None:
    c = org_api.client
    page = c.get("/v1/org/users", params={"department": "Finance"}, headers=admin()).json()
    assert [u["employee_id"] for u in page["items"]] == ["E2", "E3"]
    page = c.get("/v1/org/users", params={"limit": 2, "offset": 2}, headers=admin()).json()
    assert page["total"] == 7
    assert [u["employee_id"] for u in page["items"]] == ["E3", "E4"]
    tree = c.get("/v1/org/tree", headers=admin()).json()
    assert [r["employee_id"] for r in tree["roots"]] == ["E1"]
    assert sorted(n["employee_id"] for n in tree["roots"][0]["reports"]) == ["E2", "E4", "E6"]
    one = c.get("/v1/org/users/E5", headers=admin()).json()
    assert one["profile"] == "legal"
    assert one["manager_id"] == "E4"
    assert c.get("/v1/org/users/E99", headers=admin()).status_code == 404


def test_profile_assignment_is_admin_only_and_checked(org_api: Api) -> None:
    c = org_api.client
    denied = c.put("/v1/org/users/E3/profile", json={"profile": "legal"}, headers=person("E3"))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    unknown = c.put("/v1/org/users/E3/profile", json={"profile": "nope"}, headers=admin())
    assert unknown.status_code == 422
    ok = c.put("/v1/org/users/E3/profile", json={"profile": "legal"}, headers=admin())
    assert ok.status_code == 200
    assert ok.json()["profile"] == "legal"
    assert org_api.users()["E3"]["profileRef"] == "legal"
    assert org_api.users()["E3"]["displayName"] == "Ben Carter"
    me = c.get("/v1/me/profile", headers=person("E3")).json()
    assert me["role"] == "legal"
    assert me["config"]["GOOSE_MODEL"]


def test_a_change_made_in_kubernetes_reaches_the_api_without_waiting_for_a_relist(
    settings: ApiSettings, k8s_api: client.ApiClient
) -> None:
    """Another replica's import, or a kubectl edit, is seen within seconds through the
    directory's watch, although the periodic full list is an hour away."""
    slow = settings.model_copy(update={"directory_refresh_seconds": 3600.0})
    with TestClient(create_app(slow)) as test_client:
        api = Api(test_client, k8s_api, settings.namespace)
        assert api.import_csv(ORG_CSV).status_code == 201
        assert test_client.get("/v1/me", headers=person("E3")).json()["user"]["title"] == (
            "Accountant"
        )
        api.custom.patch_namespaced_custom_object(
            k8s.GROUP,
            k8s.VERSION,
            settings.namespace,
            k8s.USER_PLURAL,
            k8s.user_object_name("E3"),
            {"spec": {"title": "Senior Accountant"}},
        )
        deadline = time.monotonic() + 15
        title = ""
        while time.monotonic() < deadline and title != "Senior Accountant":
            time.sleep(0.2)
            title = test_client.get("/v1/me", headers=person("E3")).json()["user"]["title"]
        assert title == "Senior Accountant"
