"""Idempotency records: claimed with one INSERT ... ON CONFLICT, completed in the same transaction.

A concurrent duplicate blocks on the unique index until the first transaction
ends: if it committed, the duplicate sees the stored response; if it rolled
back, the duplicate claims the key itself. So a keyed request executes at most
once and no "in progress" state can be left behind by a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.models import IdempotencyKey


@dataclass(frozen=True)
class StoredResponse:
    body_hash: str
    status_code: int | None
    headers: dict[str, str]
    body: bytes


async def claim(
    db: AsyncSession, caller: str, method: str, path: str, key: str, body_hash: str, ttl: timedelta
) -> int | None:
    """Claim the key for this request; None if someone else holds an unexpired claim."""
    now = datetime.now(UTC)
    values = {
        "caller": caller,
        "method": method,
        "path": path,
        "key": key,
        "body_hash": body_hash,
        "expires_at": now + ttl,
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


async def get(db: AsyncSession, caller: str, method: str, path: str, key: str) -> StoredResponse:
    row = (
        await db.execute(
            select(IdempotencyKey).where(
                IdempotencyKey.caller == caller,
                IdempotencyKey.method == method,
                IdempotencyKey.path == path,
                IdempotencyKey.key == key,
            )
        )
    ).scalar_one()
    return StoredResponse(
        row.body_hash, row.status_code, dict(row.response_headers or {}), row.response_body or b""
    )


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
