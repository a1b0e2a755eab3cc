"""`orgtwin api migrate` builds the schema from the packaged migrations, and can go back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from orgtwin.api import migrations

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
