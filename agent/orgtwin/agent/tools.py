"""The mesh tools: what each one sends to the api and the one-line summary the model reads.

Each tool is a ``Tool`` with a pydantic parameter model (its JSON schema is the
tool's ``inputSchema``) and a handler that returns the api's JSON (a TaskRead,
Inbox or AgentList of ``orgtwin.api.schemas.mesh``) as structured content plus a
short human summary.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from orgtwin.agent import schemas as s
from orgtwin.agent.client import MeshClient, new_trace_id

MESH = "/v1/mesh"


@dataclass(frozen=True)
class Outcome:
    """What a tool returns: JSON for programs, one line for people and the model."""

    data: dict[str, Any]
    summary: str


@dataclass
class Tracing:
    """Which X-Trace-Id a call carries.

    A call on a task the agent saw in its inbox continues that task's trace, so a
    whole collaboration (request, routing, decision) is audited under one id;
    anything else uses the chain's id (ORGTWIN_TRACE_ID, or one per process).
    """

    chain: str = field(default_factory=new_trace_id)
    by_task: dict[str, str] = field(default_factory=dict)
    inbox_cursor: int = 0

    def for_task(self, task_id: str | None) -> str:
        if task_id and task_id in self.by_task:
            return self.by_task[task_id]
        return self.chain

    def for_payload(self, data: Any) -> str:
        """New work that names an inbox item in its data (e.g. ``{"task": id}``) joins its trace."""
        if isinstance(data, dict):
            for value in data.values():
                found = self.for_payload(value)
                if found != self.chain:
                    return found
        elif isinstance(data, list):
            for value in data:
                found = self.for_payload(value)
                if found != self.chain:
                    return found
        elif isinstance(data, str):
            return self.for_task(data)
        return self.chain

    def remember(self, item: Any) -> None:
        if isinstance(item, dict):
            ident = item.get("id")
            trace = item.get("trace_id") or item.get("traceId")
            if isinstance(ident, str) and isinstance(trace, str) and trace:
                self.by_task.setdefault(ident, trace)


@dataclass
class Mesh:
    """What the handlers share: the api client and the trace bookkeeping."""

    client: MeshClient
    tracing: Tracing


Handler = Callable[[Mesh, Any, str | None], Awaitable[Outcome]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: type[s.ToolParams]
    handler: Handler
    read_only: bool = False


def _as_object(body: Any, key: str = "items") -> dict[str, Any]:
    """Structured content must be a JSON object; a bare list is wrapped."""
    if isinstance(body, dict):
        return body
    return {key: body if isinstance(body, list) else [body]}


def _party(value: Any, default: str = "?") -> str:
    """A Party (session, user_id, role) as one word for a summary."""
    if isinstance(value, dict):
        if value.get("user_id"):
            return f"user:{value['user_id']}"
        if value.get("role"):
            return f"role:{value['role']}"
        if value.get("session"):
            return f"session:{value['session']}"
    return default


def _field(body: dict[str, Any], *names: str, default: str = "?") -> str:
    for name in names:
        value = body.get(name)
        if value not in (None, ""):
            return str(value)
    return default


async def send_task(mesh: Mesh, p: s.SendTaskParams, trace: str | None) -> Outcome:
    payload = {
        "to": p.to,
        "type": p.type,
        "title": p.title,
        "body": p.body,
        "data": p.data,
    }
    body = _as_object(
        await mesh.client.request(
            "POST",
            f"{MESH}/tasks",
            json=payload,
            trace_id=trace or mesh.tracing.for_payload(p.data),
        )
    )
    mesh.tracing.remember(body)
    return Outcome(body, f"Task {_field(body, 'id')} sent to {p.to}: {p.title}")


async def request_approval(mesh: Mesh, p: s.RequestApprovalParams, trace: str | None) -> Outcome:
    payload: dict[str, Any] = {"type": p.type, "title": p.title, "body": p.body, "data": p.data}
    if p.approver:
        payload["approver"] = p.approver
    body = _as_object(
        await mesh.client.request(
            "POST",
            f"{MESH}/approvals",
            json=payload,
            trace_id=trace or mesh.tracing.for_payload(p.data),
        )
    )
    mesh.tracing.remember(body)
    approver = _party(body.get("recipient"), default=p.approver or "your manager")
    return Outcome(body, f"Approval {_field(body, 'id')} requested from {approver}: {p.title}")


async def decide_approval(mesh: Mesh, p: s.DecideApprovalParams, trace: str | None) -> Outcome:
    payload = {"decision": p.decision, "comment": p.comment}
    body = _as_object(
        await mesh.client.request(
            "POST",
            f"{MESH}/approvals/{quote(p.approval_id, safe='')}/decision",
            json=payload,
            trace_id=trace or mesh.tracing.for_task(p.approval_id),
        )
    )
    verb = "Approved" if p.decision == "approve" else "Rejected"
    return Outcome(body, f"{verb} approval {p.approval_id}; it is now {_field(body, 'status')}")


async def notify(mesh: Mesh, p: s.NotifyParams, trace: str | None) -> Outcome:
    payload = {"to": p.to, "title": p.title, "body": p.body, "data": p.data}
    body = _as_object(
        await mesh.client.request(
            "POST",
            f"{MESH}/notify",
            json=payload,
            trace_id=trace or mesh.tracing.for_payload(p.data),
        )
    )
    return Outcome(body, f"Notified {p.to}: {p.title}")


async def fetch_status(mesh: Mesh, p: s.FetchStatusParams, trace: str | None) -> Outcome:
    body = _as_object(
        await mesh.client.request(
            "GET",
            f"{MESH}/status/{quote(p.id, safe='')}",
            trace_id=trace or mesh.tracing.for_task(p.id),
        )
    )
    mesh.tracing.remember(body)
    status = _field(body, "status", "state")
    return Outcome(body, f"{_field(body, 'kind', default='Item')} {p.id} is {status}")


async def check_inbox(mesh: Mesh, p: s.CheckInboxParams, trace: str | None) -> Outcome:
    after = 0 if p.include_seen else mesh.tracing.inbox_cursor
    body = _as_object(
        await mesh.client.request(
            "GET",
            f"{MESH}/inbox",
            params={"after": after, "limit": p.limit, "timeout": p.wait_seconds},
            trace_id=trace or mesh.tracing.chain,
            wait=float(p.wait_seconds),
        )
    )
    items = body.get("items")
    items = items if isinstance(items, list) else []
    for item in items:
        mesh.tracing.remember(item)
    cursor = body.get("next_cursor")
    if isinstance(cursor, int) and cursor > mesh.tracing.inbox_cursor:
        mesh.tracing.inbox_cursor = cursor
    if not items:
        return Outcome(body, "Inbox is empty" if p.include_seen else "No new items in the inbox")
    titles = ", ".join(
        f"{_field(i, 'kind', 'type', default='item')} {_field(i, 'id')} "
        f"'{_field(i, 'title', default='')}' from {_party(i.get('sender'))}"
        for i in items[:5]
        if isinstance(i, dict)
    )
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return Outcome(body, f"{len(items)} item(s) in inbox: {titles}{more}")


async def reply(mesh: Mesh, p: s.ReplyParams, trace: str | None) -> Outcome:
    trace_id = trace or mesh.tracing.for_task(p.task_id)
    task = quote(p.task_id, safe="")
    body = _as_object(
        await mesh.client.request(
            "POST",
            f"{MESH}/tasks/{task}/reply",
            json={"body": p.body, "data": p.data},
            trace_id=trace_id,
        )
    )
    if p.status is not None:
        body = _as_object(
            await mesh.client.request(
                "POST",
                f"{MESH}/tasks/{task}/status",
                json={"status": p.status},
                trace_id=trace_id,
            )
        )
    suffix = f" and marked it {p.status}" if p.status else ""
    return Outcome(body, f"Replied to task {p.task_id}{suffix}")


async def list_agents(mesh: Mesh, p: s.ListAgentsParams, trace: str | None) -> Outcome:
    query = {k: v for k, v in (("role", p.role), ("department", p.department)) if v}
    body = _as_object(
        await mesh.client.request(
            "GET", f"{MESH}/agents", params=query, trace_id=trace or mesh.tracing.chain
        )
    )
    items = body.get("items")
    count = len(items) if isinstance(items, list) else 0
    scope = " ".join(f"{k}={v}" for k, v in query.items())
    return Outcome(body, f"{count} active agent(s){' with ' + scope if scope else ''}")


TOOLS: tuple[Tool, ...] = (
    Tool(
        "send_task",
        "Send a task to another agent: your manager, a role (e.g. legal) or a user. "
        "Returns the task with its id; use fetch_status to follow it.",
        s.SendTaskParams,
        send_task,
    ),
    Tool(
        "request_approval",
        "Ask for an approval (e.g. an expense). The approver is your manager from the org "
        "chart unless you name one. Returns the approval with its id.",
        s.RequestApprovalParams,
        request_approval,
    ),
    Tool(
        "decide_approval",
        "Approve or reject an approval that was addressed to you, with a comment.",
        s.DecideApprovalParams,
        decide_approval,
    ),
    Tool("notify", "Send a notification; no answer is expected.", s.NotifyParams, notify),
    Tool(
        "fetch_status",
        "Get the current status of a task or approval, with replies and decisions.",
        s.FetchStatusParams,
        fetch_status,
        read_only=True,
    ),
    Tool(
        "check_inbox",
        "List tasks, approvals and notifications addressed to you, your role or your user; "
        "optionally wait for new ones.",
        s.CheckInboxParams,
        check_inbox,
        read_only=True,
    ),
    Tool("reply", "Answer a task you received; optionally set its status.", s.ReplyParams, reply),
    Tool(
        "list_agents",
        "List the agents running now, by role and department.",
        s.ListAgentsParams,
        list_agents,
        read_only=True,
    ),
)

BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLS}
