"""Mesh wire models: tasks, approvals and notifications between agent sessions.

Callers are agent sessions (bearer: their session token). Every POST accepts an
``Idempotency-Key`` header and ``X-Trace-Id``; a replayed response carries
``Idempotent-Replayed: true``.

Routes (all under ``/v1/mesh``):

    POST /tasks                     TaskCreate      -> 201 TaskRead
    GET  /inbox?after=&limit=&timeout=              -> 200 Inbox (long-poll)
    POST /tasks/{id}/reply          ReplyCreate     -> 201 TaskRead
    POST /tasks/{id}/status         TaskStatusUpdate-> 200 TaskRead
    POST /approvals                 ApprovalCreate  -> 201 TaskRead (kind=approval)
    POST /approvals/{id}/decision   DecisionCreate  -> 200 TaskRead
    POST /notify                    NotifyCreate    -> 201 TaskRead (kind=notification)
    GET  /status/{id}                               -> 200 TaskRead
    GET  /agents?role=&department=                  -> 200 AgentList
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from orgtwin.api.schemas.common import EmployeeId, JsonData, RequestModel, ResponseModel, Role

Recipient = Annotated[
    str,
    StringConstraints(
        pattern=r"^(manager|role:[a-z][a-z0-9-]{0,62}|user:[A-Za-z0-9][A-Za-z0-9._-]{0,62})$",
        max_length=70,
    ),
]
"""Who receives: ``manager`` (the sender's manager), ``role:<role>`` or ``user:<employee_id>``."""

TaskType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,62}$", max_length=63)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(max_length=20_000)]

TaskKind = Literal["task", "approval", "notification"]
TaskState = Literal[
    "open",
    "accepted",
    "in_progress",
    "done",
    "declined",
    "pending",
    "approved",
    "rejected",
    "delivered",
]
"""Tasks: open -> accepted -> in_progress -> done | declined. Approvals: pending -> approved |
rejected. Notifications: delivered."""


class TaskCreate(RequestModel):
    """Send a task to a user, a role or the sender's manager."""

    to: Recipient = Field(description="manager, role:<role> or user:<employee_id>.")
    type: TaskType = Field(default="task", description="Kind of work, e.g. review or expense.")
    title: Title = Field(description="One-line summary.")
    body: Body = Field(default="", description="Details; masked per the recipient's profile.")
    data: JsonData


class NotifyCreate(RequestModel):
    """Tell a user, a role or the sender's manager something; no reply expected."""

    to: Recipient = Field(description="manager, role:<role> or user:<employee_id>.")
    title: Title = Field(description="One-line summary.")
    body: Body = Field(default="", description="Details; masked per the recipient's profile.")
    data: JsonData


class ApprovalCreate(RequestModel):
    """Ask for an approval; the approver defaults to the requester's manager."""

    type: TaskType = Field(default="approval", description="Kind of approval, e.g. expense.")
    title: Title = Field(description="What is to be approved.")
    body: Body = Field(default="", description="Details; masked per the approver's profile.")
    data: JsonData
    approver: EmployeeId | None = Field(
        default=None,
        description="Employee id of the approver; default: the requester's manager, walking up "
        "the chain past managers who are missing or suspended.",
    )


class ReplyCreate(RequestModel):
    """Reply to a task (sender or recipient)."""

    body: Body = Field(description="Reply text; masked per the other party's profile.")
    data: JsonData


class TaskStatusUpdate(RequestModel):
    """Move a task along: accepted, in_progress, done or declined (recipient only)."""

    status: Literal["accepted", "in_progress", "done", "declined"] = Field(
        description="New status."
    )
    note: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="Optional note, stored as a reply."
    )


class DecisionCreate(RequestModel):
    """Approve or reject; only the approver may decide, once."""

    decision: Literal["approve", "reject"] = Field(description="approve or reject.")
    comment: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="Why; masked per the requester's profile."
    )


class Party(ResponseModel):
    """One end of a task."""

    session: str | None = Field(default=None, description="AgentSession name, if an agent.")
    user_id: str | None = Field(default=None, description="Employee id, if a user.")
    role: str | None = Field(default=None, description="Role, if addressed to a role.")


class ReplyRead(ResponseModel):
    """A reply or status note on a task."""

    author: Party
    body: str
    data: dict[str, Any]
    created_at: datetime


class TaskRead(ResponseModel):
    """A task, approval or notification as stored (payloads already masked)."""

    id: UUID
    seq: int = Field(description="Monotonic position, the inbox cursor.")
    kind: TaskKind
    type: str
    title: str
    body: str
    data: dict[str, Any]
    status: TaskState
    sender: Party
    recipient: Party
    trace_id: str
    created_at: datetime
    updated_at: datetime
    replies: list[ReplyRead] = Field(default_factory=list)
    decision: Literal["approve", "reject"] | None = None
    decision_comment: str | None = None
    decided_at: datetime | None = None


class Inbox(ResponseModel):
    """Tasks addressed to the calling session, its user or its role, after the cursor."""

    items: list[TaskRead]
    next_cursor: int = Field(description="Pass as ``after`` to get only newer items.")


class AgentRead(ResponseModel):
    """An active agent session."""

    session: str
    user_id: str
    role: str
    department: str


class AgentList(ResponseModel):
    """Active sessions, with counts by role and by department."""

    items: list[AgentRead]
    by_role: dict[str, int]
    by_department: dict[str, int]


__all__ = [
    "AgentList",
    "AgentRead",
    "ApprovalCreate",
    "DecisionCreate",
    "EmployeeId",
    "Inbox",
    "NotifyCreate",
    "Party",
    "Recipient",
    "ReplyCreate",
    "ReplyRead",
    "Role",
    "TaskCreate",
    "TaskRead",
    "TaskStatusUpdate",
]
