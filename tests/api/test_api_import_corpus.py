"""The bad-CSV corpus: every validation rule, each case proving that nothing was applied."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apikit import ORG_CSV, Api, admin, settings_for
from conftest import PROFILES
from fastapi.testclient import TestClient
from kubernetes import client

from orgtwin.api import migrations
from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings
from orgtwin.testing.postgres import LocalPostgres

pytestmark = pytest.mark.integration
CORPUS = Path(__file__).parent / "data" / "bad_csv"

# file -> (field, line, words the message contains)
EXPECTED: dict[str, tuple[str, int | None, str]] = {
    "header_missing_column.csv": ("header", 1, "missing column profile"),
    "header_unknown_column.csv": ("header", 1, "unknown column"),
    "duplicate_id.csv": ("employee_id", 4, "duplicate id (first on line 2)"),
    "duplicate_email_case_insensitive.csv": ("email", 3, "duplicate email (first on line 2)"),
    "invalid_email.csv": ("email", 3, "not a valid email"),
    "unknown_manager.csv": ("manager_id", 3, "unknown manager"),
    "reporting_cycle.csv": ("manager_id", 3, "reporting cycle: B1 -> B3 -> B2 -> B1"),
    "unknown_profile.csv": ("profile", 3, "unknown profile"),
    "bad_encoding_latin1.csv": ("encoding", 3, "not valid UTF-8"),
    "nul_byte.csv": ("encoding", 3, "NUL"),
    "self_manager.csv": ("manager_id", 2, "own manager"),
    "wrong_field_count.csv": ("row", 3, "expected 7"),
    "empty.csv": ("header", 1, "empty"),
    "header_only.csv": ("row", 2, "no data rows"),
    "invalid_employee_id.csv": ("employee_id", 3, "not a valid employee id"),
    "unterminated_quote.csv": ("row", None, "malformed CSV"),
    "missing_name.csv": ("name", 3, "required"),
    "valid_rows_then_one_bad.csv": ("manager_id", 8, "unknown manager"),
}


def test_corpus_and_expectations_match() -> None:
    assert {p.name for p in CORPUS.glob("*.csv")} == set(EXPECTED)


@pytest.fixture(scope="module")
def corpus_api(postgres: LocalPostgres, cluster: Any, k8s_api: client.ApiClient) -> Iterator[Api]:
    """One app and namespace for the whole corpus: no case may leave anything behind anyway."""
    db = postgres.create_database(f"corpus_{uuid.uuid4().hex[:10]}")
    migrations.upgrade(db)
    namespace = f"corpus-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    cluster.kubectl("apply", "-n", namespace, "-f", str(PROFILES))
    settings = settings_for(db, str(cluster.kubeconfig), namespace)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield Api(c, k8s_api, namespace)
    core.delete_namespace(namespace, propagation_policy="Background")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_csv_is_rejected_with_line_and_field_and_nothing_applied(
    corpus_api: Api, name: str
) -> None:
    api = corpus_api
    raw = (CORPUS / name).read_bytes()
    for dry_run in (True, False):
        response = api.import_csv(raw, dry_run=dry_run)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "https://orgtwin.dev/problems/invalid-input"
        field, line, words = EXPECTED[name]
        matching = [e for e in problem["errors"] if e["field"] == field and words in e["message"]]
        assert matching, problem["errors"]
        if line is not None:
            assert matching[0]["line"] == line
        # No value from the file is echoed back: it might be PII.
        assert "example.com" not in response.text
    assert api.users() == {}
    audit = api.client.get("/v1/audit", params={"action": "org.import"}, headers=admin())
    assert audit.json()["items"] == []


def test_bad_reimport_leaves_the_existing_org_untouched(org_api: Api) -> None:
    before = org_api.users()
    broken = ORG_CSV + "E8,New Person,grace@EXAMPLE.com,Ops,Eng,E1,finance\n"
    response = org_api.import_csv(broken, suspend_missing=True)
    assert response.status_code == 422
    assert response.json()["errors"][0]["line"] == 9
    assert org_api.users() == before


def _limited_app(settings: ApiSettings, **limits: int) -> TestClient:
    limited = settings_for(
        settings.database_url.get_secret_value(),
        str(settings.kubeconfig),
        settings.namespace,
        **limits,
    )
    return TestClient(create_app(limited), raise_server_exceptions=False)


def test_size_cap_413_and_row_cap_422(settings: ApiSettings, k8s_api: client.ApiClient) -> None:
    rows = "".join(f"A{i},P{i},p{i}@example.com,Ops,Eng,,finance\n" for i in range(200))
    big = ORG_CSV.splitlines()[0] + "\n" + rows
    with _limited_app(settings, max_import_bytes=4096, max_import_rows=50) as c:
        api = Api(c, k8s_api, settings.namespace)
        too_big = api.import_csv(big)
        assert too_big.status_code == 413
        assert too_big.headers["content-type"] == "application/problem+json"
        too_many = api.import_csv(big[:3000])
        assert too_many.status_code == 422
        assert "more than 50 rows" in too_many.json()["detail"]
        assert api.users() == {}
