"""charts/orgtwin lints and renders; workloads are locked down; keys are generated, not shipped."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_kit import CHART, FULL_VALUES, env_of, helm, objects, of_kind, pod_specs, render

from orgtwin.api.settings import ApiSettings
from orgtwin.core.settings import BaseServiceSettings
from orgtwin.operator.settings import OperatorSettings
from orgtwin.proxy.settings import ProxySettings

pytestmark = pytest.mark.integration

VALUE_SETS = {"defaults": None, "full": FULL_VALUES}
SETTINGS: dict[str, type[BaseServiceSettings]] = {
    "ORGTWIN_OPERATOR_": OperatorSettings,
    "ORGTWIN_API_": ApiSettings,
    "ORGTWIN_PROXY_": ProxySettings,
}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return objects(render("acme", VALUE_SETS[request.param]))


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_helm_lint_is_clean(values: str) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", "acme"]
    if VALUE_SETS[values] is not None:
        args += ["--values", str(VALUE_SETS[values])]
    out = helm(*args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in out.stdout


def test_defaults_render_the_three_services_and_their_plumbing() -> None:
    objs = objects(render())
    assert sorted(of_kind(objs, "Deployment")) == [
        "orgtwin-api",
        "orgtwin-operator",
        "orgtwin-proxy",
    ]
    # The operator's defaults (ORGTWIN_OPERATOR_API_URL / PROXY_URL) name these Services.
    services = of_kind(objs, "Service")
    assert sorted(services) == ["orgtwin-api", "orgtwin-proxy"]
    assert {s["spec"]["ports"][0]["port"] for s in services.values()} == {8080}
    assert sorted(of_kind(objs, "ServiceAccount")) == [
        "orgtwin-api",
        "orgtwin-operator",
        "orgtwin-proxy",
    ]
    assert sorted(of_kind(objs, "Secret")) == ["orgtwin-masking", "orgtwin-session-signing"]
    assert sorted(of_kind(objs, "NetworkPolicy")) == [
        "orgtwin-api",
        "orgtwin-operator",
        "orgtwin-proxy",
    ]
    assert of_kind(objs, "Deployment")["orgtwin-operator"]["spec"]["replicas"] == 2
    assert list(of_kind(objs, "KopfPeering")) == ["orgtwin"]
    job = of_kind(objs, "Job")["orgtwin-api-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["api", "migrate"]


def test_every_workload_is_non_root_read_only_and_without_capabilities(
    rendered: list[dict[str, Any]],
) -> None:
    specs = pod_specs(rendered)
    assert len([k for k in specs if k.startswith("Deployment/")]) == 3
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, (name, c["name"])
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert "add" not in sc["capabilities"], (name, c["name"])
            assert c["resources"]["limits"], (name, c["name"])
            assert c["resources"]["requests"], (name, c["name"])
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, (name, c["name"])


def test_every_deployment_probes_its_health_endpoint(rendered: list[dict[str, Any]]) -> None:
    for name, dep in of_kind(rendered, "Deployment").items():
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        live, ready = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
        assert live["path"] == "/healthz", name
        assert ready["path"] in {"/healthz", "/readyz"}, name
        assert live["port"] in ports, name
        assert ready["port"] in ports, name
        env = env_of(container)
        # A probe on a port the process does not listen on would restart it forever.
        if name.endswith("-operator"):
            assert str(ports["health"]) == env["ORGTWIN_OPERATOR_HEALTH_PORT"]["value"]
            assert env["ORGTWIN_OPERATOR_LISTEN_HOST"]["value"] == "0.0.0.0"
        else:
            prefix = "ORGTWIN_API_" if name.endswith("-api") else "ORGTWIN_PROXY_"
            assert str(ports["http"]) == env[f"{prefix}PORT"]["value"]
            assert env[f"{prefix}HOST"]["value"] == "0.0.0.0"


def _settings_env(container: dict[str, Any], prefix: str) -> dict[str, str]:
    """The container's env as the process would see it, Secret references filled with dummies."""
    env: dict[str, str] = {}
    for name, entry in env_of(container).items():
        if not name.startswith(prefix):
            continue
        if "value" in entry:
            env[name] = entry["value"]
        elif "secretKeyRef" in entry["valueFrom"]:
            env[name] = "x" * 48
        else:
            env[name] = "acme"  # the namespace, from the downward API
    return env


