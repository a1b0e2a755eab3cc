"""A throwaway Postgres from Debian's binaries: initdb in a temp dir, a free port on 127.0.0.1.

No system service is involved. Postgres refuses to run as root, so when the
harness runs as root it runs the server as the ``postgres`` system user
created by Debian's package.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from orgtwin.testing import ports


class PostgresError(RuntimeError):
    """Starting or stopping the throwaway Postgres failed."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<N>/bin that has initdb (``ORGTWIN_PG_BIN`` overrides)."""
    override = os.environ.get("ORGTWIN_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresError(
            "no initdb under /usr/lib/postgresql; run `make setup` (apt postgresql)"
        )
    return candidates[-1].parent


@dataclass
class LocalPostgres:
    """One Postgres cluster in its own temp dir; ``start``, ``stop``, ``restart``."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orgtwin-pg-")))
    port: int = 0
    bindir: Path = field(default_factory=find_bindir)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def logfile(self) -> Path:
        return self.base / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for psycopg 3."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if out.returncode != 0:
            log = self.logfile.read_text()[-2000:] if self.logfile.exists() else ""
            raise PostgresError(f"`{' '.join(args)}` failed: {out.stderr[-2000:]}\n{log}")

    def init(self) -> None:
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.base, pg.pw_uid, pg.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        if not self.data.exists():
            self.init()
        self.port = self.port or ports.free_port()
        # Fast but unsafe settings are fine for a throwaway test database.
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop, stay down for ``down_seconds``, and start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return None
        return int(pid_file.read_text().splitlines()[0])

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
