"""Sessions: create AgentSessions, read them with their history, and apply lifecycle events.

State machine (by observed phase; events act through spec.desiredState, or for
``fail`` through status.failureRequest, which the operator honours):

    Pending  -> activate, complete, fail
    Active   -> pause, complete, fail
    Paused   -> resume, complete, fail
    Completed | Failed | Expired -> (none)
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.auth.principal import Principal
from orgtwin.api.errors import ForbiddenError, InvalidTransitionError
from orgtwin.api.repositories import audit, history
from orgtwin.api.repositories.kube import Kube
from orgtwin.api.schemas.sessions import SessionRead, TransitionRead
from orgtwin.core import k8s
from orgtwin.core.crds.models import OrgUserSpec
from orgtwin.core.errors import FieldProblem, InputValidationError, NotFoundError

ALLOWED: dict[str, list[str]] = {
    "Pending": ["activate", "complete", "fail"],
    "Active": ["pause", "complete", "fail"],
    "Paused": ["resume", "complete", "fail"],
    "Completed": [],
    "Failed": [],
    "Expired": [],
}
DESIRED = {"activate": "Active", "resume": "Active", "pause": "Paused", "complete": "Completed"}


def phase_of(obj: dict[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "Pending")


def allowed_events(obj: dict[str, Any]) -> list[str]:
    if (obj.get("spec") or {}).get("desiredState") == "Completed":
        return []
    return ALLOWED.get(phase_of(obj), [])


def to_read(obj: dict[str, Any], rows: list[Any], deleted: bool = False) -> SessionRead:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    created = meta.get("creationTimestamp")
    return SessionRead(
        id=str(meta.get("name", "")),
        user_id=str(
            (meta.get("annotations") or {}).get(ANNOTATION_EMPLOYEE, spec.get("userRef", ""))
        ),
        desired_state=str(spec.get("desiredState", "")),
        phase=phase_of(obj) if not deleted else (rows[-1].phase if rows else "Unknown"),
        purpose=str(spec.get("purpose", "")),
        role=str(status.get("role", "")),
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00"))
        if isinstance(created, str)
        else None,
        last_activity_at=status.get("lastActivityAt"),
        message=str(status.get("message", "")),
        deleted=deleted,
        allowed_events=[] if deleted else allowed_events(obj),
        history=[TransitionRead(phase=r.phase, at=r.at, recorded_at=r.recorded_at) for r in rows],
    )


ANNOTATION_EMPLOYEE = f"{k8s.GROUP}/employee-id"


class SessionService:
    """AgentSession access with per-caller authorization."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def _owned(self, principal: Principal, obj: dict[str, Any]) -> None:
        if principal.is_admin:
            return
        if (obj.get("spec") or {}).get("userRef") != principal.user_ref:
            raise NotFoundError("no such session")

    async def create(
        self,
        db: AsyncSession,
        principal: Principal,
        user_id: str | None,
        purpose: str,
        trace_id: str,
    ) -> SessionRead:
        employee_id = user_id or principal.employee_id
        assert employee_id is not None
        if employee_id != principal.employee_id and not principal.is_admin:
            raise ForbiddenError("only admins may create sessions for other users")
        user_ref = k8s.user_object_name(employee_id)
        try:
            user = OrgUserSpec.model_validate(
                (await self.kube.get(k8s.USER_PLURAL, user_ref)).get("spec") or {}
            )
        except NotFoundError as exc:
            raise InputValidationError(
                "unknown user", [FieldProblem("user_id", "no such OrgUser")]
            ) from exc
        if user.suspended:
            raise InputValidationError("user is suspended", [FieldProblem("user_id", "suspended")])
        name = k8s.dns_label(f"{user_ref[:40]}-{secrets.token_hex(3)}")
        body = {
            "apiVersion": k8s.API_VERSION,
            "kind": "AgentSession",
            "metadata": {
                "name": name,
                "labels": {k8s.LABEL_USER: user_ref, k8s.LABEL_MANAGED_BY: "orgtwin-api"},
                "annotations": {ANNOTATION_EMPLOYEE: employee_id},
            },
            "spec": {"userRef": user_ref, "desiredState": "Active", "purpose": purpose},
        }
        obj = await self.kube.create(k8s.SESSION_PLURAL, body)
        await audit.append(
            db,
            actor=principal.caller,
            action="session.create",
            subject=f"session:{name}",
            outcome="success",
            trace_id=trace_id,
            details={"user": employee_id},
        )
        return to_read(obj, [])

    async def list(
        self,
        principal: Principal,
        user_id: str | None,
        phase: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[SessionRead], int]:
        selector = ""
        if not principal.is_admin:
            selector = f"{k8s.LABEL_USER}={principal.user_ref}"
        elif user_id:
            selector = f"{k8s.LABEL_USER}={k8s.user_object_name(user_id)}"
        objs = await self.kube.list(k8s.SESSION_PLURAL, label_selector=selector)
        objs = [
            o
            for o in objs
            if principal.is_admin or (o.get("spec") or {}).get("userRef") == principal.user_ref
        ]
        if phase:
            objs = [o for o in objs if phase_of(o) == phase]
        objs.sort(
            key=lambda o: (o.get("metadata") or {}).get("creationTimestamp", ""), reverse=True
        )
        return [to_read(o, []) for o in objs[offset : offset + limit]], len(objs)

    async def get(self, db: AsyncSession, principal: Principal, name: str) -> SessionRead:
        rows = await history.for_session(db, self.kube.namespace, name)
        try:
            obj = await self.kube.get(k8s.SESSION_PLURAL, name)
        except NotFoundError:
            if not rows or not (principal.is_admin or rows[-1].user_ref == principal.user_ref):
                raise
            ghost = {"metadata": {"name": name}, "spec": {"userRef": rows[-1].user_ref}}
            return to_read(ghost, rows, deleted=True)
        self._owned(principal, obj)
        return to_read(obj, rows)

    async def apply_event(
        self,
        db: AsyncSession,
        principal: Principal,
        name: str,
        event: str,
        reason: str,
        message: str,
        trace_id: str,
    ) -> SessionRead:
        obj = await self.kube.get(k8s.SESSION_PLURAL, name)
        self._owned(principal, obj)
        allowed = allowed_events(obj)
        if event not in allowed:
            raise InvalidTransitionError(
                f"{event} is not allowed in phase {phase_of(obj)}", allowed
            )
        if event == "fail":
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            obj = await self.kube.patch_status(
                k8s.SESSION_PLURAL,
                name,
                {
                    "status": {
                        "failureRequest": {
                            "reason": reason,
                            "message": message,
                            "requestedAt": stamp,
                        }
                    }
                },
            )
        else:
            obj = await self.kube.merge_patch(
                k8s.SESSION_PLURAL, name, {"spec": {"desiredState": DESIRED[event]}}
            )
        await audit.append(
            db,
            actor=principal.caller,
            action="session.event",
            subject=f"session:{name}",
            outcome="success",
            trace_id=trace_id,
            details={"event": event, "phase": phase_of(obj)},
        )
        rows = await history.for_session(db, self.kube.namespace, name)
        return to_read(obj, rows)
