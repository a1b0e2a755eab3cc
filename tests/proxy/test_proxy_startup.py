"""``orgtwin proxy serve`` that cannot start says what to set in one line, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orgtwin.cli.main import app

pytestmark = pytest.mark.unit

KEYS = {
    "ORGTWIN_PROXY_MASKING_KEY": "m" * 32,
    "ORGTWIN_PROXY_SESSION_SIGNING_KEY": "s" * 32,
}


def _refused(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> str:
    """The one line on standard error of a serve that exits 1 before listening."""
    for name in os.environ:
        if name.startswith("ORGTWIN_PROXY_"):
            monkeypatch.delenv(name)
    result = CliRunner().invoke(app, ["proxy", "serve"], env=env)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("orgtwin proxy: cannot start: ")
    return result.stderr.removeprefix("orgtwin proxy: cannot start: ").strip()


def test_invalid_settings_and_missing_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    error = _refused(monkeypatch, {**KEYS, "ORGTWIN_PROXY_PORT": "80s3cret"})
    assert error.startswith("invalid settings: ORGTWIN_PROXY_PORT: ")
    assert "80s3cret" not in error
    missing = {"ORGTWIN_PROXY_SESSION_SIGNING_KEY": "s" * 32}
    assert _refused(monkeypatch, missing) == (
        "set ORGTWIN_PROXY_MASKING_KEY or ORGTWIN_PROXY_MASKING_KEY_FILE"
    )
    nope, empty = tmp_path / "nope", tmp_path / "empty-key"
    empty.write_text("\n")
    variable = "ORGTWIN_PROXY_SESSION_SIGNING_KEY_FILE"
    env = {"ORGTWIN_PROXY_MASKING_KEY": "m" * 32, variable: str(nope)}
    assert (
        _refused(monkeypatch, env) == f"cannot read {variable} ({nope}): No such file or directory"
    )
    env[variable] = str(empty)
    assert _refused(monkeypatch, env) == f"{variable} ({empty}) is empty"


def test_a_bad_profiles_file_or_kubeconfig_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(
        "kind: OrgUser\nspec: {employeeId: E-1, displayName: Ann, email: ann@corp.example, "
        "profile: finance}\n---\nkind: AgentProfile\nmetadata: {name: finance}\n"
        "spec: {role: finance, model: {provider: openai, name: m}, privacy: {mode: loud}}\n"
    )
    error = _refused(monkeypatch, {**KEYS, "ORGTWIN_PROXY_PROFILES_FILE": str(profiles)})
    assert error == (
        f"ORGTWIN_PROXY_PROFILES_FILE ({profiles}): document 2 (AgentProfile): "
        "spec.privacy.mode: Input should be 'off', 'detect', 'mask' or 'strict'"
    )
    profiles.write_text("kind: AgentProfile\nspec: {role: finance}\n")
    error = _refused(monkeypatch, {**KEYS, "ORGTWIN_PROXY_PROFILES_FILE": str(profiles)})
    assert error.endswith("document 1 (AgentProfile) needs metadata.name and spec")
    kubeconfig = tmp_path / "kubeconfig"
    error = _refused(monkeypatch, {**KEYS, "ORGTWIN_PROXY_KUBECONFIG": str(kubeconfig)})
    assert error == f"ORGTWIN_PROXY_KUBECONFIG ({kubeconfig}): missing or not a usable kubeconfig"
