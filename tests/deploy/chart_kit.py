"""Render charts/orgtwin with the pinned helm binary and read the result as objects."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from orgtwin.testing import tools

CHART = tools.REPO_ROOT / "charts" / "orgtwin"
FULL_VALUES = Path(__file__).with_name("values-full.yaml")


def helm(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(tools.tool("helm")), *args]
    if kubeconfig is not None:
        cmd += ["--kubeconfig", str(kubeconfig)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def render(namespace: str = "acme", values: Path | None = None, *extra: str) -> str:
    args = ["template", "orgtwin", str(CHART), "--namespace", namespace]
    if values is not None:
        args += ["--values", str(values)]
    out = helm(*args, *extra)
    assert out.returncode == 0, out.stderr
    return out.stdout


def objects(manifest: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def of_kind(objs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def pod_specs(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod template specs of every workload (Deployments and the migration Job)."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"]
        for o in objs
        if o["kind"] in {"Deployment", "Job"}
    }


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}
