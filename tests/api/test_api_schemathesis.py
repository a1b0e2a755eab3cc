"""Schemathesis against the served OpenAPI: zero 5xx and zero response-schema violations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from apikit import ORG_CSV, Api, admin, settings_for
from conftest import PROFILES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from kubernetes import client
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from servers import ThreadServer

from orgtwin.api import migrations
from orgtwin.testing.postgres import LocalPostgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(postgres: LocalPostgres, cluster, k8s_api: client.ApiClient) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    db = postgres.create_database(f"st_{uuid.uuid4().hex[:10]}")
    migrations.upgrade(db)
    namespace = f"st-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    cluster.kubectl("apply", "-n", namespace, "-f", str(PROFILES))
    with ThreadServer(
        settings_for(db, str(cluster.kubeconfig), namespace, inbox_max_wait_seconds=0.2)
    ) as server:
        seed = Api(httpx.Client(base_url=server.url), k8s_api, namespace)  # type: ignore[arg-type]
        assert seed.import_csv(ORG_CSV).status_code == 201
        agent = seed.agent("E3", "finance")
        agent.pop("X-Session")
        yield {"url": server.url, "agent": agent}
    core.delete_namespace(namespace, propagation_policy="Background")


@pytest.fixture(scope="module")
def api_schema(served: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{served['url']}/openapi.json")


# Bounded so the whole run stays near a minute on a small machine.
EXAMPLES = 8


def test_no_server_errors_and_responses_match_the_schema(
    api_schema: Any, served: dict[str, Any]
) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        headers = served["agent"] if operation.path.startswith("/v1/mesh") else admin()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def run(case: Any) -> None:
                case.call_and_validate(
                    base_url=served["url"],
                    headers=headers,  # noqa: B023 - run() is called within this iteration
                    checks=[not_a_server_error, response_schema_conformance],
                )

            try:
                run()
            except Unsatisfiable:
                # No parameters to get wrong (e.g. /healthz): no negative case exists.
                assert mode is GenerationMode.NEGATIVE
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(
                    f"{operation.method.upper()} {operation.path} [{mode.value}]: {str(exc)[:600]}"
                )
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
