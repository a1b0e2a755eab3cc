"""The chart's CRDs stay the generated ones: `make crds` writes crds/ and the chart's copy."""

from __future__ import annotations

import pytest
import yaml
from chart_kit import CHART

from orgtwin.testing import tools

pytestmark = pytest.mark.integration

GENERATED = tools.REPO_ROOT / "crds"
CHART_CRDS = CHART / "crds"
PEERING = "kopfpeerings.kopf.dev.yaml"
OPERATOR_PEERING = tools.REPO_ROOT / "manifests" / "operator" / "peering-crd.yaml"


def test_chart_crds_equal_the_generated_crds() -> None:
    generated = {p.name: p.read_bytes() for p in GENERATED.glob("*.yaml")}
    in_chart = {p.name: p.read_bytes() for p in CHART_CRDS.glob("*.yaml") if p.name != PEERING}
    assert generated, "crds/ is empty"
    assert sorted(in_chart) == sorted(generated), "run `make crds`"
    for name, content in generated.items():
        assert in_chart[name] == content, f"charts/orgtwin/crds/{name} is stale: run `make crds`"


def test_chart_ships_kopfs_namespaced_peering_crd() -> None:
    crd = yaml.safe_load((CHART_CRDS / PEERING).read_text())
    assert crd["spec"]["group"] == "kopf.dev"
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["plural"] == "kopfpeerings"
    assert [v["name"] for v in crd["spec"]["versions"]] == ["v1"]


@pytest.mark.skipif(not OPERATOR_PEERING.exists(), reason="manifests/operator has no peering CRD")
def test_chart_peering_crd_matches_the_operators_manifest() -> None:
    ours = yaml.safe_load((CHART_CRDS / PEERING).read_text())
    theirs = next(
        d
        for d in yaml.safe_load_all(OPERATOR_PEERING.read_text())
        if d and d["metadata"]["name"] == "kopfpeerings.kopf.dev"
    )
    assert ours["spec"] == theirs["spec"]
