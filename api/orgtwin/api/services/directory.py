"""A snapshot of the org (OrgUsers) and the profiles, refreshed in the background.

Mesh routing reads only this snapshot, so the mesh keeps working while the
Kubernetes API is unreachable; the snapshot is refreshed every few seconds and
right after an import or a profile assignment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from orgtwin.api.repositories.kube import Kube
from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec

log = logging.getLogger("orgtwin.api.directory")


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


def build_snapshot(users: list[dict[str, object]], profiles: list[dict[str, object]]) -> Snapshot:
    snap = Snapshot(loaded_at=time.monotonic())
    for obj in users:
        try:
            spec = OrgUserSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            continue
        snap.users[spec.employee_id] = spec
        name = (obj.get("metadata") or {}).get("name", "")  # type: ignore[attr-defined]
        snap.by_object[str(name)] = spec
    for obj in profiles:
        try:
            pspec = AgentProfileSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            continue
        name = str((obj.get("metadata") or {}).get("name", ""))  # type: ignore[attr-defined]
        snap.profiles[name] = pspec
        snap.profiles_by_role.setdefault(pspec.role, pspec)
    return snap


class Directory:
    """Holds the newest snapshot; a failed refresh keeps the previous one."""

    def __init__(self, kube: Kube, refresh_seconds: float) -> None:
        self.kube = kube
        self.refresh_seconds = refresh_seconds
        self.current = Snapshot()
        self._lock = asyncio.Lock()

    async def refresh(self) -> Snapshot:
        async with self._lock:
            users = await self.kube.list(k8s.USER_PLURAL)
            profiles = await self.kube.list(k8s.PROFILE_PLURAL)
            fresh, current = build_snapshot(users, profiles), self.current
            same = fresh.users == current.users and fresh.profiles == current.profiles
            self.current = replace(fresh, revision=current.revision + (0 if same else 1))
            return self.current

    async def get(self, *, max_age: float | None = None) -> Snapshot:
        """The snapshot; refreshed first if older than ``max_age`` and the apiserver answers."""
        age = time.monotonic() - self.current.loaded_at
        if max_age is not None and age > max_age:
            try:
                return await self.refresh()
            except Exception as exc:  # noqa: BLE001 - stale beats nothing while k8s is down
                log.info(
                    "directory.refresh_failed", extra={"fields": {"error_type": type(exc).__name__}}
                )
        return self.current

    async def run(self) -> None:
        """Background refresh loop for the lifespan."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001
                log.info(
                    "directory.refresh_failed", extra={"fields": {"error_type": type(exc).__name__}}
                )
            await asyncio.sleep(self.refresh_seconds)
