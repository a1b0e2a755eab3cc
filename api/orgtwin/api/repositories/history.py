"""Session history: phase transitions recorded by the watcher, kept after deletion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.models import SessionTransition


async def record(
    db: AsyncSession,
    *,
    namespace: str,
    session: str,
    uid: str,
    user_ref: str,
    phase: str,
    at: datetime,
) -> bool:
    """Insert once; the unique key makes replays after restarts and watch re-lists harmless."""
    stmt = (
        insert(SessionTransition)
        .values(
            namespace=namespace,
            session=session,
            session_uid=uid,
            user_ref=user_ref,
            phase=phase,
            at=at,
        )
        .on_conflict_do_nothing()
        .returning(SessionTransition.id)
    )
    return (await db.execute(stmt)).scalar_one_or_none() is not None


async def for_session(db: AsyncSession, namespace: str, session: str) -> list[SessionTransition]:
    q = (
        select(SessionTransition)
        .where(SessionTransition.namespace == namespace, SessionTransition.session == session)
        .order_by(SessionTransition.at, SessionTransition.id)
    )
    return list((await db.execute(q)).scalars())


async def last_phase(db: AsyncSession, namespace: str, session: str) -> tuple[str, str] | None:
    """(phase, user_ref) of the newest recorded transition, if any."""
    q = (
        select(SessionTransition.phase, SessionTransition.user_ref)
        .where(SessionTransition.namespace == namespace, SessionTransition.session == session)
        .order_by(SessionTransition.at.desc(), SessionTransition.id.desc())
        .limit(1)
    )
    row = (await db.execute(q)).first()
    return (row[0], row[1]) if row else None


async def active_sessions(db: AsyncSession, namespace: str) -> list[tuple[str, str]]:
    """(session, user_ref) whose newest recorded phase is Active: the fallback agent list."""
    newest = (
        select(SessionTransition.session, SessionTransition.user_ref, SessionTransition.phase)
        .where(SessionTransition.namespace == namespace)
        .ext(distinct_on(SessionTransition.session))
        .order_by(
            SessionTransition.session, SessionTransition.at.desc(), SessionTransition.id.desc()
        )
        .subquery()
    )
    rows = await db.execute(
        select(newest.c.session, newest.c.user_ref).where(newest.c.phase == "Active")
    )
    return [(r[0], r[1]) for r in rows]
