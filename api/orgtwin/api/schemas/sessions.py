"""Session wire models: create, list, read with history, and lifecycle events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from orgtwin.api.schemas.common import EmployeeId, RequestModel, ResponseModel

SessionEvent = Literal["activate", "pause", "resume", "complete", "fail"]


class SessionCreate(RequestModel):
    """Start an agent session for the caller (admins: for any user)."""

    user_id: EmployeeId | None = Field(
        default=None, description="Employee id; default the caller. Admins only for others."
    )
    purpose: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="Why the session exists."
    )


class SessionEventCreate(RequestModel):
    """A lifecycle event, checked against the state machine."""

    event: SessionEvent
    reason: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,62}$")] = Field(
        default="FailedByApi", description="For fail: a CamelCase reason."
    )
    message: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="For fail: detail."
    )


class TransitionRead(ResponseModel):
    """One recorded phase transition."""

    phase: str
    at: datetime
    recorded_at: datetime


class SessionRead(ResponseModel):
    """A session: spec and status from the AgentSession, history from Postgres."""

    id: str
    user_id: str
    desired_state: str
    phase: str
    purpose: str
    role: str
    created_at: datetime | None
    last_activity_at: str | None
    message: str
    deleted: bool = Field(default=False, description="The AgentSession object is gone.")
    allowed_events: list[str]
    history: list[TransitionRead] = Field(default_factory=list)


class SessionPage(ResponseModel):
    """One page of sessions."""

    items: list[SessionRead]
    total: int
    offset: int
    limit: int
