"""Mesh routes, for agent sessions: tasks, approvals, notifications, inbox, status, agents."""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from orgtwin.api.auth.principal import Principal
from orgtwin.api.deps import AgentPrincipal, RuntimeDep, SessionDep, TraceId, request_session
from orgtwin.api.errors import UnavailableError
from orgtwin.api.idempotency import DeferredKey, Idempotent, replay_response
from orgtwin.api.repositories import history
from orgtwin.api.routes.common import AUTHED, POSTED
from orgtwin.api.runtime import Runtime
from orgtwin.api.schemas.common import Role
from orgtwin.api.schemas.mesh import (
    AgentList,
    AgentRead,
    ApprovalCreate,
    DecisionCreate,
    Inbox,
    NotifyCreate,
    ReplyCreate,
    TaskCreate,
    TaskRead,
    TaskStatusUpdate,
)
from orgtwin.api.services.mesh import Created, MeshService
from orgtwin.core import k8s

router = APIRouter(prefix="/v1/mesh", tags=["mesh"], responses=AUTHED)


async def _mesh(request: Request, runtime: Runtime, agent: Principal, trace_id: str) -> MeshService:
    snap = await runtime.directory.get()
    return MeshService(
        lambda: request_session(request),
        runtime.writes,
        snap,
        runtime.masker,
        agent,
        trace_id,
    )


def _after_commit(request: Request, runtime: RuntimeDep) -> None:
    request.state.after_commit = [runtime.inbox.notify]


def _created(request: Request, runtime: RuntimeDep, created: Created) -> Response:
    """The new item as rendered before it was stored, byte for byte; or the replay."""
    if created.replay is not None:
        return replay_response(created.replay)
    _after_commit(request, runtime)
    return Response(created.body, status_code=201, media_type="application/json")


@router.post("/tasks", status_code=201, response_model=TaskRead, responses=POSTED)
async def send_task(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    key: DeferredKey,
    body: TaskCreate,
) -> Response:
    """Send a task to a user, a role or the sender's manager."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    created = await mesh.create(
        "task", body.to, body.type, body.title, body.body, body.data, key=key
    )
    return _created(request, runtime, created)


@router.post("/notify", status_code=201, response_model=TaskRead, responses=POSTED)
async def notify(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    key: DeferredKey,
    body: NotifyCreate,
) -> Response:
    """Notify a user, a role or the sender's manager."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    created = await mesh.create(
        "notification", body.to, "notification", body.title, body.body, body.data, key=key
    )
    return _created(request, runtime, created)


@router.post("/approvals", status_code=201, response_model=TaskRead, responses=POSTED)
async def request_approval(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    key: DeferredKey,
    body: ApprovalCreate,
) -> Response:
    """Ask for an approval, routed to the requester's manager unless an approver is named."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    created = await mesh.create(
        "approval",
        None,
        body.type,
        body.title,
        body.body,
        body.data,
        approver=body.approver,
        key=key,
    )
    return _created(request, runtime, created)


@router.post(
    "/approvals/{task_id}/decision",
    response_model=TaskRead,
    dependencies=[Idempotent],
    responses=POSTED,
)
async def decide(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    task_id: UUID,
    body: DecisionCreate,
) -> TaskRead:
    """Approve or reject; only the approver may decide."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    _after_commit(request, runtime)
    return await mesh.decide(task_id, body.decision, body.comment)


@router.post(
    "/tasks/{task_id}/reply",
    status_code=201,
    response_model=TaskRead,
    dependencies=[Idempotent],
    responses=POSTED,
)
async def reply(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    task_id: UUID,
    body: ReplyCreate,
) -> TaskRead:
    """Reply to a task (its sender or recipient)."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    _after_commit(request, runtime)
    return await mesh.reply(task_id, body.body, body.data)


@router.post(
    "/tasks/{task_id}/status", response_model=TaskRead, dependencies=[Idempotent], responses=POSTED
)
async def task_status(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    task_id: UUID,
    body: TaskStatusUpdate,
) -> TaskRead:
    """Move a task along (its recipient)."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    _after_commit(request, runtime)
    return await mesh.set_status(task_id, body.status, body.note)


@router.get("/status/{task_id}", response_model=TaskRead)
async def status(
    request: Request,
    runtime: RuntimeDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    task_id: UUID,
) -> TaskRead:
    """A task, approval or notification the caller sent or received."""
    return await (await _mesh(request, runtime, agent, trace_id)).status(task_id)


@router.get("/inbox", response_model=Inbox)
async def inbox(
    request: Request,
    runtime: RuntimeDep,
    db: SessionDep,
    agent: AgentPrincipal,
    trace_id: TraceId,
    after: Annotated[int, Query(ge=0, le=2**62, description="Cursor: last seq seen.")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    timeout: Annotated[  # noqa: ASYNC109 - the long-poll budget is part of the wire contract
        float, Query(ge=0, le=60, description="Long-poll seconds.")
    ] = 0,
) -> Inbox:
    """Items addressed to this session, its user or its role; waits up to ``timeout``."""
    mesh = await _mesh(request, runtime, agent, trace_id)
    deadline = time.monotonic() + min(timeout, runtime.settings.inbox_max_wait_seconds)
    while True:
        items = await mesh.inbox(after, limit)
        # Release the connection while waiting: a long-poll must not hold the pool.
        await db.rollback()
        remaining = deadline - time.monotonic()
        if items or remaining <= 0:
            break
        await runtime.inbox.wait(min(remaining, 1.0))
    return Inbox(items=items, next_cursor=items[-1].seq if items else after)


@router.get("/agents", response_model=AgentList)
async def agents(
    runtime: RuntimeDep,
    db: SessionDep,
    agent: AgentPrincipal,
    role: Annotated[Role | None, Query()] = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
) -> AgentList:
    """Active agent sessions, by role and department."""
    snap = await runtime.directory.get()
    try:
        objs = await runtime.kube.list(k8s.SESSION_PLURAL)
        active = [
            (
                o["metadata"]["name"],
                (o.get("spec") or {}).get("userRef", ""),
                (o.get("status") or {}).get("role", ""),
            )
            for o in objs
            if (o.get("status") or {}).get("phase") == "Active"
        ]
    except UnavailableError:
        active = [(s, u, "") for s, u in await history.active_sessions(db, runtime.kube.namespace)]
    items: list[AgentRead] = []
    for session, user_ref, session_role in active:
        user = snap.by_object.get(user_ref)
        r = session_role or (snap.role_of_user(user.employee_id) if user else "")
        dept = user.department if user else ""
        if (role is None or r == role) and (department is None or dept == department):
            items.append(
                AgentRead(
                    session=session,
                    user_id=user.employee_id if user else user_ref,
                    role=r,
                    department=dept,
                )
            )
    return AgentList(
        items=items,
        by_role=dict(Counter(i.role for i in items)),
        by_department=dict(Counter(i.department for i in items)),
    )
