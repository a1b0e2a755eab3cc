"""Reliability: SIGKILL under keyed load, a Postgres restart, and an unreachable apiserver."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from apikit import ORG_CSV, Api, admin, person, settings_for
from fastapi.testclient import TestClient
from kubernetes import client
from servers import ProcessServer, TcpRelay, ThreadServer

from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings
from orgtwin.testing.postgres import LocalPostgres

pytestmark = pytest.mark.integration
TOTAL = 1000


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _count(db_url: str, sql: str) -> int:
    with psycopg.connect(_pg(db_url)) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0])


def _seeded_agent(url: str, k8s_api: client.ApiClient, namespace: str) -> dict[str, str]:
    seed = Api(httpx.Client(base_url=url, timeout=30), k8s_api, namespace)  # type: ignore[arg-type]
    assert seed.import_csv(ORG_CSV).status_code == 201
    headers = seed.agent("E3", "finance")
    headers.pop("X-Session")
    return headers


def test_sigkill_during_keyed_posts_yields_exactly_one_task_per_key(
    settings: ApiSettings, k8s_api: client.ApiClient, tmp_path: Path
) -> None:
    tuned = settings.model_copy(update={"session_cache_seconds": 30.0})
    server = ProcessServer(tuned, tmp_path / "api.log")
    server.start()
    try:
        agent = _seeded_agent(server.url, k8s_api, settings.namespace)
        acknowledged = 0
        lock = threading.Lock()
        half_way = threading.Event()

        def post(i: int) -> str:
            nonlocal acknowledged
            with httpx.Client(base_url=server.url, timeout=10) as http:
                while True:  # a client that retries until it gets an answer
                    try:
                        r = http.post(
                            "/v1/mesh/tasks",
                            headers={**agent, "Idempotency-Key": f"k{i}"},
                            json={"to": "role:legal", "title": f"task {i}"},
                        )
                    except httpx.HTTPError:
                        time.sleep(0.05)
                        continue
                    if r.status_code >= 500:
                        time.sleep(0.05)
                        continue
                    assert r.status_code == 201, r.text
                    with lock:
                        acknowledged += 1
                        if acknowledged >= TOTAL // 3:
                            half_way.set()
                    return str(r.json()["id"])

        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(post, i) for i in range(TOTAL)]
            assert half_way.wait(timeout=300)
            server.kill()  # SIGKILL to this one PID, mid-load
            server.start()  # same port; the clients' retries reach the new process
            ids = [f.result(timeout=300) for f in futures]
        assert len(set(ids)) == TOTAL
        assert _count(tuned.database_url.get_secret_value(), "SELECT count(*) FROM tasks") == TOTAL
    finally:
        server.stop()


def test_postgres_restart_gives_503_then_recovers_without_losing_acknowledged_writes(
    settings: ApiSettings, k8s_api: client.ApiClient, postgres: LocalPostgres
) -> None:
    with ThreadServer(settings.model_copy(update={"session_cache_seconds": 30.0})) as server:
        agent = _seeded_agent(server.url, k8s_api, settings.namespace)
        acked: list[str] = []
        statuses: list[tuple[int, str | None]] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = http.post(
                            "/v1/mesh/tasks",
                            json={"to": "role:legal", "title": f"t{i}"},
                            headers=agent,
                        )
                    except httpx.HTTPError:
                        continue
                    statuses.append((r.status_code, r.headers.get("retry-after")))
                    if r.status_code == 201:
                        acked.append(r.json()["id"])

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        while len(acked) < 50:
            time.sleep(0.05)
        postgres.stop()
        try:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                down = http.post(
                    "/v1/mesh/tasks", json={"to": "role:legal", "title": "down"}, headers=agent
                )
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert down.headers["content-type"] == "application/problem+json"
        finally:
            postgres.start()
        before = len(acked)
        while len(acked) < before + 50:  # recovery, same api process
            time.sleep(0.05)
        stop.set()
        for w in workers:
            w.join()
    assert {code for code, _ in statuses} <= {201, 503}
    assert all(retry for code, retry in statuses if code == 503)
    with psycopg.connect(_pg(settings.database_url.get_secret_value())) as conn:
        stored = {str(r[0]) for r in conn.execute("SELECT id FROM tasks")}
    assert set(acked) <= stored


def test_sessions_answer_503_and_mesh_keeps_working_without_kubernetes(
    db_url: str, cluster: Any, profiles_namespace: str, k8s_api: client.ApiClient, tmp_path: Path
) -> None:
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    server = config["clusters"][0]["cluster"]["server"]
    relay = TcpRelay(int(server.rsplit(":", 1)[1]))
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{relay.port}"
    relayed = tmp_path / "kubeconfig"
    relayed.write_text(yaml.safe_dump(config))
    settings = settings_for(db_url, str(relayed), profiles_namespace)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        api = Api(c, k8s_api, profiles_namespace)
        assert api.import_csv(ORG_CSV).status_code == 201
        finance = api.agent("E3", "finance")
        legal = api.agent("E5", "legal")
        for agent in (finance, legal):
            assert c.get("/v1/mesh/inbox", headers=agent).status_code == 200

        relay.cut()

        sessions = c.get("/v1/sessions", headers=person("E3"))
        assert sessions.status_code == 503
        assert sessions.headers["retry-after"]
        assert sessions.json()["dependency"] == "kubernetes"
        assert c.post("/v1/sessions", json={}, headers=person("E3")).status_code == 503
        assert c.get("/readyz").status_code == 503
        sent = c.post(
            "/v1/mesh/tasks", json={"to": "role:legal", "title": "still works"}, headers=finance
        )
        assert sent.status_code == 201, sent.text
        inbox = c.get("/v1/mesh/inbox", headers=legal).json()["items"]
        assert [i["id"] for i in inbox] == [sent.json()["id"]]
        approval = c.post("/v1/mesh/approvals", json={"title": "offline"}, headers=finance)
        assert approval.status_code == 201
        assert c.get("/v1/mesh/agents", headers=finance).status_code == 200
        assert c.get("/v1/audit", headers=admin()).status_code == 200
