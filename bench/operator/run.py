"""Operator benchmark: 1,000 OrgUsers until Ready, then 200 AgentSessions until Active.

Runs on the harness cluster (kwok), prints a table and writes bench/results/operator.json.
The floor is the same workload done by this script alone with no operator: it creates
the objects the operator would create and writes the statuses it would write.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

from orgtwin.core import k8s
from orgtwin.testing.cluster import LocalCluster

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "operator"))
from operator_kit import OperatorProcess  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "1000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))
WORKERS = 16
G, V = k8s.GROUP, k8s.VERSION


def create_namespace(api: client.ApiClient, name: str) -> None:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})


def user_body(i: int) -> dict[str, Any]:
    manager = "" if i == 0 else f"E{(i - 1) // 10:05d}"
    return {
        "apiVersion": k8s.API_VERSION,
        "kind": "OrgUser",
        "metadata": {"name": f"u{i:05d}"},
        "spec": {
            "employeeId": f"E{i:05d}",
            "displayName": f"Person {i}",
            "email": f"p{i}@example.com",
            "managerId": manager,
            "profileRef": "finance",
        },
    }


def session_body(i: int) -> dict[str, Any]:
    return {
        "apiVersion": k8s.API_VERSION,
        "kind": "AgentSession",
        "metadata": {"name": f"s{i:05d}"},
        "spec": {"userRef": f"u{i % USERS:05d}"},
    }


class Watcher:
    """Records when each object of a kind is first seen satisfying ``done``."""

    def __init__(self, api: client.ApiClient, ns: str, plural: str, done: Callable[[Any], bool]):
        self.seen: dict[str, float] = {}
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(api, ns, plural, done), daemon=True)
        self._thread.start()
        time.sleep(0.5)

    def _run(
        self, api: client.ApiClient, ns: str, plural: str, done: Callable[[Any], bool]
    ) -> None:
        custom = client.CustomObjectsApi(api)
        while not self._stop:
            w = watch.Watch()
            for event in w.stream(
                custom.list_namespaced_custom_object, G, V, ns, plural, timeout_seconds=30
            ):
                obj = event["object"]
                name = obj["metadata"]["name"]
                if name not in self.seen and done(obj):
                    self.seen[name] = time.monotonic()
                if self._stop:
                    w.stop()
                    return

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.seen)}/{count} done")
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop = True


def ready(obj: Any) -> bool:
    conds = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def active(obj: Any) -> bool:
    return (obj.get("status") or {}).get("phase") == "Active"


def create_all(fn: Callable[[int], Any], n: int) -> dict[int, float]:
    started: dict[int, float] = {}

    def one(i: int) -> None:
        started[i] = time.monotonic()
        fn(i)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, range(n)))
    return started


def floor(api: client.ApiClient, ns: str) -> float:
    """The apiserver alone: the same objects and status writes, no operator."""
    custom = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    net = client.NetworkingV1Api(api)
    cond = {
        "type": "Ready",
        "status": "True",
        "reason": "Ready",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }

    def user(i: int) -> None:
        custom.create_namespaced_custom_object(G, V, ns, k8s.USER_PLURAL, user_body(i))
        custom.patch_namespaced_custom_object_status(
            G, V, ns, k8s.USER_PLURAL, f"u{i:05d}", {"status": {"conditions": [cond]}}
        )

    def session(i: int) -> None:
        name = f"s{i:05d}"
        custom.create_namespaced_custom_object(G, V, ns, k8s.SESSION_PLURAL, session_body(i))
        meta = {"name": k8s.session_pod_name(name), "labels": {k8s.LABEL_SESSION: name}}
        net.create_namespaced_network_policy(
            ns,
            {
                "metadata": {"name": meta["name"]},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
            },
        )
        core.create_namespaced_secret(
            ns, {"metadata": {"name": k8s.session_secret_name(name)}, "stringData": {"token": "x"}}
        )
        core.create_namespaced_pod(
            ns, {"metadata": meta, "spec": {"containers": [{"name": "agent", "image": "goose"}]}}
        )

    t0 = time.monotonic()
    create_all(user, USERS)
    users_s = time.monotonic() - t0
    t1 = time.monotonic()
    create_all(session, SESSIONS)
    while True:
        pods = core.list_namespaced_pod(ns).items
        ok = [
            p
            for p in pods
            if p.status.phase == "Running"
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        ]
        if len(ok) >= SESSIONS:
            break
        time.sleep(0.2)

    def mark(i: int) -> None:
        custom.patch_namespaced_custom_object_status(
            G, V, ns, k8s.SESSION_PLURAL, f"s{i:05d}", {"status": {"phase": "Active"}}
        )

    create_all(mark, SESSIONS)
    return users_s + (time.monotonic() - t1)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def with_operator(
    cluster: LocalCluster, api: client.ApiClient, ns: str, log: Path
) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    proc = OperatorProcess(
        cluster.kubeconfig,
        [ns],
        log,
        env={
            "ORGTWIN_OPERATOR_SESSION_TIMER_SECONDS": "10",
            "ORGTWIN_OPERATOR_PROFILE_TIMER_SECONDS": "30",
            "ORGTWIN_OPERATOR_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        },
    ).start()
    try:
        custom.create_namespaced_custom_object(
            G,
            V,
            ns,
            k8s.PROFILE_PLURAL,
            {
                "apiVersion": k8s.API_VERSION,
                "kind": "AgentProfile",
                "metadata": {"name": "finance"},
                "spec": {"role": "finance", "model": {"provider": "openai", "name": "gpt-4o-mini"}},
            },
        )
        time.sleep(1)
        users = Watcher(api, ns, k8s.USER_PLURAL, ready)
        t0 = time.monotonic()
        u_start = create_all(
            lambda i: custom.create_namespaced_custom_object(
                G, V, ns, k8s.USER_PLURAL, user_body(i)
            ),
            USERS,
        )
        users.wait(USERS, 600)
        users_s = time.monotonic() - t0
        users.stop()
        sessions = Watcher(api, ns, k8s.SESSION_PLURAL, active)
        t1 = time.monotonic()
        s_start = create_all(
            lambda i: custom.create_namespaced_custom_object(
                G, V, ns, k8s.SESSION_PLURAL, session_body(i)
            ),
            SESSIONS,
        )
        sessions.wait(SESSIONS, 600)
        sessions_s = time.monotonic() - t1
        sessions.stop()
        lat = [(users.seen[f"u{i:05d}"] - t) * 1000 for i, t in u_start.items()]
        lat += [(sessions.seen[f"s{i:05d}"] - t) * 1000 for i, t in s_start.items()]
        assert proc.proc is not None
        rss = peak_rss_mb(proc.proc.pid)
    finally:
        proc.stop()
    lat.sort()
    return {
        "users_seconds": round(users_s, 2),
        "sessions_seconds": round(sessions_s, 2),
        "operator_seconds": round(users_s + sessions_s, 2),
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 1),
        "peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    cluster = LocalCluster()
    cluster.start()
    try:
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        create_namespace(api, "bench-floor")
        floor_s = floor(api, "bench-floor")
        create_namespace(api, "bench-op")
        log = REPO / "bench" / "results" / "operator.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        op = with_operator(cluster, api, "bench-op", log)
    finally:
        cluster.stop()
    result = {
        "users": USERS,
        "sessions": SESSIONS,
        **op,
        "floor_seconds": round(floor_s, 2),
        "ratio": round(op["operator_seconds"] / floor_s, 2),
        "goal": {"ratio_max": 3.0, "peak_rss_mb_max": 200},
    }
    out = REPO / "bench" / "results" / "operator.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for key, value in result.items():
        if key != "goal":
            print(f"{key:<{width}}  {value}")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
