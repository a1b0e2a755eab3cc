"""Fixtures for the api tests: a migrated database, profiles in a fresh namespace, the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import ORG_CSV, Api, settings_for
from fastapi.testclient import TestClient
from kubernetes import client

from orgtwin.api import migrations
from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "manifests" / "samples" / "profiles"


@pytest.fixture
def db_url(pg_url: str) -> str:
    """A fresh database whose schema was built by running the migrations."""
    migrations.upgrade(pg_url)
    return pg_url


@pytest.fixture
def profiles_namespace(cluster, namespace: str) -> str:  # type: ignore[no-untyped-def]
    cluster.kubectl("apply", "-n", namespace, "-f", str(PROFILES))
    return namespace


@pytest.fixture
def settings(db_url: str, cluster, profiles_namespace: str) -> ApiSettings:  # type: ignore[no-untyped-def]
    return settings_for(db_url, str(cluster.kubeconfig), profiles_namespace)


@pytest.fixture
def api(settings: ApiSettings, k8s_api: client.ApiClient) -> Iterator[Api]:
    # Tests see 500s as responses, as clients would; ORGTWIN_TEST_RAISE=1 shows the traceback.
    raise_errors = bool(os.environ.get("ORGTWIN_TEST_RAISE"))
    with TestClient(create_app(settings), raise_server_exceptions=raise_errors) as test_client:
        yield Api(test_client, k8s_api, settings.namespace)


@pytest.fixture
def org_api(api: Api) -> Api:
    """The app with the small sample org imported."""
    response = api.import_csv(ORG_CSV)
    assert response.status_code == 201, response.text
    return api
