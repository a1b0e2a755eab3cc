"""Is an agent's session Active? The AgentSession CR says, behind a short cache.

If the Kubernetes API is down, the last phase seen (in memory, else the newest
transition the watcher recorded in Postgres) decides, so mesh keeps working.
Agent activity is written to ``status.lastActivityAt`` at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from orgtwin.api.db import Database
from orgtwin.api.errors import UnavailableError
from orgtwin.api.repositories import history
from orgtwin.api.repositories.kube import Kube
from orgtwin.core import k8s
from orgtwin.core.errors import NotFoundError

log = logging.getLogger("orgtwin.api.agents")


@dataclass(frozen=True)
class SessionState:
    phase: str
    user_ref: str


class SessionPhases:
    """Phase lookups with a TTL cache and a fallback for an unreachable apiserver."""

    def __init__(self, kube: Kube, db: Database, ttl: float, activity_gap: float) -> None:
        self.kube = kube
        self.db = db
        self.ttl = ttl
        self.activity_gap = activity_gap
        self._cache: dict[str, tuple[float, SessionState | None]] = {}
        self._last_activity: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, asyncio.Future[SessionState | None]] = {}

    async def state(self, session: str) -> SessionState | None:
        now = time.monotonic()
        hit = self._cache.get(session)
        if hit is not None and hit[0] > now:
            return hit[1]
        # Single flight: concurrent requests of one session share one apiserver lookup.
        pending = self._inflight.get(session)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(session, hit))
            self._inflight[session] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(session, None))
        return await asyncio.shield(pending)

    async def _lookup(
        self, session: str, hit: tuple[float, SessionState | None] | None
    ) -> SessionState | None:
        try:
            obj = await self.kube.get(k8s.SESSION_PLURAL, session)
            found: SessionState | None = SessionState(
                str((obj.get("status") or {}).get("phase") or "Pending"),
                str((obj.get("spec") or {}).get("userRef", "")),
            )
        except NotFoundError:
            found = None
        except UnavailableError:
            if hit is not None:
                return hit[1]
            async with self.db.sessions() as db:
                last = await history.last_phase(db, self.kube.namespace, session)
            return SessionState(*last) if last else None
        self._cache[session] = (time.monotonic() + self.ttl, found)
        return found

    def forget(self, session: str) -> None:
        self._cache.pop(session, None)

    def touch(self, session: str) -> None:
        """Record agent activity; at most one status write per session per ``activity_gap``."""
        now = time.monotonic()
        last = self._last_activity.get(session)
        if last is not None and now - last < self.activity_gap:
            return
        self._last_activity[session] = now
        task = asyncio.get_running_loop().create_task(self._write_activity(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_activity(self, session: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            await self.kube.patch_status(
                k8s.SESSION_PLURAL, session, {"status": {"lastActivityAt": stamp}}
            )
        except Exception as exc:  # noqa: BLE001 - best effort; retried on the next activity
            self._last_activity.pop(session, None)
            log.info(
                "session.activity_write_failed",
                extra={"fields": {"session": session, "error_type": type(exc).__name__}},
            )
