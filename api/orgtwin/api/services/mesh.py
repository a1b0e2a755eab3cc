"""The agent mesh: tasks, approvals along the org chart, notifications, inbox and status.

Only the parties of an item see it: its sender session, and its recipient
(a session, a user's agents or a role's agents). Payloads are masked for the
recipient's profile before they are stored, so every read is already safe.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api import metrics
from orgtwin.api.auth.principal import Principal
from orgtwin.api.errors import ForbiddenError, IdempotencyMismatchError
from orgtwin.api.models import Task, TaskReply
from orgtwin.api.repositories import audit, idempotency, mesh_create, tasks
from orgtwin.api.repositories.idempotency import KeyClaim, StoredResponse
from orgtwin.api.schemas.mesh import Party, ReplyRead, TaskRead
from orgtwin.api.services.directory import Snapshot
from orgtwin.api.services.masking import PayloadMasker
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.core.errors import ConflictError, FieldProblem, InputValidationError, NotFoundError

CREATED_STATUS = {"task": "open", "approval": "pending", "notification": "delivered"}
CREATED_ACTION = {"task": "task.create", "approval": "approval.request", "notification": "notify"}
JSON_HEADERS = {"content-type": "application/json"}
_SEQ = b',"seq":0,'

TASK_NEXT = {
    "open": {"accepted", "in_progress", "done", "declined"},
    "accepted": {"in_progress", "done", "declined"},
    "in_progress": {"done", "declined"},
}


def _invalid(field: str, message: str) -> InputValidationError:
    return InputValidationError(message, [FieldProblem(field, message)])


def employee_of(snapshot: Snapshot, principal: Principal) -> OrgUserSpec | None:
    return snapshot.by_object.get(principal.user_ref)


def approver_for(snapshot: Snapshot, requester: OrgUserSpec) -> OrgUserSpec:
    """The requester's manager, walking up past suspended managers."""
    current, seen = requester.manager_id, {requester.employee_id}
    while current and current not in seen:
        seen.add(current)
        manager = snapshot.users.get(current)
        if manager is None:
            break
        if not manager.suspended:
            return manager
        current = manager.manager_id
    raise _invalid("approver", "no approver: no active manager up the chain")


@dataclass(frozen=True)
class Created:
    """A create's answer: the JSON body of the new item, or the stored response to replay."""

    body: bytes
    replay: StoredResponse | None = None


def _render_new(new: mesh_create.NewTask) -> bytes:
    """The new item as ``TaskRead`` renders it, with seq 0: the same bytes (a test pins it).

    orjson writes it from a dict of the values this service built itself, at a fifth of
    the cost of validating them into a TaskRead first; values orjson cannot write (integers
    beyond 64 bits in ``data``) take the model's way.
    """
    sender = {"session": new.sender_session, "user_id": new.sender_user, "role": new.sender_role}
    recipient = {"session": None, "user_id": new.recipient_user, "role": new.recipient_role}
    fields = {
        "id": new.id,
        "seq": 0,
        "kind": new.kind,
        "type": new.type,
        "title": new.title,
        "body": new.body,
        "data": new.data,
        "status": new.status,
        "sender": sender,
        "recipient": recipient,
        "trace_id": new.trace_id,
        "created_at": new.created_at,
        "updated_at": new.created_at,
        "replies": [],
        "decision": None,
        "decision_comment": None,
        "decided_at": None,
    }
    try:
        return orjson.dumps(fields, option=orjson.OPT_UTC_Z)
    except TypeError:
        return TaskRead.model_validate(fields).model_dump_json().encode()


def _split_at_seq(body: bytes) -> tuple[bytes, bytes]:
    """``body`` rendered with seq 0, as (head, tail) around the seq's digits."""
    at = body.index(_SEQ) + len(_SEQ) - 2
    return body[:at], body[at + 1 :]


def to_read(task: Task, replies: list[TaskReply]) -> TaskRead:
    return TaskRead(
        id=task.id,
        seq=task.seq,
        kind=task.kind,
        type=task.type,
        title=task.title,
        body=task.body,
        data=task.data,
        status=task.status,
        sender=Party(session=task.sender_session, user_id=task.sender_user, role=task.sender_role),
        recipient=Party(
            session=task.recipient_session, user_id=task.recipient_user, role=task.recipient_role
        ),
        trace_id=task.trace_id,
        created_at=task.created_at,
        updated_at=task.updated_at,
        replies=[
            ReplyRead(
                author=Party(session=r.author_session, user_id=r.author_user),
                body=r.body,
                data=r.data,
                created_at=r.created_at,
            )
            for r in replies
        ],
        decision=task.decision,
        decision_comment=task.decision_comment,
        decided_at=task.decided_at,
    )


