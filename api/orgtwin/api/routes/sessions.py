"""Session routes: people create and steer their own sessions; admins any."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from orgtwin.api.deps import PersonPrincipal, RuntimeDep, SessionDep, TraceId
from orgtwin.api.idempotency import Idempotent
from orgtwin.api.routes.common import AUTHED, POSTED
from orgtwin.api.schemas.common import EmployeeId
from orgtwin.api.schemas.sessions import (
    SessionCreate,
    SessionEventCreate,
    SessionPage,
    SessionRead,
)
from orgtwin.api.services.sessions import SessionService

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=AUTHED)
SessionName = Annotated[str, Path(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=253)]
Phase = Annotated[str | None, Query(pattern=r"^(Pending|Active|Paused|Completed|Failed|Expired)$")]


@router.post(
    "", status_code=201, response_model=SessionRead, dependencies=[Idempotent], responses=POSTED
)
async def create_session(
    principal: PersonPrincipal,
    runtime: RuntimeDep,
    db: SessionDep,
    trace_id: TraceId,
    body: SessionCreate,
) -> SessionRead:
    """Start an agent session for the caller, or (admins) for any user."""
    return await SessionService(runtime.kube).create(
        db, principal, body.user_id, body.purpose, trace_id
    )


@router.get("", response_model=SessionPage)
async def list_sessions(
    principal: PersonPrincipal,
    runtime: RuntimeDep,
    user_id: Annotated[EmployeeId | None, Query()] = None,
    phase: Phase = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SessionPage:
    """The caller's sessions (admins: all), newest first."""
    items, total = await SessionService(runtime.kube).list(principal, user_id, phase, offset, limit)
    return SessionPage(items=items, total=total, offset=offset, limit=limit)


@router.get("/{session_id}", response_model=SessionRead)
async def get_session(
    principal: PersonPrincipal, runtime: RuntimeDep, db: SessionDep, session_id: SessionName
) -> SessionRead:
    """Status from the AgentSession plus its history from Postgres."""
    return await SessionService(runtime.kube).get(db, principal, session_id)


@router.post(
    "/{session_id}/events", response_model=SessionRead, dependencies=[Idempotent], responses=POSTED
)
async def session_event(
    principal: PersonPrincipal,
    runtime: RuntimeDep,
    db: SessionDep,
    trace_id: TraceId,
    session_id: SessionName,
    body: SessionEventCreate,
) -> SessionRead:
    """Apply a lifecycle event; 409 lists the allowed events if it is not allowed now."""
    result = await SessionService(runtime.kube).apply_event(
        db, principal, session_id, body.event, body.reason, body.message, trace_id
    )
    runtime.phases.forget(session_id)
    return result
