"""Tasks, approvals, notifications and their replies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.models import Task, TaskReply


async def add(db: AsyncSession, **values: Any) -> Task:
    """One INSERT ... RETURNING: server defaults come back without a second round trip."""
    stmt = insert(Task).values(id=uuid.uuid4(), **values).returning(Task)
    return (await db.scalars(stmt)).one()


async def get(db: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> Task | None:
    q = select(Task).where(Task.id == task_id)
    if lock:
        q = q.with_for_update()
    return (await db.execute(q)).scalar_one_or_none()


async def set_fields(db: AsyncSession, task: Task, **values: Any) -> Task:
    await db.execute(update(Task).where(Task.id == task.id).values(**values, updated_at=func.now()))
    await db.refresh(task)
    return task


async def add_reply(
    db: AsyncSession,
    task: Task,
    *,
    session: str | None,
    user: str | None,
    body: str,
    data: dict[str, Any],
) -> None:
    db.add(
        TaskReply(task_id=task.id, author_session=session, author_user=user, body=body, data=data)
    )
    await db.execute(update(Task).where(Task.id == task.id).values(updated_at=func.now()))
    await db.flush()
    await db.refresh(task)


async def replies(db: AsyncSession, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[TaskReply]]:
    found: dict[uuid.UUID, list[TaskReply]] = {t: [] for t in task_ids}
    if not task_ids:
        return found
    rows = await db.execute(
        select(TaskReply).where(TaskReply.task_id.in_(task_ids)).order_by(TaskReply.id)
    )
    for reply in rows.scalars():
        found[reply.task_id].append(reply)
    return found


async def inbox(
    db: AsyncSession, *, session: str, user: str | None, role: str | None, after: int, limit: int
) -> list[Task]:
    """Items addressed to exactly this session, its user or its role; never anyone else's."""
    clauses = [Task.recipient_session == session]
    if user:
        clauses.append(Task.recipient_user == user)
    if role:
        clauses.append(Task.recipient_role == role)
    q = select(Task).where(or_(*clauses), Task.seq > after).order_by(Task.seq).limit(limit)
    return list((await db.execute(q)).scalars())


async def latest_seq(db: AsyncSession) -> int:
    return int((await db.execute(select(func.coalesce(func.max(Task.seq), 0)))).scalar_one())
