"""Audit events: insert and query; there is deliberately no update or delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.models import AuditEvent


async def append(
    db: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    trace_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    await db.execute(
        insert(AuditEvent).values(
            actor=actor,
            action=action,
            subject=subject,
            outcome=outcome,
            trace_id=trace_id,
            details=details or {},
        )
    )


async def search(
    db: AsyncSession,
    *,
    actor: str | None,
    action: str | None,
    subject: str | None,
    trace_id: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEvent]:
    q = select(AuditEvent)
    for column, value in (
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
        (AuditEvent.subject, subject),
        (AuditEvent.trace_id, trace_id),
        (AuditEvent.outcome, outcome),
    ):
        if value is not None:
            q = q.where(column == value)
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    if until is not None:
        q = q.where(AuditEvent.at < until)
    if before is not None:
        q = q.where(AuditEvent.id < before)
    q = q.order_by(AuditEvent.id.desc()).limit(limit)
    return list((await db.execute(q)).scalars())
