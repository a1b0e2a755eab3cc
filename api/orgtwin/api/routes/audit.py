"""The audit trail, read-only and for admins; no route updates or deletes an event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from orgtwin.api.deps import AdminPrincipal, SessionDep
from orgtwin.api.repositories import audit
from orgtwin.api.routes.common import AUTHED
from orgtwin.api.schemas.audit import AuditEventRead, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=AUTHED)
Short = Annotated[str | None, Query(max_length=300)]


@router.get("", response_model=AuditPage)
async def list_audit(
    admin: AdminPrincipal,
    db: SessionDep,
    actor: Short = None,
    action: Short = None,
    subject: Short = None,
    trace_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Events newest first, filtered."""
    rows = await audit.search(
        db,
        actor=actor,
        action=action,
        subject=subject,
        trace_id=trace_id,
        outcome=outcome,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )
    items = [AuditEventRead.model_validate(r) for r in rows]
    return AuditPage(items=items, next_before=items[-1].id if len(items) == limit else None)
