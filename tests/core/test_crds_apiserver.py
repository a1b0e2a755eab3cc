"""The generated CRDs on a real kube-apiserver: established, samples in, bad objects out."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from orgtwin.core import k8s

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "manifests" / "samples"
PLURALS = {
    "AgentProfile": k8s.PROFILE_PLURAL,
    "OrgUser": k8s.USER_PLURAL,
    "AgentSession": k8s.SESSION_PLURAL,
}


def _create(api: client.ApiClient, ns: str, obj: dict[str, Any]) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    result: dict[str, Any] = custom.create_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, ns, PLURALS[obj["kind"]], obj
    )
    return result


def _patch(api: client.ApiClient, ns: str, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    custom = client.CustomObjectsApi(api)
    custom.patch_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, ns, PLURALS[obj["kind"]], obj["metadata"]["name"], {"spec": spec}
    )


def _rejected_fields(exc: ApiException) -> list[str]:
    body = json.loads(exc.body)
    return [cause.get("field", "") for cause in body.get("details", {}).get("causes", [])]


def _sample(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SAMPLES / name).read_text())
    return doc


def _profile() -> dict[str, Any]:
    return _sample("profiles/finance.yaml")


def _user() -> dict[str, Any]:
    doc: dict[str, Any] = next(yaml.safe_load_all((SAMPLES / "users.yaml").read_text()))
    return doc


def _session() -> dict[str, Any]:
    return _sample("session.yaml")


def test_all_three_crds_are_established(cluster: Any) -> None:
    out = cluster.kubectl("get", "crd", "-l", "app.kubernetes.io/part-of=orgtwin", "-o", "json")
    crds = json.loads(out.stdout)["items"]
    names = sorted(c["metadata"]["name"] for c in crds)
    assert names == [
        "agentprofiles.orgtwin.dev",
        "agentsessions.orgtwin.dev",
        "orgusers.orgtwin.dev",
    ]
    for crd in crds:
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True"
        assert conditions["NamesAccepted"] == "True"


def test_every_sample_is_accepted_and_defaults_apply(cluster: Any, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "profiles"))
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "users.yaml"))
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "session.yaml"))
    out = json.loads(cluster.kubectl("get", "agentprofiles", "-n", namespace, "-o", "json").stdout)
    assert len(out["items"]) == 8
    manager = next(p for p in out["items"] if p["metadata"]["name"] == "manager")
    # Nested defaults materialise: the sample sets none of these.
    assert manager["spec"]["goose"]["image"]
    assert manager["spec"]["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    session = json.loads(
        cluster.kubectl(
            "get", "agentsession", "e010-expenses", "-n", namespace, "-o", "json"
        ).stdout
    )
    assert session["spec"]["desiredState"] == "Active"


# Each case: (kind, mutation of a valid sample, the field path the apiserver must name).
def _set(path: str, value: Any) -> Any:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = obj
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value

    return mutate


_DELETE = object()

INVALID_ON_CREATE = [
    ("unknown-provider", _profile, _set("spec.model.provider", "acme"), "spec.model.provider"),
    ("missing-model", _profile, _set("spec.model", _DELETE), "spec.model"),
    ("bad-role-pattern", _profile, _set("spec.role", "Finance Team"), "spec.role"),
    ("temperature-too-high", _profile, _set("spec.model.temperature", 3), "spec.model.temperature"),
    ("max-tokens-zero", _profile, _set("spec.model.maxTokens", 0), "spec.model.maxTokens"),
    (
        "allow-deny-overlap",
        _profile,
        _set(
            "spec.tools",
            {"allow": ["orgtwin__*", "developer__shell"], "deny": ["developer__shell"]},
        ),
        "spec.tools.allow",
    ),
    ("unknown-privacy-mode", _profile, _set("spec.privacy.mode", "paranoid"), "spec.privacy.mode"),
    (
        "bad-idle-timeout",
        _profile,
        _set("spec.session.idleTimeout", "30 minutes"),
        "spec.session.idleTimeout",
    ),
    (
        "unknown-extension-type",
        _profile,
        _set("spec.goose.extensions", [{"name": "x", "type": "sse", "uri": "http://x"}]),
        "spec.goose.extensions[0].type",
    ),
    (
        "extension-timeout-zero",
        _profile,
        _set("spec.goose.extensions", [{"name": "x", "type": "builtin", "timeout": 0}]),
        "spec.goose.extensions[0].timeout",
    ),
    (
        "lowercase-pattern-name",
        _profile,
        _set("spec.privacy.customPatterns", [{"name": "badge", "regex": "B\\d+"}]),
        "spec.privacy.customPatterns[0].name",
    ),
    ("user-missing-email", _user, _set("spec.email", _DELETE), "spec.email"),
    ("user-bad-email", _user, _set("spec.email", "not-an-email"), "spec.email"),
    ("user-own-manager", _user, _set("spec.managerId", "E001"), "spec.managerId"),
    ("user-bad-employee-id", _user, _set("spec.employeeId", "E 001"), "spec.employeeId"),
    ("session-missing-user", _session, _set("spec.userRef", _DELETE), "spec.userRef"),
    (
        "session-unknown-desired-state",
        _session,
        _set("spec.desiredState", "Running"),
        "spec.desiredState",
    ),
]


@pytest.mark.parametrize(
    ("case", "sample", "mutate", "field"), INVALID_ON_CREATE, ids=[c[0] for c in INVALID_ON_CREATE]
)
def test_invalid_object_is_rejected_naming_the_field(
    k8s_api: client.ApiClient, namespace: str, case: str, sample: Any, mutate: Any, field: str
) -> None:
    obj = copy.deepcopy(sample())
    mutate(obj)
    with pytest.raises(ApiException) as info:
        _create(k8s_api, namespace, obj)
    assert info.value.status == 422, info.value.body
    assert field in _rejected_fields(info.value), info.value.body


def test_session_user_ref_is_immutable(k8s_api: client.ApiClient, namespace: str) -> None:
    session = _session()
    _create(k8s_api, namespace, session)
    with pytest.raises(ApiException) as info:
        _patch(k8s_api, namespace, session, {"userRef": "e009"})
    assert info.value.status == 422
    assert "spec.userRef" in _rejected_fields(info.value)


def test_completed_session_cannot_be_resumed(k8s_api: client.ApiClient, namespace: str) -> None:
    session = _session()
    _create(k8s_api, namespace, session)
    _patch(k8s_api, namespace, session, {"desiredState": "Completed"})
    with pytest.raises(ApiException) as info:
        _patch(k8s_api, namespace, session, {"desiredState": "Active"})
    assert info.value.status == 422
    assert "spec.desiredState" in _rejected_fields(info.value)


def test_printer_columns(cluster: Any, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "profiles" / "finance.yaml"))
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "users.yaml"))
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "session.yaml"))
    out = cluster.kubectl("get", "agentsessions,orgusers,agentprofiles", "-n", namespace).stdout
    headers = [line.split() for line in out.splitlines() if line.startswith("NAME")]
    assert ["NAME", "USER", "PROFILE", "PHASE", "AGE"] in headers
    assert ["NAME", "EMPLOYEE", "DEPARTMENT", "PROFILE", "READY", "AGE"] in headers
    assert ["NAME", "ROLE", "PROVIDER", "MODEL", "PRIVACY", "USERS", "READY", "AGE"] in headers
    by_category = cluster.kubectl("get", "orgtwin", "-n", namespace, "-o", "name").stdout
    assert "agentsession.orgtwin.dev/e010-expenses" in by_category


def test_a_pod_runs_and_becomes_ready_on_the_kwok_node(
    k8s_api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(k8s_api)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="probe"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
    )
    core.create_namespaced_pod(namespace, pod)
    deadline = time.monotonic() + 90
    status = None
    while time.monotonic() < deadline:
        status = core.read_namespaced_pod("probe", namespace).status
        ready = {c.type: c.status for c in status.conditions or []}.get("Ready")
        if status.phase == "Running" and ready == "True":
            break
        time.sleep(0.5)
    assert status is not None
    assert status.phase == "Running"
    assert {c.type: c.status for c in status.conditions}["Ready"] == "True"
    assert core.read_namespaced_pod("probe", namespace).spec.node_name == "kwok-node-0"
