"""Idempotency-Key: replays, body mismatch, concurrent duplicates, expiry and clean-up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from apikit import Api

pytestmark = pytest.mark.integration


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _tasks(db_url: str) -> int:
    with psycopg.connect(_pg(db_url)) as conn:
        row = conn.execute("SELECT count(*) FROM tasks").fetchone()
        assert row is not None
        return int(row[0])


def test_same_key_same_body_replays_and_different_body_is_422(org_api: Api, db_url: str) -> None:
    agent = {**org_api.agent("E3", "finance"), "Idempotency-Key": "k-1"}
    body = {"to": "role:legal", "title": "Review"}
    first = org_api.client.post("/v1/mesh/tasks", json=body, headers=agent)
    again = org_api.client.post("/v1/mesh/tasks", json=body, headers=agent)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other = org_api.client.post("/v1/mesh/tasks", json={**body, "title": "Else"}, headers=agent)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert _tasks(db_url) == 1
    # Keys are per caller: another agent may use the same key string.
    legal = {**org_api.agent("E5", "legal"), "Idempotency-Key": "k-1"}
    reply = {"to": "role:finance", "title": "Review"}
    assert org_api.client.post("/v1/mesh/tasks", json=reply, headers=legal).status_code == 201
    assert _tasks(db_url) == 2


def test_concurrent_duplicates_execute_exactly_once(org_api: Api, db_url: str) -> None:
    agent = {**org_api.agent("E3", "finance"), "Idempotency-Key": "race"}
    body = {"to": "role:legal", "title": "Once"}
    with ThreadPoolExecutor(16) as pool:
        responses = list(
            pool.map(
                lambda _: org_api.client.post("/v1/mesh/tasks", json=body, headers=agent), range(32)
            )
        )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert _tasks(db_url) == 1


def test_failed_requests_keep_no_key_and_expired_keys_are_purged(org_api: Api, db_url: str) -> None:
    agent = {**org_api.agent("E3", "finance"), "Idempotency-Key": "k-2"}
    bad = org_api.client.post(
        "/v1/mesh/tasks", json={"to": "role:nobody", "title": "x"}, headers=agent
    )
    assert bad.status_code == 422
    good = org_api.client.post(
        "/v1/mesh/tasks", json={"to": "role:legal", "title": "x"}, headers=agent
    )
    assert good.status_code == 201
    with psycopg.connect(_pg(db_url)) as conn:
        conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 hour'")
    fresh = org_api.client.post(
        "/v1/mesh/tasks", json={"to": "role:legal", "title": "x"}, headers=agent
    )
    assert fresh.status_code == 201
    assert fresh.json()["id"] != good.json()["id"]
    with psycopg.connect(_pg(db_url)) as conn:
        conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 hour'")
    runtime = org_api.client.app.state.runtime  # type: ignore[attr-defined]

    async def purge() -> int:
        from orgtwin.api.repositories import idempotency

        async with runtime.db.sessions() as session:
            count = await idempotency.purge_expired(session)
            await session.commit()
            return count

    assert org_api.client.portal is not None
    assert org_api.client.portal.call(purge) == 1
    with psycopg.connect(_pg(db_url)) as conn:
        row = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()
        assert row is not None
        assert row[0] == 0


def test_audit_trail_is_append_only_in_the_database(org_api: Api, db_url: str) -> None:
    with psycopg.connect(_pg(db_url)) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE audit_events SET outcome = 'x'")
        conn.rollback()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM audit_events")


def test_mesh_creates_replay_the_sent_bytes_and_store_one_item_and_one_audit_row(
    org_api: Api, db_url: str
) -> None:
    agent = org_api.agent("E3", "finance")
    posts = [
        ("/v1/mesh/tasks", {"to": "role:legal", "title": "Review", "data": {"b": 1, "a": [2]}}),
        ("/v1/mesh/notify", {"to": "manager", "title": "FYI"}),
        ("/v1/mesh/approvals", {"type": "expense", "title": "Laptop"}),
    ]
    for i, (path, body) in enumerate(posts):
        headers = {**agent, "Idempotency-Key": f"create-{i}", "X-Trace-Id": f"trace-create-{i}"}
        first = org_api.client.post(path, json=body, headers=headers)
        again = org_api.client.post(path, json=body, headers=headers)
        assert first.status_code == again.status_code == 201, first.text
        assert again.content == first.content
        assert first.headers["content-type"] == again.headers["content-type"]
        assert again.headers["idempotent-replayed"] == "true"
        created = first.json()
        assert created["trace_id"] == f"trace-create-{i}"
        # The response was rendered before the write; a read of the stored item agrees.
        read = org_api.client.get(f"/v1/mesh/status/{created['id']}", headers=agent).json()
        assert read == created
    assert _tasks(db_url) == len(posts)
    with psycopg.connect(_pg(db_url)) as conn:
        audited = conn.execute(
            "SELECT action, trace_id FROM audit_events WHERE trace_id LIKE 'trace-create-%'"
            " ORDER BY trace_id"
        ).fetchall()
    assert audited == [
        ("task.create", "trace-create-0"),
        ("notify", "trace-create-1"),
        ("approval.request", "trace-create-2"),
    ]
