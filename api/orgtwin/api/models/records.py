"""The api's tables: tasks and replies, audit events, idempotency keys, imports, history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from orgtwin.api.models.base import Base


class Task(Base):
    """A task, approval or notification between agents; payloads stored already masked."""

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    sender_session: Mapped[str | None] = mapped_column(String(253))
    sender_user: Mapped[str | None] = mapped_column(String(63))
    sender_role: Mapped[str | None] = mapped_column(String(63))
    recipient_session: Mapped[str | None] = mapped_column(String(253))
    recipient_user: Mapped[str | None] = mapped_column(String(63), index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(63), index=True)
    trace_id: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TaskReply(Base):
    """A reply or status note on a task."""

    __tablename__ = "task_replies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    task_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    author_session: Mapped[str | None] = mapped_column(String(253))
    author_user: Mapped[str | None] = mapped_column(String(63))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEvent(Base):
    """One audited state change; append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    trace_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)


class IdempotencyKey(Base):
    """A POST's key per (caller, method, path), its body hash and its stored response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "method", "path", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    caller: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    key: Mapped[str] = mapped_column(String(255))
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OrgImport(Base):
    """One org chart import run and its result."""

    __tablename__ = "org_imports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    actor: Mapped[str] = mapped_column(String(300))
    dry_run: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int]
    created: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    suspended: Mapped[int]
    missing: Mapped[list[str]] = mapped_column(JSONB)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    file_sha256: Mapped[str] = mapped_column(String(64))
    trace_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SessionTransition(Base):
    """One AgentSession phase transition, kept after the object is deleted."""

    __tablename__ = "session_history"
    __table_args__ = (UniqueConstraint("namespace", "session_uid", "phase", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63))
    session: Mapped[str] = mapped_column(String(253), index=True)
    session_uid: Mapped[str] = mapped_column(String(64))
    user_ref: Mapped[str] = mapped_column(String(253), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
