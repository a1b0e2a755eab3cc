"""A snapshot of the org (OrgUsers) and the profiles, kept fresh in the background.

Mesh routing reads only this snapshot, so the mesh keeps working while the
Kubernetes API is unreachable. Two watches (OrgUsers, AgentProfiles) report every
change, and the snapshot is listed again about a third of a second later (a burst
such as an import becomes one list), on every replica; it is also listed right
after an import or a profile assignment, and every ``refresh_seconds`` regardless,
in case a watch missed something while it reconnected.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TypeVar

from kubernetes import watch
from pydantic import ValidationError

from orgtwin.api.repositories.kube import Kube
from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec

log = logging.getLogger("orgtwin.api.directory")
SETTLE_SECONDS = 0.3
"""How long after a change the snapshot is listed again: a burst of changes settles first."""
WATCH_SECONDS = 30
"""Server-side timeout of one watch request; the next one resumes where it ended. It is
also how long a watch thread may outlive its app (the thread notices at the next event
or timeout)."""
_Spec = TypeVar("_Spec", OrgUserSpec, AgentProfileSpec)


@dataclass(frozen=True)
class Snapshot:
    """Users by employee id and by object name; profiles by name and by role."""

    users: dict[str, OrgUserSpec] = field(default_factory=dict)
    by_object: dict[str, OrgUserSpec] = field(default_factory=dict)
    profiles: dict[str, AgentProfileSpec] = field(default_factory=dict)
    profiles_by_role: dict[str, AgentProfileSpec] = field(default_factory=dict)
    loaded_at: float = 0.0
    revision: int = 0
    """Changes only when users or profiles do: what is built from a snapshot (the
    maskers) survives the refreshes that found nothing new."""

    def profile_of_user(self, employee_id: str) -> AgentProfileSpec | None:
        user = self.users.get(employee_id)
        return self.profiles.get(user.profile_ref) if user and user.profile_ref else None

    def role_of_user(self, employee_id: str) -> str:
        profile = self.profile_of_user(employee_id)
        return profile.role if profile else ""


Parsed = dict[tuple[str, str, str], object]
"""(kind, name, resourceVersion) -> the object's validated spec, or None if it did not validate."""


def _specs(
    objs: list[dict[str, object]], model: type[_Spec], known: Parsed, parsed: Parsed
) -> list[tuple[str, _Spec]]:
    """(name, spec) of every object whose spec validates; ``known`` saves re-validating."""
    out: list[tuple[str, _Spec]] = []
    for obj in objs:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name", ""))  # type: ignore[attr-defined]
        version = str(meta.get("resourceVersion", ""))  # type: ignore[attr-defined]
        key = (model.__name__, name, version)
        if version and key in known:
            spec = known[key]
        else:
            try:
                spec = model.model_validate(obj.get("spec") or {})
            except ValidationError:
                spec = None
        parsed[key] = spec
        if isinstance(spec, model):
            out.append((name, spec))
    return out


def build_snapshot(
    users: list[dict[str, object]],
    profiles: list[dict[str, object]],
    known: Parsed | None = None,
    parsed: Parsed | None = None,
) -> Snapshot:
    """The snapshot of these objects: specs in ``known`` are reused, all are put in ``parsed``."""
    known = {} if known is None else known
    parsed = {} if parsed is None else parsed
    snap = Snapshot(loaded_at=time.monotonic())
    for name, spec in _specs(users, OrgUserSpec, known, parsed):
        snap.users[spec.employee_id] = spec
        snap.by_object[name] = spec
    for name, pspec in _specs(profiles, AgentProfileSpec, known, parsed):
        snap.profiles[name] = pspec
        snap.profiles_by_role.setdefault(pspec.role, pspec)
    return snap