class MeshService:
    """One instance per request: the caller, their snapshot view, and the masker."""

    def __init__(
        self,
        session: Callable[[], AsyncSession],
        writes: mesh_create.Writer,
        snapshot: Snapshot,
        masker: PayloadMasker,
        principal: Principal,
        trace_id: str,
    ) -> None:
        self._session = session
        self.writes = writes
        self.snap = snapshot
        self.masker = masker
        self.me = principal
        self.trace_id = trace_id
        me = employee_of(snapshot, principal)
        self.my_id = me.employee_id if me else None
        self.my_user = me

    @property
    def db(self) -> AsyncSession:
        """The request's session, opened on first use: creating an item needs none."""
        return self._session()

    def _my_profile(self) -> AgentProfileSpec | None:
        if self.me.profile and self.me.profile in self.snap.profiles:
            return self.snap.profiles[self.me.profile]
        return self.snap.profiles_by_role.get(self.me.role)

    def _resolve(self, to: str) -> tuple[str | None, str | None, AgentProfileSpec | None, str]:
        """(recipient user, recipient role, recipient profile, recipient role for policy)."""
        if to == "manager":
            if self.my_user is None or not self.my_user.manager_id:
                raise _invalid("to", "the sender has no manager in the org chart")
            manager = approver_for(self.snap, self.my_user)
            return (
                manager.employee_id,
                None,
                self.snap.profile_of_user(manager.employee_id),
                self.snap.role_of_user(manager.employee_id),
            )
        kind, _, target = to.partition(":")
        if kind == "role":
            profile = self.snap.profiles_by_role.get(target)
            if profile is None:
                raise _invalid("to", "no profile has this role")
            return None, target, profile, target
        user = self.snap.users.get(target)
        if user is None or user.suspended:
            raise _invalid("to", "no such active user")
        return (target, None, self.snap.profile_of_user(target), self.snap.role_of_user(target))

    def _check_policy(self, recipient_role: str) -> None:
        mine = self._my_profile()
        allowed = mine.mesh.can_message if mine else ["*"]
        if "*" not in allowed and recipient_role not in allowed:
            raise ForbiddenError("this profile's mesh policy does not allow messaging that role")

    def _is_recipient(self, task: Task) -> bool:
        return bool(
            (task.recipient_session and task.recipient_session == self.me.session)
            or (task.recipient_user and task.recipient_user == self.my_id)
            or (task.recipient_role and task.recipient_role == self.me.role)
        )

    def _is_party(self, task: Task) -> bool:
        return task.sender_session == self.me.session or self._is_recipient(task)

    async def _load(self, task_id: uuid.UUID, *, lock: bool = False) -> Task:
        task = await tasks.get(self.db, task_id, lock=lock)
        if task is None or not self._is_party(task):
            raise NotFoundError("no such task")
        return task

    async def read(self, task: Task) -> TaskRead:
        return to_read(task, (await tasks.replies(self.db, [task.id]))[task.id])

    async def _audit(self, action: str, task: Task, **details: Any) -> None:
        await audit.append(
            self.db,
            actor=self.me.caller,
            action=action,
            subject=f"{task.kind}:{task.id}",
            outcome="success",
            trace_id=self.trace_id,
            details=details,
        )

    async def create(
        self,
        kind: str,
        to: str | None,
        type_: str,
        title: str,
        body: str,
        data: dict[str, Any],
        approver: str | None = None,
        key: KeyClaim | None = None,
    ) -> Created:
        """Route, check, mask and store a new item with its audit row (and key) in one statement."""
        if kind == "approval":
            if self.my_user is None:
                raise _invalid("approver", "the requester is not in the org chart")
            target = (
                self.snap.users.get(approver) if approver else approver_for(self.snap, self.my_user)
            )
            if target is None or target.suspended or target.employee_id == self.my_id:
                raise _invalid("approver", "no such active approver")
            user: str | None = target.employee_id
            role: str | None = None
            profile = self.snap.profile_of_user(target.employee_id)
            policy_role = self.snap.role_of_user(target.employee_id)
        else:
            assert to is not None
            user, role, profile, policy_role = self._resolve(to)
        self._check_policy(policy_role)
        masked = self.masker.mask(self.snap, profile, title, body, data)
        new = mesh_create.NewTask(
            id=uuid.uuid4(),
            kind=kind,
            type=type_,
            title=masked.title,
            body=masked.body,
            data=masked.data,
            status=CREATED_STATUS[kind],
            sender_session=self.me.session,
            sender_user=self.my_id,
            sender_role=self.me.role or None,
            recipient_user=user,
            recipient_role=role,
            trace_id=self.trace_id,
            created_at=datetime.now(UTC),
        )
        head, tail = _split_at_seq(_render_new(new))
        audit_row = mesh_create.NewAudit(
            actor=self.me.caller,
            action=CREATED_ACTION[kind],
            subject=f"{kind}:{new.id}",
            details={"type": type_, "to_user": user, "to_role": role, "masked": masked.masked},
        )
        response = mesh_create.Response(201, JSON_HEADERS, head, tail)
        # Twice at most: a key that blocked the claim and then expired and was purged
        # before the read is free again.
        for _ in range(2):
            seq = await self.writes.create(new, audit_row, key, response)
            if seq is not None:
                metrics.MESH_ITEMS.labels(kind).inc()
                return Created(head + str(seq).encode() + tail)
            assert key is not None
            stored = await idempotency.stored(self.writes.pool, key)
            if stored is not None:
                if stored.body_hash != key.body_hash:
                    raise IdempotencyMismatchError(
                        "this Idempotency-Key was used with a different body"
                    )
                return Created(b"", stored)
        raise ConflictError("this Idempotency-Key is changing hands; retry")

    async def reply(self, task_id: uuid.UUID, body: str, data: dict[str, Any]) -> TaskRead:
        task = await self._load(task_id)
        other = (
            self.snap.profiles_by_role.get(task.sender_role or "")
            if self._is_recipient(task)
            else (
                self.snap.profile_of_user(task.recipient_user)
                if task.recipient_user
                else self.snap.profiles_by_role.get(task.recipient_role or "")
            )
        )
        masked = self.masker.mask(self.snap, other, "", body, data)
        await tasks.add_reply(
            self.db,
            task,
            session=self.me.session,
            user=self.my_id,
            body=masked.body,
            data=masked.data,
        )
        await self._audit("task.reply", task, masked=masked.masked)
        await self.db.refresh(task)
        return await self.read(task)

    async def set_status(self, task_id: uuid.UUID, status: str, note: str) -> TaskRead:
        task = await self._load(task_id, lock=True)
        if not self._is_recipient(task) or task.kind != "task":
            raise ForbiddenError("only the recipient of a task may change its status")
        if status not in TASK_NEXT.get(task.status, set()):
            raise ConflictError(f"a task in status {task.status} cannot become {status}")
        task = await tasks.set_fields(self.db, task, status=status)
        if note:
            sender = self.snap.profiles_by_role.get(task.sender_role or "")
            masked = self.masker.mask(self.snap, sender, "", note, {})
            await tasks.add_reply(
                self.db,
                task,
                session=self.me.session,
                user=self.my_id,
                body=masked.body,
                data={},
            )
        await self._audit("task.status", task, status=status)
        return await self.read(task)

    async def decide(self, task_id: uuid.UUID, decision: str, comment: str) -> TaskRead:
        task = await self._load(task_id, lock=True)
        if task.kind != "approval":
            raise NotFoundError("no such approval")
        if task.recipient_user != self.my_id or self.my_id is None:
            raise ForbiddenError("only the approver may decide")
        if task.status != "pending":
            raise ConflictError("this approval was already decided")
        sender = self.snap.profiles_by_role.get(task.sender_role or "")
        masked = self.masker.mask(self.snap, sender, "", comment, {})
        task = await tasks.set_fields(
            self.db,
            task,
            status="approved" if decision == "approve" else "rejected",
            decision=decision,
            decision_comment=masked.body,
            decided_at=datetime.now(UTC),
        )
        await self._audit("approval.decide", task, decision=decision)
        return await self.read(task)

    async def status(self, task_id: uuid.UUID) -> TaskRead:
        return await self.read(await self._load(task_id))

    async def inbox(self, after: int, limit: int) -> list[TaskRead]:
        assert self.me.session is not None
        found = await tasks.inbox(
            self.db,
            session=self.me.session,
            user=self.my_id,
            role=self.me.role or None,
            after=after,
            limit=limit,
        )
        replies = await tasks.replies(self.db, [t.id for t in found])
        return [to_read(t, replies[t.id]) for t in found]