def test_every_env_var_is_a_setting_the_service_reads(
    rendered: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt variable would be silently ignored (extra="ignore"), so check each one."""
    checked = 0
    for spec in pod_specs(rendered).values():
        for container in spec["containers"]:
            for prefix, settings_cls in SETTINGS.items():
                env = _settings_env(container, prefix)
                if not env:
                    continue
                fields = set(settings_cls.model_fields)
                unknown = {n for n in env if n.removeprefix(prefix).lower() not in fields}
                assert not unknown, f"{settings_cls.__name__} has no field for {unknown}"
                for name, value in env.items():
                    monkeypatch.setenv(name, value)
                settings = settings_cls()  # parses and validates every value
                for name in env:
                    monkeypatch.delenv(name)
                if f"{prefix}NAMESPACE" in env:  # the migrate Job needs only the database
                    assert settings.namespace == "acme"
                checked += 1
    assert checked == 4  # operator, api, migrate job, proxy


def test_operator_points_agents_at_the_rendered_services(rendered: list[dict[str, Any]]) -> None:
    deployments = of_kind(rendered, "Deployment")
    services = of_kind(rendered, "Service")
    op = next(d for n, d in deployments.items() if n.endswith("-operator"))
    env = env_of(op["spec"]["template"]["spec"]["containers"][0])
    for component in ("api", "proxy"):
        (svc,) = [s for n, s in services.items() if n.endswith(f"-{component}")]
        url = env[f"ORGTWIN_OPERATOR_{component.upper()}_URL"]["value"]
        assert url == f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"
        # The per-session NetworkPolicies allow egress to pods with these labels and port.
        labels = yaml.safe_load(env[f"ORGTWIN_OPERATOR_{component.upper()}_POD_LABELS"]["value"])
        (dep,) = [d for n, d in deployments.items() if n.endswith(f"-{component}")]
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        assert labels.items() <= pod_labels.items()
        port = dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        assert env[f"ORGTWIN_OPERATOR_{component.upper()}_PORT"]["value"] == str(port)


def test_provider_keys_reach_only_the_proxy(rendered: list[dict[str, Any]]) -> None:
    for name, spec in pod_specs(rendered).items():
        for container in spec["containers"]:
            has_keys = [n for n in env_of(container) if re.fullmatch(r".*_(API_KEY)", n)]
            if name.endswith("-proxy"):
                assert "ORGTWIN_PROXY_OPENAI_API_KEY" in has_keys
                assert "ORGTWIN_PROXY_ANTHROPIC_API_KEY" in has_keys
            else:
                assert not has_keys, name


def _key_like_literals(node: Any) -> set[str]:
    """Every string in values.yaml long and random enough to be mistaken for a key."""
    if isinstance(node, dict):
        return set().union(*(_key_like_literals(v) for v in node.values()), set())
    if isinstance(node, list):
        return set().union(*(_key_like_literals(v) for v in node), set())
    if isinstance(node, str) and len(node) >= 16 and " " not in node:
        return {node}
    return set()


def test_secrets_hold_generated_keys_never_a_value_from_values_yaml() -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    literals = _key_like_literals(defaults)
    first, second = (of_kind(objects(render()), "Secret") for _ in range(2))
    for name, secret in first.items():
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert "stringData" not in secret
        for key, encoded in secret["data"].items():
            value = base64.b64decode(encoded).decode()
            assert len(value.encode()) >= 32, (name, key)  # HS256 needs >= 32 bytes
            assert not any(lit in value or value in lit for lit in literals), (name, key)
            # Generated per render: two installs never share a key.
            assert second[name]["data"][key] != encoded, (name, key)


def test_no_key_is_committed_in_the_chart() -> None:
    text = "\n".join(p.read_text() for p in sorted(CHART.rglob("*")) if p.is_file())
    assert not re.search(r"(sk-[A-Za-z0-9]{20}|AKIA[0-9A-Z]{16}|BEGIN [A-Z ]*PRIVATE KEY)", text)
    assert "stringData" not in text


def test_dev_mode_is_off_by_default_and_explicit_when_on() -> None:
    def api_env(values: Path | None) -> dict[str, dict[str, Any]]:
        deps = of_kind(objects(render("acme", values)), "Deployment")
        (api,) = [d for n, d in deps.items() if n.endswith("-api")]
        return env_of(api["spec"]["template"]["spec"]["containers"][0])

    off = api_env(None)
    assert off["ORGTWIN_API_ENVIRONMENT"]["value"] == "production"
    assert "ORGTWIN_API_DEV_MODE" not in off
    on = api_env(FULL_VALUES)
    assert on["ORGTWIN_API_DEV_MODE"]["value"] == "true"
    assert on["ORGTWIN_API_ENVIRONMENT"]["value"] == "development"
    assert "secretKeyRef" in on["ORGTWIN_API_DEV_SIGNING_KEY"]["valueFrom"]


def test_standalone_operator_is_refused_with_more_than_one_replica() -> None:
    out = helm("template", "orgtwin", str(CHART), "--set", "operator.peering.create=false")
    assert out.returncode != 0
    assert "operator.replicas > 1 needs operator.peering.create=true" in out.stderr
    single = ["--set", "operator.peering.create=false", "--set", "operator.replicas=1"]
    objs = objects(render("acme", None, *single))
    assert not of_kind(objs, "KopfPeering")
    (op,) = [d for n, d in of_kind(objs, "Deployment").items() if n.endswith("-operator")]
    env = env_of(op["spec"]["template"]["spec"]["containers"][0])
    assert env["ORGTWIN_OPERATOR_STANDALONE"]["value"] == "true"


def test_half_an_oidc_configuration_is_refused() -> None:
    out = helm("template", "orgtwin", str(CHART), "--set", "oidc.issuer=https://idp.example.com")
    assert out.returncode != 0
    assert "oidc.issuer, oidc.audience and oidc.jwksUrl go together" in out.stderr
    whole = [
        "--set",
        "oidc.issuer=https://idp.example.com",
        "--set",
        "oidc.audience=orgtwin",
        "--set",
        "oidc.jwksUrl=https://idp.example.com/jwks",
    ]
    (api,) = [
        d
        for n, d in of_kind(objects(render("acme", None, *whole)), "Deployment").items()
        if n.endswith("-api")
    ]
    env = env_of(api["spec"]["template"]["spec"]["containers"][0])
    assert env["ORGTWIN_API_OIDC_AUDIENCE"]["value"] == "orgtwin"


def test_replicated_components_get_a_disruption_budget(rendered: list[dict[str, Any]]) -> None:
    budgets = of_kind(rendered, "PodDisruptionBudget")
    for name, dep in of_kind(rendered, "Deployment").items():
        selector = dep["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector
        assert budgets[name]["spec"]["maxUnavailable"] == 1
