"""The async engine, a small pool for single-statement writes, and the schema check."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, LiteralString

import psycopg
from alembic.runtime.migration import MigrationContext
from psycopg.pq import TransactionStatus
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
    the statement itself. Connections are opened on demand, at most ``size`` at
    a time. After a connection-level error every idle connection is dropped (a
    restarted Postgres broke them all), as the engine does with ``pool_pre_ping``
    off, so the client that hit the error gets a 503 and the next one succeeds.
    """

    def __init__(self, connect_args: Mapping[str, Any], size: int) -> None:
        self._connect_args = dict(connect_args)
        self._idle: list[psycopg.AsyncConnection[tuple[Any, ...]]] = []
        self._slots = asyncio.Semaphore(size)

    async def fetchone(
        self, sql: LiteralString, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run one statement in its own transaction; its first row, if any."""
        if self._slots.locked():
            try:
                async with asyncio.timeout(POOL_TIMEOUT_SECONDS):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise psycopg.errors.ConnectionTimeout("no free database connection") from exc
        else:
            await self._slots.acquire()
        try:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchone()
            except psycopg.OperationalError:
                await self.close()
                raise
            finally:
                # Only a connection with no transaction open (cancelled mid-statement,
                # broken) goes back to the pool.
                if not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE:
                    self._idle.append(conn)
                else:
                    await conn.close()
        finally:
            self._slots.release()

    async def _connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        return await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args)

    async def close(self) -> None:
        """Close every idle connection; connections in use close when they come back broken."""
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(psycopg.Error):
                await conn.close()


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
        if found != expected:
            raise SchemaBehindError(
                f"database schema is at {found!r}, this api needs {expected!r}: "
                "run `orgtwin api migrate`"
            )

    async def dispose(self) -> None:
        await self.statements.close()
        await self.engine.dispose()


def session_of(scope_state: dict[str, object]) -> AsyncSession:
    session = scope_state.get("db")
    assert isinstance(session, AsyncSession)
    return session
