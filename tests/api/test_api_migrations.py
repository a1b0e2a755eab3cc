"""`orgtwin api migrate` builds the schema from the packaged migrations, and can go back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from orgtwin.api import migrations
from orgtwin.testing.ports import free_port

pytestmark = pytest.mark.integration
TABLES = {
    "tasks",
    "task_replies",
    "audit_events",
    "idempotency_keys",
    "org_imports",
    "session_history",
    "alembic_version",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_cli_migrate_builds_every_table_and_downgrade_undoes_it(pg_url: str) -> None:
    cli = Path(sys.executable).parent / "orgtwin"
    env = {**os.environ, "ORGTWIN_API_DATABASE_URL": pg_url}
    out = subprocess.run(
        [str(cli), "api", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert f"schema at {migrations.head()}" in out.stdout
    assert _tables(pg_url) == TABLES
    migrations.upgrade(pg_url)  # idempotent
    from alembic import command

    command.downgrade(migrations.config(pg_url), "base")
    assert _tables(pg_url) == {"alembic_version"}
    migrations.upgrade(pg_url)
    assert migrations.current(pg_url) == migrations.head()
    assert all(p.name[:4].isdigit() for p in (migrations.HERE / "versions").glob("*.py"))


def _cannot_start(args: list[str], env: dict[str, str]) -> str:
    """The one line a refused ``orgtwin api`` command writes, after checking its exit."""
    cli = Path(sys.executable).parent / "orgtwin"
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORGTWIN_API_")}
    out = subprocess.run(
        [str(cli), "api", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1, out.stderr
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    return out.stderr.strip()


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_serve_and_migrate_that_cannot_start_say_why_in_one_line(
    pg_url: str, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    # A database without the schema: serve refuses before listening and names the fix.
    env = {"ORGTWIN_API_DATABASE_URL": pg_url, "ORGTWIN_API_KUBECONFIG": str(kubeconfig)}
    error = _cannot_start(["serve"], env)
    assert error == (
        f"orgtwin api: cannot start: database schema is at None, this api needs "
        f"{migrations.head()!r}: run `orgtwin api migrate`"
    )
    # Unreachable, and not a URL: the password is never repeated.
    closed = f"postgresql+psycopg://orgtwin:pw-hunter2@127.0.0.1:{free_port()}/orgtwin"
    error = _cannot_start(["migrate"], {"ORGTWIN_API_DATABASE_URL": closed})
    assert error.startswith("orgtwin api migrate: cannot start: cannot reach the database: ")
    assert "Connection refused" in error
    assert "pw-hunter2" not in error
    broken = "postgresql+psycopg://orgtwin:pw-hunter2@127.0.0.1:port/orgtwin"
    error = _cannot_start(["serve"], {**env, "ORGTWIN_API_DATABASE_URL": broken})
    assert (
        error == "orgtwin api: cannot start: ORGTWIN_API_DATABASE_URL is not a valid SQLAlchemy URL"
    )
    error = _cannot_start(["serve"], {**env, "ORGTWIN_API_PORT": "0"})
    assert error.startswith("orgtwin api: cannot start: invalid settings: ORGTWIN_API_PORT: ")
    # The cluster is checked too.
    missing = tmp_path / "missing-kubeconfig"
    error = _cannot_start(["serve"], {**env, "ORGTWIN_API_KUBECONFIG": str(missing)})
    assert error == (
        f"orgtwin api: cannot start: ORGTWIN_API_KUBECONFIG ({missing}): "
        "missing or not a usable kubeconfig"
    )
