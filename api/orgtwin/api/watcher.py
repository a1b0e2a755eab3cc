"""Records every AgentSession phase transition into session_history.

A daemon thread runs the Kubernetes watch (the client is synchronous) and hands
events to the event loop; the consumer inserts a row whenever a session's phase
differs from the last one recorded. Rows are keyed by (namespace, uid, phase,
time), so re-lists after a reconnect or a restart of the api insert nothing twice,
and the rows outlive the AgentSession object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from kubernetes import watch

from orgtwin.api.db import Database
from orgtwin.api.repositories import history
from orgtwin.api.repositories.kube import Kube
from orgtwin.core import k8s

log = logging.getLogger("orgtwin.api.watcher")
PHASE_STAMP = {
    "Active": "startedAt",
    "Paused": "pausedAt",
    "Completed": "completedAt",
    "Failed": "failedAt",
    "Expired": "expiredAt",
}


def _parse(stamp: object) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def transition_time(obj: dict[str, Any], phase: str) -> datetime:
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    for candidate in (
        status.get("lastTransitionAt"),
        status.get(PHASE_STAMP.get(phase, "")),
        meta.get("creationTimestamp") if phase == "Pending" else None,
    ):
        parsed = _parse(candidate)
        if parsed is not None:
            return parsed
    return datetime.now(UTC).replace(microsecond=0)


class SessionWatcher:
    """Watch thread plus an async consumer; ``start`` in the lifespan, ``stop`` at shutdown."""

    def __init__(self, kube: Kube, db: Database) -> None:
        self.kube = kube
        self.db = db
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._stop = threading.Event()
        self._last: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._consumer: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._watch, args=(loop,), daemon=True, name="session-watcher"
        )
        self._thread.start()
        self._consumer = loop.create_task(self._consume())

    async def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            w = watch.Watch()  # type: ignore[no-untyped-call]
            try:
                for event in self.kube.events(w, k8s.SESSION_PLURAL, timeout_seconds=30):
                    if self._stop.is_set():
                        w.stop()  # type: ignore[no-untyped-call]
                        return
                    loop.call_soon_threadsafe(
                        self.queue.put_nowait, (str(event["type"]), dict(event["object"]))
                    )
            except Exception as exc:  # noqa: BLE001 - reconnect after any watch failure
                log.info("watch.reconnect", extra={"fields": {"error_type": type(exc).__name__}})
                self._stop.wait(2.0)

    async def _consume(self) -> None:
        while True:
            kind, obj = await self.queue.get()
            for attempt in range(30):
                try:
                    await self._record(kind, obj)
                    break
                except Exception as exc:  # noqa: BLE001 - Postgres may be restarting
                    log.warning(
                        "history.write_failed",
                        extra={"fields": {"error_type": type(exc).__name__, "attempt": attempt}},
                    )
                    await asyncio.sleep(1.0)

    async def _record(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        name, uid = str(meta.get("name", "")), str(meta.get("uid", ""))
        if not name or kind == "ERROR":
            return
        user_ref = str((obj.get("spec") or {}).get("userRef", ""))
        phase = (
            "Deleted"
            if kind == "DELETED"
            else str((obj.get("status") or {}).get("phase") or "Pending")
        )
        async with self.db.sessions() as db:
            if uid not in self._last:
                last = await history.last_phase(db, self.kube.namespace, name)
                self._last[uid] = last[0] if last else ""
            if self._last[uid] == phase:
                return
            at = datetime.now(UTC) if kind == "DELETED" else transition_time(obj, phase)
            await history.record(
                db,
                namespace=self.kube.namespace,
                session=name,
                uid=uid,
                user_ref=user_ref,
                phase=phase,
                at=at,
            )
            await db.commit()
            self._last[uid] = phase
            log.info("session.transition", extra={"fields": {"session": name, "phase": phase}})
