"""create_app(): the FastAPI application with its lifespan; no app is created at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from fastapi import FastAPI

from orgtwin.api import errors, idempotency
from orgtwin.api.auth.agents import SessionPhases
from orgtwin.api.auth.authenticator import Authenticator
from orgtwin.api.db import Database
from orgtwin.api.fastpath import MeshFastPath
from orgtwin.api.middleware import RequestMiddleware
from orgtwin.api.repositories import idempotency as idem_repo
from orgtwin.api.repositories.kube import Kube
from orgtwin.api.repositories.mesh_create import Writer
from orgtwin.api.routes import audit, health, me, mesh, org, sessions
from orgtwin.api.runtime import Runtime
from orgtwin.api.services.directory import Directory
from orgtwin.api.services.inbox import InboxSignal
from orgtwin.api.services.masking import EngineMasker
from orgtwin.api.settings import ApiSettings
from orgtwin.api.watcher import SessionWatcher

log = logging.getLogger("orgtwin.api")


async def _purge_idempotency_keys(db: Database) -> None:
    while True:
        try:
            async with db.sessions() as session:
                purged = await idem_repo.purge_expired(session)
                await session.commit()
            if purged:
                log.info("idempotency.purged", extra={"fields": {"count": purged}})
        except Exception as exc:  # noqa: BLE001 - retried next round
            log.info(
                "idempotency.purge_failed", extra={"fields": {"error_type": type(exc).__name__}}
            )
        await asyncio.sleep(600)


def create_app(settings: ApiSettings) -> FastAPI:
    """Build the app; the lifespan connects Postgres and Kubernetes and starts the watcher."""
    db = Database(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.check_schema()
        await db.statements.open()
        kube = Kube(settings)
        phases = SessionPhases(
            kube, db, settings.session_cache_seconds, settings.activity_write_seconds
        )
        key = settings.masking_key.get_secret_value().encode() if settings.masking_key else None
        if key is None:
            log.warning("masking.ephemeral_key")
            key = secrets.token_bytes(32)
        directory = Directory(kube, settings.directory_refresh_seconds)
        app.state.runtime = Runtime(
            settings=settings,
            db=db,
            kube=kube,
            phases=phases,
            auth=Authenticator(settings, phases),
            directory=directory,
            masker=EngineMasker(key),
            inbox=InboxSignal(),
            writes=Writer(db.statements),
        )
        with contextlib.suppress(Exception):
            await directory.refresh()
        background = [
            asyncio.create_task(directory.run()),
            asyncio.create_task(_purge_idempotency_keys(db)),
        ]
        watcher = SessionWatcher(kube, db) if settings.watch_sessions else None
        if watcher is not None:
            watcher.start()
        log.info("api.started", extra={"fields": {"namespace": settings.namespace}})
        try:
            yield
        finally:
            if watcher is not None:
                await watcher.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await app.state.runtime.writes.close()
            kube.close()
            await db.dispose()

    app = FastAPI(
        title="orgtwin control API",
        version="0.1.0",
        summary="Org chart import, profile assignment, sessions, agent mesh and audit.",
        lifespan=lifespan,
        # The spec stays at /openapi.json; no interactive docs UI is served in production.
        docs_url=None,
        redoc_url=None,
        # The api exports Prometheus metrics; FastAPI's OpenTelemetry hooks would only
        # look for a provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    # Routes are matched in this order, one by one: the agents' mesh calls, the bulk
    # of the traffic, come right after the probes. No two routers share a prefix.
    for router in (
        health.router,
        mesh.router,
        sessions.router,
        me.router,
        org.router,
        audit.router,
    ):
        app.include_router(router)
    errors.install(app)
    idempotency.install(app)
    # Added first, so it runs inside RequestMiddleware: both paths share its trace id,
    # body limit, unit of work, metrics and access log.
    app.add_middleware(MeshFastPath)
    app.add_middleware(
        RequestMiddleware,
        db=db,
        max_body=settings.max_body_bytes,
        max_import=settings.max_import_bytes,
    )
    return app
