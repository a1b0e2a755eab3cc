"""Org import (validate everything, then apply all-or-nothing), users, tree and assignment."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api import metrics
from orgtwin.api.auth.principal import Principal
from orgtwin.api.models import OrgImport
from orgtwin.api.repositories import audit, imports
from orgtwin.api.repositories.kube import Kube
from orgtwin.api.services import csv_import
from orgtwin.api.services.directory import Directory
from orgtwin.core import k8s
from orgtwin.core.crds.models import OrgUserSpec
from orgtwin.core.errors import FieldProblem, InputValidationError, NotFoundError

log = logging.getLogger("orgtwin.api.org")


@dataclass
class Plan:
    apply: list[dict[str, Any]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    suspended: int = 0
    missing: list[str] = field(default_factory=list)
    previous: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def user_object(spec: OrgUserSpec) -> dict[str, Any]:
    return {
        "apiVersion": k8s.API_VERSION,
        "kind": "OrgUser",
        "metadata": {
            "name": k8s.user_object_name(spec.employee_id),
            "labels": {k8s.LABEL_MANAGED_BY: "orgtwin-api"},
        },
        "spec": spec.model_dump(by_alias=True, mode="json"),
    }


def plan_import(
    rows: list[csv_import.Row], existing: dict[str, OrgUserSpec], suspend_missing: bool
) -> Plan:
    plan = Plan()
    seen: set[str] = set()
    for row in rows:
        name = k8s.user_object_name(row.employee_id)
        seen.add(name)
        old = existing.get(name)
        spec = OrgUserSpec(
            employee_id=row.employee_id,
            display_name=row.name,
            email=row.email,
            department=row.department,
            title=row.title,
            manager_id=row.manager_id,
            # An empty profile column keeps an admin's earlier assignment.
            profile_ref=row.profile or (old.profile_ref if old else ""),
            suspended=False,
        )
        if old is None:
            plan.created += 1
        elif old == spec:
            plan.unchanged += 1
            continue
        else:
            plan.updated += 1
        plan.previous[name] = old.model_dump(by_alias=True, mode="json") if old else None
        plan.apply.append(user_object(spec))
    for name, old in sorted(existing.items()):
        if name in seen or old.suspended:
            continue
        plan.missing.append(old.employee_id)
        if suspend_missing:
            plan.suspended += 1
            plan.previous[name] = old.model_dump(by_alias=True, mode="json")
            plan.apply.append(user_object(old.model_copy(update={"suspended": True})))
    return plan


class OrgService:
    """Reads and writes OrgUsers; records import runs and audit events."""

    def __init__(self, kube: Kube, directory: Directory, max_rows: int, concurrency: int) -> None:
        self.kube = kube
        self.directory = directory
        self.max_rows = max_rows
        self.concurrency = concurrency

    async def existing_users(self) -> dict[str, OrgUserSpec]:
        found: dict[str, OrgUserSpec] = {}
        for obj in await self.kube.list(k8s.USER_PLURAL):
            try:
                found[obj["metadata"]["name"]] = OrgUserSpec.model_validate(obj.get("spec") or {})
            except ValueError:
                continue
        return found

    async def import_csv(
        self,
        db: AsyncSession,
        actor: Principal,
        raw: bytes,
        *,
        dry_run: bool,
        suspend_missing: bool,
        trace_id: str,
    ) -> OrgImport:
        text, problems = csv_import.decode(raw)
        rows: list[csv_import.Row] = []
        if text is not None:
            try:
                rows, problems = csv_import.parse(text, self.max_rows)
            except csv_import.TooManyRowsError as exc:
                raise InputValidationError(
                    f"the file has more than {self.max_rows} rows",
                    [FieldProblem("row", f"more than {self.max_rows} rows")],
                ) from exc
        if rows:
            # Cross-row checks run even after field problems: one upload reports everything.
            profiles = {o["metadata"]["name"] for o in await self.kube.list(k8s.PROFILE_PLURAL)}
            problems = problems + csv_import.check_rows(rows, profiles)
        base = {
            "actor": actor.caller,
            "dry_run": dry_run,
            "rows": len(rows),
            "file_sha256": hashlib.sha256(raw).hexdigest(),
            "trace_id": trace_id,
        }
        if problems:
            metrics.IMPORTS.labels("invalid").inc()
            raise InputValidationError(
                f"{len(problems)} problem(s) in the file; nothing applied", problems
            )
        plan = plan_import(rows, await self.existing_users(), suspend_missing)
        # The apiserver's own validation (CEL, schema) runs for every object before any write.
        await self._apply_all(plan.apply, dry_run=True)
        outcome = "dry_run"
        if not dry_run:
            try:
                await self._apply_all(plan.apply, dry_run=False)
            except Exception:
                await self._roll_back(plan)
                raise
            outcome = "applied"
            await self._refresh_directory()
        metrics.IMPORTS.labels(outcome).inc()
        run = await imports.add(
            db,
            **base,
            outcome=outcome,
            created=plan.created,
            updated=plan.updated,
            unchanged=plan.unchanged,
            suspended=plan.suspended,
            missing=plan.missing,
            problems=[],
        )
        await audit.append(
            db,
            actor=actor.caller,
            action="org.import",
            subject=f"import:{run.id}",
            outcome="success",
            trace_id=trace_id,
            details={
                "dry_run": dry_run,
                "rows": len(rows),
                "created": plan.created,
                "updated": plan.updated,
                "unchanged": plan.unchanged,
                "suspended": plan.suspended,
                "missing": len(plan.missing),
            },
        )
        return run

    async def _apply_all(self, objects: list[dict[str, Any]], *, dry_run: bool) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(obj: dict[str, Any]) -> None:
            async with gate:
                await self.kube.apply(k8s.USER_PLURAL, obj, dry_run=dry_run)

        async with asyncio.TaskGroup() as group:
            for obj in objects:
                group.create_task(one(obj))

    async def _roll_back(self, plan: Plan) -> None:
        """Best effort: put back what a failed apply changed (the apiserver may be gone)."""
        for name, old in plan.previous.items():
            try:
                if old is None:
                    await self.kube.delete(k8s.USER_PLURAL, name)
                else:
                    await self.kube.apply(
                        k8s.USER_PLURAL, user_object(OrgUserSpec.model_validate(old))
                    )
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "import.rollback_failed",
                    extra={"fields": {"object": name, "error_type": type(exc).__name__}},
                )

    async def _refresh_directory(self) -> None:
        try:
            await self.directory.refresh()
        except Exception as exc:  # noqa: BLE001 - the background loop catches up
            log.info(
                "directory.refresh_failed", extra={"fields": {"error_type": type(exc).__name__}}
            )

    async def get_user(self, employee_id: str) -> OrgUserSpec:
        obj = await self.kube.get(k8s.USER_PLURAL, k8s.user_object_name(employee_id))
        spec = OrgUserSpec.model_validate(obj.get("spec") or {})
        if spec.employee_id != employee_id:
            raise NotFoundError("no such user")
        return spec

    async def assign_profile(
        self, db: AsyncSession, actor: Principal, employee_id: str, profile: str, trace_id: str
    ) -> OrgUserSpec:
        spec = await self.get_user(employee_id)
        try:
            await self.kube.get(k8s.PROFILE_PLURAL, profile)
        except NotFoundError as exc:
            raise InputValidationError(
                "unknown profile", [FieldProblem("profile", "no such AgentProfile")]
            ) from exc
        updated = spec.model_copy(update={"profile_ref": profile})
        await self.kube.apply(k8s.USER_PLURAL, user_object(updated))
        await audit.append(
            db,
            actor=actor.caller,
            action="profile.assign",
            subject=f"user:{employee_id}",
            outcome="success",
            trace_id=trace_id,
            details={"profile": profile, "previous": spec.profile_ref},
        )
        await self._refresh_directory()
        return updated
