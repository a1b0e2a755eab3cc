"""Pure builders against golden YAML (``pytest --update-golden`` rewrites them)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures_profiles import PROFILE, PROFILE_OWNER, SETTINGS, session_ctx

from orgtwin.core import k8s
from orgtwin.operator import builders

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).parent / "golden"
FAKE_TOKEN = "header.payload.signature"


def check_golden(name: str, obj: dict[str, Any], update: bool) -> None:
    path = GOLDEN / f"{name}.yaml"
    text = yaml.safe_dump(obj, sort_keys=True)
    if update or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == obj, f"{path} differs"


BUILT = {
    "pod": lambda: builders.pod(session_ctx()),
    "secret": lambda: builders.token_secret(session_ctx(), FAKE_TOKEN),
    "networkpolicy": lambda: builders.network_policy(session_ctx()),
    "configmap": lambda: builders.configmap("acme", PROFILE_OWNER, PROFILE, SETTINGS),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_golden(name: str, update_golden: bool) -> None:
    check_golden(name, BUILT[name](), update_golden)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_builders_are_deterministic(name: str) -> None:
    assert BUILT[name]() == BUILT[name]()


@pytest.mark.parametrize("name", ["pod", "secret", "networkpolicy"])
def test_children_are_owned_and_labelled(name: str) -> None:
    meta = BUILT[name]()["metadata"]
    assert meta["ownerReferences"][0]["kind"] == "AgentSession"
    assert meta["ownerReferences"][0]["controller"] is True
    for label in (k8s.LABEL_SESSION, k8s.LABEL_USER, k8s.LABEL_PROFILE):
        assert meta["labels"][label]


def test_pod_is_locked_down_and_holds_no_provider_key() -> None:
    pod = builders.pod(session_ctx())
    spec = pod["spec"]
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"]
    assert sc["readOnlyRootFilesystem"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    assert container["readinessProbe"]
    assert spec["automountServiceAccountToken"] is False
    # Every secret-valued variable comes from the session's own token Secret.
    secret_refs = {
        e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
    }
    assert secret_refs == {k8s.session_secret_name("alice-20260101")}
    assert all("value" not in e or "sk-" not in e["value"] for e in container["env"])
    assert container["command"] == ["orgtwin", "agent", "entrypoint"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/orgtwin/profile"]["readOnly"] is True


def test_secret_holds_the_token() -> None:
    secret = builders.token_secret(session_ctx(), FAKE_TOKEN)
    assert base64.b64decode(secret["data"]["token"]).decode() == FAKE_TOKEN


def test_network_policy_allows_only_proxy_api_and_dns() -> None:
    policy = builders.network_policy(session_ctx())["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in policy
    peers = [rule["to"][0] for rule in policy["egress"]]
    assert peers[0]["podSelector"]["matchLabels"] == SETTINGS.proxy_pod_labels
    assert peers[1]["podSelector"]["matchLabels"] == SETTINGS.api_pod_labels
    assert peers[2]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


def test_configmap_hash_follows_content() -> None:
    cm = builders.configmap("acme", PROFILE_OWNER, PROFILE, SETTINGS)
    changed = PROFILE.model_copy(
        update={"goose": PROFILE.goose.model_copy(update={"instructions": "Something else."})}
    )
    cm2 = builders.configmap("acme", PROFILE_OWNER, changed, SETTINGS)
    label = k8s.LABEL_CONFIG_HASH
    assert cm["metadata"]["labels"][label] == builders.config_hash(cm["data"])
    assert cm["metadata"]["labels"][label] != cm2["metadata"]["labels"][label]
    assert cm["data"][".goosehints"] == PROFILE.goose.instructions
    assert yaml.safe_load(cm["data"]["recipe-month-end.yaml"])["title"] == "Month-end close"
