"""A new mesh item in one autocommitted statement: key claim, task, audit row, stored response.

    WITH next  AS (nextval of tasks.seq)         the item's seq, drawn first so the
                                                 stored response can carry it
         claim AS (INSERT INTO idempotency_keys  ON CONFLICT DO UPDATE ... WHERE expired;
                   ... response = head||seq||tail)   only with an Idempotency-Key
         task  AS (INSERT INTO tasks ... WHERE EXISTS claim)
         audit AS (INSERT INTO audit_events ... FROM task)
    SELECT seq FROM task

One statement is one transaction: a crash leaves all of it or none of it, as the
request transaction does for the other POST routes, in one round trip instead of
six. A concurrent duplicate blocks on the key's unique index until the first
statement commits and then claims nothing (no row back); the caller reads the
stored response with ``repositories.idempotency.stored``. The response is rendered
before the statement, so the stored bytes are the sent bytes; only ``seq`` comes
from the database, spliced between ``head`` and ``tail``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from orgtwin.api.db import StatementPool
from orgtwin.api.repositories.idempotency import KeyClaim

_NEXT: Final = "next AS (SELECT nextval(pg_get_serial_sequence('tasks', 'seq')) AS seq)"
_CLAIM: Final = """claim AS (
    INSERT INTO idempotency_keys AS k (caller, method, path, key, body_hash, expires_at,
        status_code, response_headers, response_body)
    SELECT %(caller)s, %(method)s, %(path)s, %(key)s, %(body_hash)s, %(expires_at)s,
        %(status_code)s, %(response_headers)s,
        %(head)s || convert_to(next.seq::text, 'UTF8') || %(tail)s
    FROM next
    ON CONFLICT ON CONSTRAINT uq_idempotency_keys_caller_method_path_key DO UPDATE SET
        body_hash = excluded.body_hash, expires_at = excluded.expires_at,
        status_code = excluded.status_code, response_headers = excluded.response_headers,
        response_body = excluded.response_body, created_at = now()
    WHERE k.expires_at < %(now)s
    RETURNING k.id
)"""
_TASK: Final = """task AS (
    INSERT INTO tasks (id, seq, kind, type, title, body, data, status,
        sender_session, sender_user, sender_role, recipient_session, recipient_user,
        recipient_role, trace_id, created_at, updated_at)
    SELECT %(id)s, next.seq, %(kind)s, %(type)s, %(title)s, %(body)s, %(data)s, %(status)s,
        %(sender_session)s, %(sender_user)s, %(sender_role)s, %(recipient_session)s,
        %(recipient_user)s, %(recipient_role)s, %(trace_id)s, %(now)s, %(now)s
    FROM next"""
_AUDIT: Final = """audit AS (
    INSERT INTO audit_events (actor, action, subject, outcome, trace_id, details)
    SELECT %(actor)s, %(action)s, %(subject)s, 'success', %(trace_id)s, %(details)s FROM task
)"""
# Both are built from the constant fragments above only; no value is ever formatted in.
KEYED: Final = (
    f"WITH {_NEXT},\n{_CLAIM},\n{_TASK}\n    WHERE EXISTS (SELECT FROM claim)\n"  # noqa: S608
    f"    RETURNING seq\n),\n{_AUDIT}\nSELECT seq FROM task"
)
UNKEYED: Final = f"WITH {_NEXT},\n{_TASK}\n    RETURNING seq\n),\n{_AUDIT}\nSELECT seq FROM task"


@dataclass(frozen=True)
class NewTask:
    """Every column of a new item but ``seq``, already masked."""

    id: uuid.UUID
    kind: str
    type: str
    title: str
    body: str
    data: dict[str, Any]
    status: str
    sender_session: str | None
    sender_user: str | None
    sender_role: str | None
    recipient_user: str | None
    recipient_role: str | None
    trace_id: str
    created_at: datetime


@dataclass(frozen=True)
class NewAudit:
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Response:
    """The response to store with the key: ``head + seq + tail`` is its body."""

    status_code: int
    headers: dict[str, str]
    head: bytes
    tail: bytes


async def create(
    pool: StatementPool,
    task: NewTask,
    audit: NewAudit,
    claim: KeyClaim | None,
    response: Response,
) -> int | None:
    """The new item's seq; None if the key is held by an earlier, unexpired request."""
    params: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "type": task.type,
        "title": task.title,
        "body": task.body,
        "data": Jsonb(task.data),
        "status": task.status,
        "sender_session": task.sender_session,
        "sender_user": task.sender_user,
        "sender_role": task.sender_role,
        "recipient_session": None,
        "recipient_user": task.recipient_user,
        "recipient_role": task.recipient_role,
        "trace_id": task.trace_id,
        "now": task.created_at,
        "actor": audit.actor,
        "action": audit.action,
        "subject": audit.subject,
        "details": Jsonb(audit.details),
    }
    if claim is None:
        row = await pool.fetchone(UNKEYED, params)
    else:
        params.update(
            caller=claim.caller,
            method=claim.method,
            path=claim.path,
            key=claim.key,
            body_hash=claim.body_hash,
            expires_at=task.created_at + claim.ttl,
            status_code=response.status_code,
            response_headers=Jsonb(response.headers),
            head=response.head,
            tail=response.tail,
        )
        row = await pool.fetchone(KEYED, params)
    return None if row is None else int(row[0])
