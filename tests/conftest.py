"""Session fixtures: a real control plane (or the --kubeconfig cluster) and Postgres.

Fixtures:
- ``cluster``: a ``Cluster`` with ``kubeconfig`` and ``kubectl()``; CRDs installed.
- ``k8s_api``: a ``kubernetes.client.ApiClient`` for that cluster.
- ``namespace``: a fresh namespace per test, deleted afterwards.
- ``postgres``: a running ``LocalPostgres``; ``pg_url`` gives a fresh database per test.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from orgtwin.testing import tools
from orgtwin.testing.cluster import LocalCluster
from orgtwin.testing.postgres import LocalPostgres


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--kubeconfig",
        default=os.environ.get("ORGTWIN_TEST_KUBECONFIG"),
        help="Run against this existing cluster (e.g. kind) instead of starting one.",
    )
    parser.addoption(
        "--update-golden", action="store_true", default=False, help="Rewrite golden files."
    )


@dataclass
class Cluster:
    """What tests need of a cluster, whether started here or given by --kubeconfig."""

    kubeconfig: Path
    local: LocalCluster | None

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(tools.tool("kubectl")), "--kubeconfig", str(self.kubeconfig), *args]
        out = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        if check and out.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {out.stderr}")
        return out


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    given = request.config.getoption("--kubeconfig")
    if given:
        existing = Cluster(Path(given), None)
        existing.kubectl("apply", "--server-side", "-f", str(tools.REPO_ROOT / "crds"))
        existing.kubectl(
            "wait",
            "--for=condition=Established",
            "crd",
            "-l",
            "app.kubernetes.io/part-of=orgtwin",
            "--timeout=60s",
        )
        yield existing
        return
    local = LocalCluster()
    try:
        local.start()
    except BaseException:
        local.stop()
        raise
    try:
        yield Cluster(local.kubeconfig, local)
    finally:
        local.stop()


@pytest.fixture(scope="session")
def k8s_api(cluster: Cluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


@pytest.fixture
def namespace(k8s_api: client.ApiClient) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(k8s_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    pg = LocalPostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def pg_url(postgres: LocalPostgres) -> str:
    """A fresh, empty database on the session Postgres."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
