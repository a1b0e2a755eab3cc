"""Idempotency records: claimed with one INSERT ... ON CONFLICT, completed in the same transaction.

A concurrent duplicate blocks on the unique index until the first transaction
ends: if it committed, the duplicate sees the stored response; if it rolled
back, the duplicate claims the key itself. So a keyed request executes at most
once and no "in progress" state can be left behind by a crash. The mesh create
routes claim and complete in one statement instead (repositories.mesh_create).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.db import StatementPool
from orgtwin.api.models import IdempotencyKey


@dataclass(frozen=True)
class KeyClaim:
    """What a keyed request claims: its key per (caller, method, path) and its body's hash."""

    caller: str
    method: str
    path: str
    key: str
    body_hash: str
    ttl: timedelta


@dataclass(frozen=True)
class StoredResponse:
    body_hash: str
    status_code: int | None
    headers: dict[str, str]
    body: bytes


async def claim(db: AsyncSession, key: KeyClaim) -> int | None:
    """Claim the key for this request; None if someone else holds an unexpired key."""
    now = datetime.now(UTC)
    values = {
        "caller": key.caller,
        "method": key.method,
        "path": key.path,
        "key": key.key,
        "body_hash": key.body_hash,
        "expires_at": now + key.ttl,
        "status_code": None,
        "response_headers": None,
        "response_body": None,
    }
    base = insert(IdempotencyKey).values(**values)
    stmt = base.on_conflict_do_update(
        constraint="uq_idempotency_keys_caller_method_path_key",
        set_={k: base.excluded[k] for k in values if k not in ("caller", "method", "path", "key")}
        | {"created_at": func.now()},
        where=IdempotencyKey.expires_at < now,
    ).returning(IdempotencyKey.id)
    return (await db.execute(stmt)).scalar_one_or_none()


async def get(db: AsyncSession, key: KeyClaim) -> StoredResponse:
    row = (
        await db.execute(
            select(IdempotencyKey).where(
                IdempotencyKey.caller == key.caller,
                IdempotencyKey.method == key.method,
                IdempotencyKey.path == key.path,
                IdempotencyKey.key == key.key,
            )
        )
    ).scalar_one()
    return StoredResponse(
        row.body_hash, row.status_code, dict(row.response_headers or {}), row.response_body or b""
    )


async def stored(pool: StatementPool, key: KeyClaim) -> StoredResponse | None:
    """The committed record of a key, read outside any request transaction."""
    row = await pool.fetchone(
        "SELECT body_hash, status_code, response_headers, response_body FROM idempotency_keys"
        " WHERE caller = %(caller)s AND method = %(method)s AND path = %(path)s AND key = %(key)s",
        {"caller": key.caller, "method": key.method, "path": key.path, "key": key.key},
    )
    if row is None:
        return None
    return StoredResponse(row[0], row[1], dict(row[2] or {}), bytes(row[3] or b""))


async def complete(
    db: AsyncSession, row_id: int, status: int, headers: dict[str, str], body: bytes
) -> None:
    await db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id)
        .values(status_code=status, response_headers=headers, response_body=body)
    )


async def purge_expired(db: AsyncSession) -> int:
    result = await db.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < func.now()))
    return int(getattr(result, "rowcount", 0) or 0)
