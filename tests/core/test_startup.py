"""A service that cannot start says why in one line: the variable and the problem, no value."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict
from typer.testing import CliRunner

from orgtwin.cli.main import app
from orgtwin.core.kubeconfig import load_configuration
from orgtwin.core.settings import BaseServiceSettings
from orgtwin.core.startup import StartupError, load_settings, startup_errors

pytestmark = pytest.mark.unit


class _Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORGTWIN_DEMOSVC_", frozen=True)

    port: int = Field(default=8080, ge=1)
    pool_size: int = 4
    tls: bool = False
    tls_port: int | None = None

    @model_validator(mode="after")
    def _tls_needs_a_port(self) -> _Settings:
        if self.tls and self.tls_port is None:
            raise ValueError("tls needs ORGTWIN_DEMOSVC_TLS_PORT")
        return self


def test_invalid_settings_name_every_variable_and_never_the_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORGTWIN_DEMOSVC_PORT", "s3cret-value")
    monkeypatch.setenv("ORGTWIN_DEMOSVC_POOL_SIZE", "many")
    monkeypatch.setenv("ORGTWIN_DEMOSVC_LOG_LEVEL", "LOUD")
    with pytest.raises(typer.Exit) as exited:
        load_settings(_Settings, "demosvc")
    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("orgtwin demosvc: cannot start: invalid settings: ")
    for variable in ("PORT", "POOL_SIZE", "LOG_LEVEL"):
        assert f"ORGTWIN_DEMOSVC_{variable}: " in err
    assert "s3cret-value" not in err
    assert "many" not in err


def test_valid_settings_load_and_a_startup_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORGTWIN_DEMOSVC_PORT", "9000")
    assert load_settings(_Settings, "demosvc").port == 9000
    monkeypatch.setenv("ORGTWIN_DEMOSVC_TLS", "true")
    with pytest.raises(typer.Exit):
        load_settings(_Settings, "demosvc")
    assert capsys.readouterr().err == (
        "orgtwin demosvc: cannot start: invalid settings: tls needs ORGTWIN_DEMOSVC_TLS_PORT\n"
    )
    monkeypatch.delenv("ORGTWIN_DEMOSVC_TLS")
    with pytest.raises(typer.Exit) as exited, startup_errors("demosvc"):
        raise StartupError("set ORGTWIN_DEMOSVC_KEY")
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err == "orgtwin demosvc: cannot start: set ORGTWIN_DEMOSVC_KEY\n"


def test_the_cluster_configuration_or_the_setting_to_use(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
    )
    assert load_configuration(str(kubeconfig), "X_KUBECONFIG").host == "https://127.0.0.1:6443"
    empty = tmp_path / "empty"
    empty.write_text("")
    for bad in (tmp_path / "missing", empty):
        with pytest.raises(StartupError) as refused:
            load_configuration(str(bad), "X_KUBECONFIG")
        assert str(refused.value) == f"X_KUBECONFIG ({bad}): missing or not a usable kubeconfig"


def test_the_operator_without_a_cluster_exits_instead_of_retrying(tmp_path: Path) -> None:
    missing = tmp_path / "kubeconfig"
    env = {"ORGTWIN_OPERATOR_KUBECONFIG": str(missing)}
    result = CliRunner().invoke(app, ["operator", "run"], env=env)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"orgtwin operator: cannot start: ORGTWIN_OPERATOR_KUBECONFIG ({missing}): "
        "missing or not a usable kubeconfig\n"
    )
