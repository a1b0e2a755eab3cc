"""Operator fixtures: an operator subprocess per test module watching ``op-<module>-*``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from operator_kit import Objects, OperatorProcess, wait_for

from orgtwin.core import k8s
from orgtwin.testing import tools

PEERING_MANIFEST = tools.REPO_ROOT / "manifests" / "operator" / "peering-crd.yaml"


def new_namespace(api: client.ApiClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
    )
    return name


def drop_namespace(api: client.ApiClient, name: str) -> None:
    """Delete a test namespace even when no operator is left to release kopf's finalizers."""
    custom = client.CustomObjectsApi(api)
    for plural in (k8s.SESSION_PLURAL, k8s.PROFILE_PLURAL):
        for item in custom.list_namespaced_custom_object(k8s.GROUP, k8s.VERSION, name, plural)[
            "items"
        ]:
            if item["metadata"].get("finalizers"):
                custom.patch_namespaced_custom_object(
                    k8s.GROUP,
                    k8s.VERSION,
                    name,
                    plural,
                    item["metadata"]["name"],
                    {"metadata": {"finalizers": None}},
                )
    client.CoreV1Api(api).delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="module")
def op_prefix() -> str:
    return f"op{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def operator_proc(
    cluster: object,
    k8s_api: client.ApiClient,
    op_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    """One standalone operator for the module, watching the module's namespaces.

    Handed over once it has acted in a first matching namespace, so that no test's own
    wait includes the operator's start-up. (A namespace created during kopf's start-up
    used to be missed; orgtwin.operator.kopf_fixes fixes that.) The warm-up has its own,
    longer bound.
    """
    log = Path(tmp_path_factory.mktemp("operator")) / "operator.log"
    proc = OperatorProcess(cluster.kubeconfig, [f"{op_prefix}-*"], log)  # type: ignore[attr-defined]
    proc.start()
    try:
        warm = new_namespace(k8s_api, op_prefix)
        objs = Objects(k8s_api, warm)
        objs.user("warmup", profile="absent")
        wait_for(
            lambda: objs.condition(k8s.USER_PLURAL, "warmup", "ProfileResolved"),
            240,
            "the operator acting in its first namespace",
            check=proc.alive_check,
            interval=0.5,
            slack=1,
        )
        drop_namespace(k8s_api, warm)
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def objs(
    k8s_api: client.ApiClient, op_prefix: str, operator_proc: OperatorProcess
) -> Iterator[Objects]:
    """A fresh namespace watched by the module's operator."""
    ns = new_namespace(k8s_api, op_prefix)
    try:
        yield Objects(k8s_api, ns)
    finally:
        operator_proc.alive_check()
        drop_namespace(k8s_api, ns)


@pytest.fixture(scope="session")
def peering_crd(cluster: object) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(PEERING_MANIFEST))  # type: ignore[attr-defined]
    cluster.kubectl(  # type: ignore[attr-defined]
        "wait", "--for=condition=Established", "--timeout=60s", "crd/kopfpeerings.kopf.dev"
    )
