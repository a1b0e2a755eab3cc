"""The mesh writer against real Postgres: creates that arrive together are written together.

Drives ``repositories.mesh_create.Writer`` directly, so a test can put many creates,
a repeated key or a value Postgres refuses into one burst, which HTTP clients can only
do by chance.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from orgtwin.api import metrics
from orgtwin.api.db import StatementPool
from orgtwin.api.repositories import mesh_create
from orgtwin.api.repositories.idempotency import KeyClaim

pytestmark = pytest.mark.integration
HEAD, TAIL = b'{"seq":', b"}"


def _create(
    title: str = "quarterly numbers", key: str | None = None
) -> tuple[mesh_create.NewTask, mesh_create.NewAudit, KeyClaim | None, mesh_create.Response]:
    task = mesh_create.NewTask(
        id=uuid.uuid4(),
        kind="task",
        type="review",
        title=title,
        body="",
        data={"big": 2**70},  # beyond 64 bits: still stored exactly
        status="open",
        sender_session="s-1",
        sender_user="E3",
        sender_role="finance",
        recipient_user=None,
        recipient_role="legal",
        trace_id="t" * 32,
        created_at=datetime.now(UTC),
    )
    audit = mesh_create.NewAudit("agent:s-1", "task.create", f"task:{task.id}", {"type": "review"})
    claim = None
    if key is not None:
        claim = KeyClaim("agent:s-1", "POST", "/v1/mesh/tasks", key, "h" * 64, timedelta(hours=1))
    return task, audit, claim, mesh_create.Response(201, {"x": "y"}, HEAD, TAIL)


def _run(db_url: str, body: Callable[[mesh_create.Writer], Awaitable[Any]]) -> Any:
    url = make_url(db_url)
    args = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}

    async def main() -> Any:
        pool = StatementPool(args, 4)
        await pool.open()
        writer = mesh_create.Writer(pool)
        try:
            return await body(writer)
        finally:
            await writer.close()
            await pool.close()

    return asyncio.run(main())


def _rows(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def _writes() -> tuple[float, float]:
    count = total = 0.0
    for metric in metrics.MESH_WRITE_ITEMS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
    return count, total


def test_a_burst_is_written_in_few_transactions_and_every_item_is_whole(db_url: str) -> None:
    creates = [_create(f"item {i}", key=f"k{i}" if i % 2 else None) for i in range(40)]
    before = _writes()
    seqs = _run(db_url, lambda w: asyncio.gather(*(w.create(*c) for c in creates)))
    writes, items = (a - b for a, b in zip(_writes(), before, strict=True))
    assert items == 40
    assert writes < 40, "every create had a transaction of its own"
    assert len(set(seqs)) == 40
    assert None not in seqs
    tasks = dict(_rows(db_url, "SELECT id, seq FROM tasks"))
    assert tasks == {c[0].id: seq for c, seq in zip(creates, seqs, strict=True)}
    assert _rows(db_url, "SELECT DISTINCT data->>'big' FROM tasks") == [(str(2**70),)]
    audited = {row[0] for row in _rows(db_url, "SELECT subject FROM audit_events")}
    assert audited == {f"task:{c[0].id}" for c in creates}
    stored = dict(_rows(db_url, "SELECT key, response_body FROM idempotency_keys"))
    assert stored == {f"k{i}": HEAD + str(seqs[i]).encode() + TAIL for i in range(40) if i % 2}


def test_one_key_twice_in_a_burst_creates_one_item(db_url: str) -> None:
    first, second = _create(key="same"), _create(key="same")
    seqs = _run(db_url, lambda w: asyncio.gather(w.create(*first), w.create(*second)))
    assert seqs[0] is not None
    assert seqs[1] is None
    assert _rows(db_url, "SELECT id FROM tasks") == [(first[0].id,)]


def test_an_item_postgres_refuses_fails_alone(db_url: str) -> None:
    good = [_create(f"item {i}") for i in range(9)]
    bad = _create("a NUL \x00 Postgres cannot store")

    async def burst(writer: mesh_create.Writer) -> list[Any]:
        return await asyncio.gather(
            *(writer.create(*c) for c in [*good[:4], bad, *good[4:]]), return_exceptions=True
        )

    results = _run(db_url, burst)
    assert isinstance(results[4], psycopg.Error)
    assert "\x00" not in str(results[4])
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 4)
    assert {row[0] for row in _rows(db_url, "SELECT id FROM tasks")} == {c[0].id for c in good}
