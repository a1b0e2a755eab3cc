"""The real apiserver accepts every rendered object; upgrades keep the generated keys."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from chart_kit import CHART, FULL_VALUES, helm, objects, render

pytestmark = pytest.mark.integration

PEERING_CRD = CHART / "crds" / "kopfpeerings.kopf.dev.yaml"


@pytest.fixture(scope="module")
def peering_crd(cluster: Any) -> Iterator[None]:
    """kopf's peering CRD (shipped in the chart's crds/); removed again only if we added it."""
    present = cluster.kubectl("get", "crd", "kopfpeerings.kopf.dev", check=False).returncode == 0
    if not present:
        cluster.kubectl("create", "-f", str(PEERING_CRD))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd/kopfpeerings.kopf.dev"
    )
    yield
    if not present:
        cluster.kubectl("delete", "crd", "kopfpeerings.kopf.dev", "--wait=false", check=False)


@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["defaults", "full"])
def test_apiserver_accepts_every_rendered_object(
    cluster: Any, namespace: str, peering_crd: None, values: Any
) -> None:
    manifest = render(namespace, values)
    objs = objects(manifest)
    out = cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=manifest)
    accepted = [line for line in out.stdout.splitlines() if "(server dry run)" in line]
    assert len(accepted) == len(objs), out.stdout + out.stderr


def _secret(cluster: Any, namespace: str, name: str, key: str) -> bytes:
    out = cluster.kubectl("get", "secret", name, "-n", namespace, "-o", f"jsonpath={{.data.{key}}}")
    return base64.b64decode(out.stdout)


def test_install_upgrade_uninstall_keeps_the_tenant_keys(
    cluster: Any, namespace: str, peering_crd: None
) -> None:
    # No hooks: the migration Job would wait for a Postgres that this harness does not give it.
    common = ["--namespace", namespace, "--skip-crds", "--no-hooks"]
    kube = cluster.kubeconfig
    out = helm("install", "orgtwin", str(CHART), *common, kubeconfig=kube)
    assert out.returncode == 0, out.stderr
    signing = _secret(cluster, namespace, "orgtwin-session-signing", "signing-key")
    masking = _secret(cluster, namespace, "orgtwin-masking", "masking-key")
    assert len(signing) >= 32
    assert len(masking) >= 32
    assert signing != masking

    out = helm(
        "upgrade", "orgtwin", str(CHART), *common, "--set", "proxy.replicas=3", kubeconfig=kube
    )
    assert out.returncode == 0, out.stderr
    replicas = cluster.kubectl(
        "get", "deploy", "orgtwin-proxy", "-n", namespace, "-o", "jsonpath={.spec.replicas}"
    )
    assert replicas.stdout == "3"
    # Same keys after the upgrade: existing session tokens and placeholders stay valid.
    assert _secret(cluster, namespace, "orgtwin-session-signing", "signing-key") == signing
    assert _secret(cluster, namespace, "orgtwin-masking", "masking-key") == masking

    out = helm("uninstall", "orgtwin", "--namespace", namespace, kubeconfig=kube)
    assert out.returncode == 0, out.stderr
    # helm.sh/resource-policy=keep: uninstalling does not destroy the tenant's keys.
    assert _secret(cluster, namespace, "orgtwin-session-signing", "signing-key") == signing
    gone = cluster.kubectl("get", "deploy", "-n", namespace, "-o", "name")
    assert gone.stdout.strip() == ""
    observe = f"{namespace}-orgtwin-operator-observe"
    assert cluster.kubectl("get", "clusterrole", observe, check=False).returncode != 0
