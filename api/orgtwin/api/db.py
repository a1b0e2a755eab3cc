"""The async engine, a small pool for single-statement writes, and the schema check."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, LiteralString

import psycopg
from alembic.runtime.migration import MigrationContext
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from orgtwin.api import migrations
from orgtwin.api.settings import ApiSettings

POOL_TIMEOUT_SECONDS = 5.0


class SchemaBehindError(RuntimeError):
    """The database is not at the migration head: run ``orgtwin api migrate``."""


class StatementPool:
    """Autocommit psycopg connections for writes that are one statement, hence one transaction.

    The hot mesh POSTs need no unit of work, and on them the SQLAlchemy pool's
    checkout (greenlet bridge, events, an autocommit toggle) cost more CPU than
    the statement itself; psycopg's own pool is the lighter way to the same
    connections. After a connection-level error the idle connections are checked
    in the background (a restarted Postgres broke them all), so the client that
    hit the error gets a 503 and the next ones get working connections.
    """

    def __init__(self, connect_args: Mapping[str, Any], size: int) -> None:
        self._pool = AsyncConnectionPool(
            kwargs={**connect_args, "autocommit": True},
            min_size=1,
            max_size=size,
            open=False,
            timeout=POOL_TIMEOUT_SECONDS,
            name="statements",
        )
        self._checking: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Start the pool (inside the running loop); connections are made in the background."""
        await self._pool.open()

    async def fetchone(
        self, sql: LiteralString, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run one statement in its own transaction; its first row, if any."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(
        self, sql: LiteralString, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; all its rows."""
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            if self._checking is None or self._checking.done():
                self._checking = asyncio.create_task(self._pool.check())
            raise

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        await self._pool.close()


class Database:
    """One engine and session factory per process, and the statement pool beside them."""

    def __init__(self, settings: ApiSettings) -> None:
        self.url = settings.database_url.get_secret_value()
        # The sessions and the statement pool share the configured budget, so a replica
        # never holds more connections than before the statement pool existed.
        statements = max(1, settings.db_pool_size // 2)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=max(1, settings.db_pool_size - statements),
            max_overflow=10,
            pool_timeout=POOL_TIMEOUT_SECONDS,
            # A dead connection (Postgres restarted) invalidates the whole pool on first use.
            pool_pre_ping=False,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The engine's own arguments (host, port, user, password, query options),
        # without its SQLAlchemy-specific adapter map.
        _, connect_args = self.engine.dialect.create_connect_args(self.engine.url)
        connect_args.pop("context", None)
        self.statements = StatementPool(connect_args, statements)

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
        problem = migrations.schema_problem(found, expected)
        if problem is not None:
            raise SchemaBehindError(problem)

    async def dispose(self) -> None:
        await self.statements.close()
        await self.engine.dispose()


def session_of(scope_state: dict[str, object]) -> AsyncSession:
    session = scope_state.get("db")
    assert isinstance(session, AsyncSession)
    return session