class Directory:
    """Holds the newest snapshot; a failed refresh keeps the previous one.

    Every refresh lists the objects again, but validates only those whose
    resourceVersion it has not seen: a refresh that finds nothing new costs a dict
    lookup per object instead of a pydantic validation on the event loop.
    """

    def __init__(self, kube: Kube, refresh_seconds: float) -> None:
        self.kube = kube
        self.refresh_seconds = refresh_seconds
        self.current = Snapshot()
        self._lock = asyncio.Lock()
        self._parsed: Parsed = {}
        # Per plural, the resourceVersion of the last list: the watches start from it.
        self._versions: dict[str, str | None] = {}

    async def refresh(self) -> Snapshot:
        async with self._lock:
            users, self._versions[k8s.USER_PLURAL] = await self.kube.list_versioned(k8s.USER_PLURAL)
            profiles, self._versions[k8s.PROFILE_PLURAL] = await self.kube.list_versioned(
                k8s.PROFILE_PLURAL
            )
            parsed: Parsed = {}
            fresh = build_snapshot(users, profiles, self._parsed, parsed)
            current = self.current
            same = parsed.keys() == self._parsed.keys() or (
                fresh.users == current.users and fresh.profiles == current.profiles
            )
            self._parsed = parsed
            self.current = replace(fresh, revision=current.revision + (0 if same else 1))
            return self.current

    async def get(self, *, max_age: float | None = None) -> Snapshot:
        """The snapshot; refreshed first if older than ``max_age`` and the apiserver answers."""
        age = time.monotonic() - self.current.loaded_at
        if max_age is not None and age > max_age:
            await self._refresh_or_keep()
        return self.current

    async def _refresh_or_keep(self) -> None:
        """Refresh; if the apiserver does not answer, keep the snapshot (stale beats nothing)."""
        try:
            await self.refresh()
        except Exception as exc:  # noqa: BLE001
            log.info(
                "directory.refresh_failed", extra={"fields": {"error_type": type(exc).__name__}}
            )

    async def run(self) -> None:
        """Keep the snapshot fresh until cancelled (the lifespan's background task).

        The watches start from the last list's resourceVersion, so a snapshot just
        listed (the lifespan lists once before serving) is not listed again at start-up.
        """
        if not self.current.loaded_at:
            await self._refresh_or_keep()
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        stop = threading.Event()
        for plural in (k8s.USER_PLURAL, k8s.PROFILE_PLURAL):
            threading.Thread(
                target=self._watch,
                args=(plural, self._versions.get(plural), loop, changed, stop),
                daemon=True,
                name=f"directory-watch-{plural}",
            ).start()
        try:
            while True:
                try:
                    await asyncio.wait_for(changed.wait(), self.refresh_seconds)
                    await asyncio.sleep(SETTLE_SECONDS)
                except TimeoutError:
                    pass
                changed.clear()
                await self._refresh_or_keep()
        finally:
            stop.set()

    def _watch(
        self,
        plural: str,
        version: str | None,
        loop: asyncio.AbstractEventLoop,
        changed: asyncio.Event,
        stop: threading.Event,
    ) -> None:
        """Thread: sets ``changed`` on every event after ``version`` (None: every object,
        then the changes). The client's watch is synchronous, hence the thread."""

        def signal() -> bool:
            try:
                loop.call_soon_threadsafe(changed.set)
            except RuntimeError:  # the loop is closed: the app is gone
                return False
            return True

        while not stop.is_set():
            w = watch.Watch()  # type: ignore[no-untyped-call]
            try:
                for _event in self.kube.events(
                    w, plural, resource_version=version, timeout_seconds=WATCH_SECONDS
                ):
                    if stop.is_set() or not signal():
                        w.stop()  # type: ignore[no-untyped-call]
                        return
                # The next request resumes after the last event this one saw.
                version = w.resource_version
            except Exception as exc:  # noqa: BLE001 - reconnect after any watch failure
                if stop.is_set():
                    return
                # Start over (a 410 means the version is too old): the new watch begins
                # with every object, which sets ``changed`` and so lists them again.
                version = None
                log.info(
                    "directory.watch_reconnect",
                    extra={"fields": {"error_type": type(exc).__name__}},
                )
                stop.wait(2.0)
