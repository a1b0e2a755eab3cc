"""Parameters of the mesh tools: their JSON schemas are what the model sees.

Field names, patterns and bounds mirror the api's request bodies in
``orgtwin.api.schemas.mesh`` (TaskCreate, ApprovalCreate, ...), so that what the
model may send is what the api accepts. The agent may not import the api, so the
shapes are repeated here; tests pin the bodies against a stand-in server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECIPIENT_PATTERN = r"^(manager|role:[a-z][a-z0-9-]{0,62}|user:[A-Za-z0-9][A-Za-z0-9._-]{0,62})$"
TYPE_PATTERN = r"^[a-z][a-z0-9_.-]{0,62}$"
EMPLOYEE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
RECIPIENT_DESC = (
    "Who receives it: 'manager' (your manager from the org chart), "
    "'role:<role>' (any agent of that role, e.g. role:legal) or 'user:<employee id>'."
)


class ToolParams(BaseModel):
    """Base of tool parameters: unknown fields are an error the model can correct."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SendTaskParams(ToolParams):
    """Ask another agent to do something."""

    to: str = Field(description=RECIPIENT_DESC, pattern=RECIPIENT_PATTERN, max_length=70)
    title: str = Field(description="One-line summary of the task.", min_length=1, max_length=200)
    body: str = Field(default="", description="What to do, in full.", max_length=20000)
    type: str = Field(
        default="task",
        description="Kind of work, e.g. task, review, expense.",
        max_length=63,
        pattern=TYPE_PATTERN,
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Structured details (amounts, ids, references)."
    )


class RequestApprovalParams(ToolParams):
    """Ask for an approval; by default the api routes it to your manager from the org chart."""

    title: str = Field(
        description="What needs approving, in one line.", min_length=1, max_length=200
    )
    body: str = Field(default="", description="Justification and details.", max_length=20000)
    type: str = Field(
        default="approval",
        description="Kind of approval, e.g. expense, contract.",
        max_length=63,
        pattern=TYPE_PATTERN,
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Structured details, e.g. amount and currency."
    )
    approver: str | None = Field(
        default=None,
        description="Employee id of the approver. Leave empty to let the org chart decide: "
        "your manager, or the next one up.",
        pattern=EMPLOYEE_ID_PATTERN,
        max_length=63,
    )


class DecideApprovalParams(ToolParams):
    """Approve or reject an approval addressed to you."""

    approval_id: str = Field(description="Id of the approval, from check_inbox.", min_length=1)
    decision: Literal["approve", "reject"] = Field(description="approve or reject.")
    comment: str = Field(default="", description="Why, for the requester.", max_length=2000)


class NotifyParams(ToolParams):
    """Tell someone something; no answer is expected."""

    to: str = Field(description=RECIPIENT_DESC, pattern=RECIPIENT_PATTERN, max_length=70)
    title: str = Field(description="One-line message.", min_length=1, max_length=200)
    body: str = Field(default="", description="More detail.", max_length=20000)
    data: dict[str, Any] = Field(default_factory=dict, description="Structured details.")


class FetchStatusParams(ToolParams):
    """Look up a task or approval you sent or received."""

    id: str = Field(description="Id of the task or approval.", min_length=1)


class CheckInboxParams(ToolParams):
    """Read what was sent to you, your role or your user."""

    wait_seconds: int = Field(
        default=0, ge=0, le=30, description="Wait up to this long for something to arrive."
    )
    limit: int = Field(default=20, ge=1, le=100, description="At most this many items.")
    include_seen: bool = Field(
        default=False,
        description="Also list items this session already saw; by default only new ones.",
    )


class ReplyParams(ToolParams):
    """Answer a task you received."""

    task_id: str = Field(description="Id of the task, from check_inbox.", min_length=1)
    body: str = Field(description="Your answer.", min_length=1, max_length=20000)
    data: dict[str, Any] = Field(default_factory=dict, description="Structured results.")
    status: Literal["accepted", "in_progress", "done", "declined"] | None = Field(
        default=None, description="Also set the task's status, e.g. done when finished."
    )


class ListAgentsParams(ToolParams):
    """Find the agents that are running now."""

    role: str | None = Field(default=None, description="Only this role, e.g. legal.")
    department: str | None = Field(default=None, description="Only this department.")
