"""The goose entrypoint: profile ConfigMap + session env -> goose's files and command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orgtwin.agent.entrypoint import (
    DEFAULT_PROMPT,
    EntrypointError,
    Profile,
    read_profile,
    render,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbg.c2lnbmVk"
ENV = {
    "HOME": "/home/goose",
    "ORGTWIN_API_URL": "http://orgtwin-api.tenant-a:8080",
    "ORGTWIN_PROXY_URL": "http://orgtwin-proxy.tenant-a:8080",
    "ORGTWIN_SESSION_TOKEN": TOKEN,
    "OPENAI_API_KEY": TOKEN,
}
MINIMAL = "GOOSE_PROVIDER: openai\nGOOSE_MODEL: gpt-4o-mini\n"


def operator_profile(name: str = "finance") -> Profile:
    """The profile exactly as the operator renders it into the ConfigMap."""
    goose = pytest.importorskip("orgtwin.operator.builders.goose")
    settings_mod = pytest.importorskip("orgtwin.operator.settings")
    from orgtwin.core.crds.models import AgentProfileSpec

    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / f"manifests/samples/profiles/{name}.yaml").read_text())
    data = goose.configmap_data(
        AgentProfileSpec.model_validate(doc["spec"]), settings_mod.OperatorSettings()
    )
    recipes = {k.removeprefix("recipe-"): v for k, v in data.items() if k.startswith("recipe-")}
    return Profile(data["config.yaml"], data.get(".goosehints", ""), recipes)


def test_operator_configmap_renders_to_goose_files() -> None:
    rendered = render(operator_profile(), ENV)

    assert set(rendered.files) == {
        ".config/goose/config.yaml",
        ".config/goose/.goosehints",
        ".config/goose/recipes/file-expense.yaml",
    }
    config = yaml.safe_load(rendered.files[".config/goose/config.yaml"])
    assert config["GOOSE_PROVIDER"] == "openai"
    assert config["GOOSE_MODEL"]
    assert config["OPENAI_HOST"].startswith("http://")
    assert config["OPENAI_BASE_PATH"] == "v1/chat/completions"
    assert config["GOOSE_MODE"] == "auto"
    mesh = config["extensions"]["orgtwin"]
    assert (mesh["type"], mesh["cmd"], mesh["args"]) == ("stdio", "orgtwin", ["agent", "mcp"])
    assert mesh["envs"]["ORGTWIN_API_URL"] == ENV["ORGTWIN_API_URL"]
    assert mesh["env_keys"] == ["ORGTWIN_SESSION_TOKEN"]
    assert "finance agent" in rendered.files[".config/goose/.goosehints"]
    assert rendered.argv == ("goose", "run", "-t", DEFAULT_PROMPT)


def test_no_file_ever_holds_the_token() -> None:
    for name in ("finance", "legal", "manager"):
        rendered = render(operator_profile(name), ENV)
        assert all(TOKEN not in text for text in rendered.files.values()), name


def test_proxy_fills_the_provider_host_when_the_profile_has_none() -> None:
    openai = yaml.safe_load(render(Profile(MINIMAL), ENV).files[".config/goose/config.yaml"])
    anthropic = yaml.safe_load(
        render(Profile("GOOSE_PROVIDER: anthropic\nGOOSE_MODEL: claude-sonnet-4\n"), ENV).files[
            ".config/goose/config.yaml"
        ]
    )

    assert openai["OPENAI_HOST"] == ENV["ORGTWIN_PROXY_URL"]
    assert openai["OPENAI_BASE_PATH"] == "v1/chat/completions"
    assert anthropic["ANTHROPIC_HOST"] == ENV["ORGTWIN_PROXY_URL"]
    assert "OPENAI_HOST" not in anthropic
    assert openai["extensions"]["orgtwin"]["cmd"] == "orgtwin"


def test_a_credential_in_the_profile_is_refused_by_name() -> None:
    leaky = MINIMAL + "OPENAI_API_KEY: sk-live-abcdef0123456789\n"
    with pytest.raises(EntrypointError) as err:
        render(Profile(leaky), ENV)
    assert "OPENAI_API_KEY" in str(err.value)
    assert "sk-live" not in str(err.value)


def test_the_token_inside_hints_is_refused() -> None:
    with pytest.raises(EntrypointError, match="session token"):
        render(Profile(MINIMAL, hints=f"use {TOKEN}"), ENV)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("GOOSE_PROVIDER: openai\n", "GOOSE_MODEL"),
        ("- a\n- b\n", "mapping"),
        ("GOOSE_MODEL: [unclosed\n", "YAML"),
    ],
)
def test_broken_profiles_fail_clearly(config: str, message: str) -> None:
    with pytest.raises(EntrypointError, match=message):
        render(Profile(config), ENV)


def test_a_named_recipe_runs_headless_from_home() -> None:
    profile = Profile(MINIMAL, recipes={"file-expense.yaml": "title: x\n"})

    rendered = render(profile, {**ENV, "ORGTWIN_RECIPE": "file-expense"})

    assert rendered.argv == (
        "goose",
        "run",
        "--recipe",
        "/home/goose/.config/goose/recipes/file-expense.yaml",
    )
    with pytest.raises(EntrypointError, match="recipe"):
        render(profile, {**ENV, "ORGTWIN_RECIPE": "missing"})


def test_read_profile_takes_configmap_keys_and_a_recipes_folder(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(MINIMAL)
    (tmp_path / ".goosehints").write_text("be brief")
    (tmp_path / "recipe-review.yaml").write_text("title: review\n")
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "triage.yaml").write_text("title: triage\n")

    profile = read_profile(tmp_path)

    assert profile.hints == "be brief"
    assert set(profile.recipes) == {"review.yaml", "triage.yaml"}
    with pytest.raises(EntrypointError, match=r"no config\.yaml"):
        read_profile(tmp_path / "recipes")


def test_entrypoint_installs_config_then_execs_goose(tmp_path: Path) -> None:
    profile_dir = tmp_path / "profile"
    profile_dir.mkdir()
    (profile_dir / "config.yaml").write_text(MINIMAL)
    (profile_dir / ".goosehints").write_text("be brief")
    home = tmp_path / "home"
    home.mkdir()
    fake_goose = tmp_path / "goose"
    fake_goose.write_text(
        '#!/bin/sh\nprintf "%s\\n" "$$" "$@" > "$HOME/goose-argv"\n'
        'cat "$HOME/.config/goose/config.yaml" > "$HOME/goose-saw-config"\n'
    )
    fake_goose.chmod(0o755)
    env = {
        **ENV,
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ORGTWIN_PROFILE_DIR": str(profile_dir),
        "ORGTWIN_GOOSE_BIN": str(fake_goose),
        "ORGTWIN_PROMPT": "check the inbox",
    }

    proc = subprocess.Popen(
        [sys.executable, "-m", "orgtwin.agent", "entrypoint"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 0, stderr
    pid, *argv = (home / "goose-argv").read_text().splitlines()
    assert int(pid) == proc.pid  # exec'd in place: signals reach goose
    assert argv == ["run", "-t", "check the inbox"]
    config = yaml.safe_load((home / "goose-saw-config").read_text())
    assert config["OPENAI_HOST"] == ENV["ORGTWIN_PROXY_URL"]
    assert (home / ".config/goose/.goosehints").read_text() == "be brief"
    assert TOKEN not in stderr


def test_entrypoint_reports_a_missing_profile(tmp_path: Path) -> None:
    env = {**ENV, "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    env["ORGTWIN_PROFILE_DIR"] = str(tmp_path / "nowhere")
    out = subprocess.run(
        [sys.executable, "-m", "orgtwin.agent", "entrypoint"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "no config.yaml" in out.stderr
    assert "Traceback" not in out.stderr
