"""New mesh items: the creates of concurrent requests written together, in seq order.

Each item is its key claim, its task, its audit row and its stored response. The
items that arrive while a write is under way wait and go into the next one, so under
load one transaction carries many of them: one round trip, one commit and one parse
for the lot, where each used to cost its own. An item that arrives when nothing is
being written is written at once, alone.

    WITH lock  AS (pg_advisory_xact_lock(SEQ_LOCK))   one writer of tasks at a time,
                                                      on every replica, until commit
         input AS (lock, jsonb_to_recordset(rows))    the items, one JSON document
         next  AS (... nextval(tasks.seq))            each item's seq
         claim AS (INSERT INTO idempotency_keys  ON CONFLICT DO UPDATE ... WHERE expired;
                   ... response = head||seq||tail)    the keyed items
         task  AS (INSERT INTO tasks ... unkeyed, or keyed and claimed)
         audit AS (INSERT INTO audit_events ... FROM task)
    SELECT id, seq FROM task

One statement is one transaction (the connection is in autocommit).

**Seq order is commit order.** The inbox hands out items after a cursor (the last seq
a reader saw). If an item could commit after one with a higher seq, a reader that
had already moved past its seq would never see it. The advisory lock is taken
before any seq is drawn (no row of ``input`` exists before ``lock`` has its row) and
held until the commit, so no transaction draws a seq while another one that drew
lower ones is still open.

**Idempotency.** A crash leaves a whole transaction or nothing, as before. A keyed
item that claims nothing (no row back) found its key held by an earlier request;
the caller reads the stored response with ``repositories.idempotency.stored``. Two
items with the same key never share a transaction: the second waits for the next
one and then finds the first's key. The response is rendered before the write, so
the stored bytes are the sent bytes; only ``seq`` comes from the database, spliced
between ``head`` and ``tail``.

**Failures.** If Postgres is unreachable, every item of the transaction gets the
error (a 503 for its client). If the statement fails for another reason, each item
is written again alone, so a bad item fails only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import psycopg

from orgtwin.api import metrics
from orgtwin.api.db import StatementPool
from orgtwin.api.errors import is_db_unavailable
from orgtwin.api.repositories.idempotency import KeyClaim
from orgtwin.core import jsonio

SEQ_LOCK: Final = 0x6F72677477696E01  # "orgtwin" and 1: the advisory lock of tasks.seq
MAX_ITEMS: Final = 64
"""Items per transaction at most; more wait for the next one."""

_COLUMNS: Final = """id uuid, kind text, type text, title text, body text, data jsonb,
        status text, sender_session text, sender_user text, sender_role text,
        recipient_user text, recipient_role text, trace_id text, created_at timestamptz,
        actor text, action text, subject text, details jsonb, caller text, method text,
        path text, key text, body_hash text, expires_at timestamptz, status_code int,
        response_headers jsonb, head text, tail text"""
# Built from the constant fragments above only; every value travels in %(rows)s.
INSERT: Final = f"""WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(%(lock)s)),
input AS (SELECT r.* FROM lock, jsonb_to_recordset(%(rows)s::jsonb) AS r({_COLUMNS})),
next AS (SELECT input.*, nextval(pg_get_serial_sequence('tasks', 'seq')) AS seq FROM input),
claim AS (
    INSERT INTO idempotency_keys AS k (caller, method, path, key, body_hash, expires_at,
        status_code, response_headers, response_body)
    SELECT caller, method, path, key, body_hash, expires_at, status_code, response_headers,
        convert_to(head || seq::text || tail, 'UTF8')
    FROM next WHERE key IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_idempotency_keys_caller_method_path_key DO UPDATE SET
        body_hash = excluded.body_hash, expires_at = excluded.expires_at,
        status_code = excluded.status_code, response_headers = excluded.response_headers,
        response_body = excluded.response_body, created_at = now()
    WHERE k.expires_at < %(now)s
    RETURNING k.caller, k.method, k.path, k.key
),
task AS (
    INSERT INTO tasks (id, seq, kind, type, title, body, data, status,
        sender_session, sender_user, sender_role, recipient_session, recipient_user,
        recipient_role, trace_id, created_at, updated_at)
    SELECT id, seq, kind, type, title, body, data, status, sender_session, sender_user,
        sender_role, NULL, recipient_user, recipient_role, trace_id, created_at, created_at
    FROM next n
    WHERE n.key IS NULL OR EXISTS (
        SELECT FROM claim c
        WHERE (c.caller, c.method, c.path, c.key) = (n.caller, n.method, n.path, n.key)
    )
    RETURNING id, seq
),
audit AS (
    INSERT INTO audit_events (actor, action, subject, outcome, trace_id, details)
    SELECT n.actor, n.action, n.subject, 'success', n.trace_id, n.details
    FROM task JOIN next n USING (id)
)
SELECT id, seq FROM task"""  # noqa: S608


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


_Key = tuple[str, str, str, str]


@dataclass
class _Item:
    id: uuid.UUID
    row: bytes  # the item as a JSON object
    key: _Key | None
    done: asyncio.Future[int | None]


def _row(task: NewTask, audit: NewAudit, claim: KeyClaim | None, response: Response) -> bytes:
    row: dict[str, Any] = {
        "id": str(task.id),
        "kind": task.kind,
        "type": task.type,
        "title": task.title,
        "body": task.body,
        "data": task.data,
        "status": task.status,
        "sender_session": task.sender_session,
        "sender_user": task.sender_user,
        "sender_role": task.sender_role,
        "recipient_user": task.recipient_user,
        "recipient_role": task.recipient_role,
        "trace_id": task.trace_id,
        "created_at": task.created_at.isoformat(),
        "actor": audit.actor,
        "action": audit.action,
        "subject": audit.subject,
        "details": audit.details,
    }
    if claim is not None:
        row.update(
            caller=claim.caller,
            method=claim.method,
            path=claim.path,
            key=claim.key,
            body_hash=claim.body_hash,
            expires_at=(task.created_at + claim.ttl).isoformat(),
            status_code=response.status_code,
            response_headers=response.headers,
            # Rendered JSON is UTF-8; it travels as text and is stored as those bytes.
            head=response.head.decode(),
            tail=response.tail.decode(),
        )
    # jsonio: integers beyond 64 bits in the free-form data are written exactly too.
    return jsonio.dumps(row)


class Writer:
    """Writes the mesh creates of one process; one transaction under way at a time."""

    def __init__(self, pool: StatementPool) -> None:
        self.pool = pool
        self._waiting: list[_Item] = []
        self._writing: asyncio.Task[None] | None = None

    async def create(
        self, task: NewTask, audit: NewAudit, claim: KeyClaim | None, response: Response
    ) -> int | None:
        """The new item's seq; None if the key is held by an earlier, unexpired request."""
        key = None if claim is None else (claim.caller, claim.method, claim.path, claim.key)
        row = _row(task, audit, claim, response)
        item = _Item(task.id, row, key, asyncio.get_running_loop().create_future())
        self._waiting.append(item)
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_all())
        return await item.done

    async def close(self) -> None:
        """Stop writing; requests still waiting get an error (a 503)."""
        if self._writing is not None:
            self._writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writing
        for item in self._waiting:
            _fail(item, psycopg.OperationalError("the api is shutting down"))
        self._waiting.clear()

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                items = self._take()
                if items:  # else every waiting request was cancelled
                    await self._write(items)
        finally:
            self._writing = None

    def _take(self) -> list[_Item]:
        """Up to MAX_ITEMS waiting items, in arrival order, no key twice."""
        taken: list[_Item] = []
        keys: set[_Key] = set()
        rest: list[_Item] = []
        for item in self._waiting:
            if item.done.done():  # its request was cancelled while it waited
                continue
            if len(taken) >= MAX_ITEMS or (item.key is not None and item.key in keys):
                rest.append(item)
                continue
            if item.key is not None:
                keys.add(item.key)
            taken.append(item)
        self._waiting = rest
        return taken

    async def _write(self, items: list[_Item]) -> None:
        try:
            seqs = await self._insert(items)
        except asyncio.CancelledError:
            for item in items:
                _fail(item, psycopg.OperationalError("the api is shutting down"))
            raise
        except Exception as exc:  # noqa: BLE001 - handed to the requests, which answer it
            if len(items) > 1 and isinstance(exc, psycopg.Error) and not is_db_unavailable(exc):
                # Something in one item: each alone, so only that one fails.
                for item in items:
                    await self._write([item])
                return
            for item in items:
                _fail(item, exc)
            return
        for item in items:
            if not item.done.done():
                item.done.set_result(seqs.get(item.id))

    async def _insert(self, items: list[_Item]) -> dict[uuid.UUID, int]:
        metrics.MESH_WRITE_ITEMS.observe(len(items))
        rows = b"[" + b",".join(item.row for item in items) + b"]"
        params = {"lock": SEQ_LOCK, "rows": rows.decode(), "now": datetime.now(UTC)}
        found = await self.pool.fetchall(INSERT, params)
        return {id_: int(seq) for id_, seq in found}


def _fail(item: _Item, exc: BaseException) -> None:
    if not item.done.done():
        item.done.set_exception(exc)
