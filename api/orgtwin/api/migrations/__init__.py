"""Alembic migrations, packaged so that ``orgtwin api migrate`` works from an install."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from orgtwin.core.startup import StartupError

HERE = Path(__file__).resolve().parent


def config(url: str) -> Config:
    """An alembic Config pointing at this package; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    # Percent signs in passwords would be read as interpolation by configparser.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``."""
    command.upgrade(config(url), revision)


def head() -> str | None:
    """The newest revision shipped with this package."""
    return ScriptDirectory.from_config(config("postgresql://")).get_current_head()


def current(url: str) -> str | None:
    """The revision the database is at, or None for an empty database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def schema_problem(found: str | None, expected: str | None) -> str | None:
    """Why a database at revision ``found`` cannot serve this code, or None."""
    if found == expected:
        return None
    return (
        f"database schema is at {found!r}, this api needs {expected!r}: run `orgtwin api migrate`"
    )


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """SQLAlchemy's failures to reach the database at ``url`` as StartupError.

    The URL may hold a password: a URL that does not parse is not quoted, and the
    driver's own message (host, port, database, user, the reason) is.
    """
    invalid = StartupError("ORGTWIN_API_DATABASE_URL is not a valid SQLAlchemy URL")
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise invalid from None
    try:
        yield
    except ArgumentError:
        # An unknown dialect or driver name.
        raise invalid from None
    except OperationalError as exc:
        reason = str(exc.orig or "").strip().splitlines()[:1] or ["no reason given"]
        raise StartupError(f"cannot reach the database: {reason[0]}") from None
