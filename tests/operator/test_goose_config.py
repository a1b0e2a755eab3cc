"""The rendered goose config.yaml parses and uses only goose's documented keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fixtures_profiles import PROFILE, RAW_PROFILE, SETTINGS

from orgtwin.core.crds.models import AgentProfileSpec
from orgtwin.operator.builders.goose import configmap_data

pytestmark = pytest.mark.unit
DOCUMENTED = json.loads((Path(__file__).parent / "data" / "goose_documented_keys.json").read_text())


def rendered(provider: str) -> dict[str, object]:
    raw = {**RAW_PROFILE, "model": {**RAW_PROFILE["model"], "provider": provider}}
    spec = AgentProfileSpec.model_validate(raw)
    loaded = yaml.safe_load(configmap_data(spec, SETTINGS)["config.yaml"])
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openrouter", "ollama"])
def test_keys_are_documented_goose_keys(provider: str) -> None:
    config = rendered(provider)
    assert set(config) <= set(DOCUMENTED["root"])
    assert config["GOOSE_MODE"] in DOCUMENTED["modes"]
    for name, ext in config["extensions"].items():  # type: ignore[attr-defined]
        assert set(ext) <= set(DOCUMENTED["extension"]), name
        assert ext["type"] in DOCUMENTED["extension_types"]
        assert ext["name"] == name


def test_openai_points_at_the_proxy() -> None:
    config = rendered("openai")
    assert config["GOOSE_PROVIDER"] == "openai"
    assert config["OPENAI_HOST"] == SETTINGS.proxy_url
    assert config["OPENAI_BASE_PATH"] == "v1/chat/completions"
    assert config["GOOSE_MODEL"] == PROFILE.model.name


def test_anthropic_points_at_the_proxy() -> None:
    config = rendered("anthropic")
    assert config["GOOSE_PROVIDER"] == "anthropic"
    assert config["ANTHROPIC_HOST"] == SETTINGS.proxy_url
    assert "OPENAI_HOST" not in config


@pytest.mark.parametrize("provider", ["openrouter", "ollama"])
def test_other_providers_go_through_the_proxy_openai_endpoint(provider: str) -> None:
    config = rendered(provider)
    assert config["GOOSE_PROVIDER"] == "openai"
    assert config["OPENAI_HOST"] == SETTINGS.proxy_url


def test_mesh_extension_always_present_with_api_url() -> None:
    bare = AgentProfileSpec.model_validate(
        {"role": "x", "model": {"provider": "openai", "name": "m"}}
    )
    config = yaml.safe_load(configmap_data(bare, SETTINGS)["config.yaml"])
    mesh = config["extensions"]["orgtwin"]
    assert mesh["type"] == "stdio"
    assert [mesh["cmd"], *mesh["args"]] == ["orgtwin", "agent", "mcp"]
    assert mesh["envs"] == {"ORGTWIN_API_URL": SETTINGS.api_url}


def test_profile_extensions_rendered_by_type() -> None:
    ext = rendered("openai")["extensions"]
    assert ext["ledger"]["cmd"] == "ledger-mcp"
    assert ext["ledger"]["envs"] == {"LEDGER_MODE": "read"}
    assert ext["wiki"]["uri"] == "https://wiki.acme.test/mcp"  # type: ignore[index]
    assert ext["developer"]["bundled"] is True  # type: ignore[index]


def test_no_secret_in_config() -> None:
    text = configmap_data(PROFILE, SETTINGS)["config.yaml"]
    assert "API_KEY" not in text
    assert "SESSION_TOKEN" not in text
