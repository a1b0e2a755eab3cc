"""The async engine and the check that the schema is at the packaged head."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from orgtwin.api import migrations
from orgtwin.api.settings import ApiSettings


class SchemaBehindError(RuntimeError):
    """The database is not at the migration head: run ``orgtwin api migrate``."""


class Database:
    """One engine and session factory per process."""

    def __init__(self, settings: ApiSettings) -> None:
        self.url = settings.database_url.get_secret_value()
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=settings.db_pool_size,
            max_overflow=10,
            pool_timeout=5,
            # A dead connection (Postgres restarted) invalidates the whole pool on first use.
            pool_pre_ping=False,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_schema(self) -> None:
        """Refuse to serve on a schema that is behind (or ahead of) this code."""
        expected = migrations.head()
        async with self.engine.connect() as conn:
            found = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        if found != expected:
            raise SchemaBehindError(
                f"database schema is at {found!r}, this api needs {expected!r}: "
                "run `orgtwin api migrate`"
            )

    async def dispose(self) -> None:
        await self.engine.dispose()


def session_of(scope_state: dict[str, object]) -> AsyncSession:
    session = scope_state.get("db")
    assert isinstance(session, AsyncSession)
    return session
