"""Benchmark of the control API: keyed task posts vs /healthz, and a 1,000-user CSV import.

Starts a throwaway Postgres and kwok control plane (orgtwin.testing), runs
``orgtwin api serve`` on 127.0.0.1, and drives it with a minimal keep-alive
HTTP/1.1 client (raw asyncio streams, so the load generator costs little CPU on
a small machine). Task posts and /healthz alternate in ROUNDS rounds, so the floor is
measured in the same minutes as the posts. Prints a table and writes
bench/results/api.json.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "api"))

from apikit import DEV_KEY, SIGNING_KEY, settings_for  # noqa: E402
from kubernetes import client, config  # noqa: E402

from orgtwin.api import migrations  # noqa: E402
from orgtwin.api.auth import dev  # noqa: E402
from orgtwin.core import k8s, tokens  # noqa: E402
from orgtwin.testing.cluster import LocalCluster  # noqa: E402
from orgtwin.testing.ports import free_port  # noqa: E402
from orgtwin.testing.postgres import LocalPostgres  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "32"))
DURATION = float(os.environ.get("BENCH_API_SECONDS", "10"))
# Tasks and healthz alternate in this many rounds of DURATION / ROUNDS each, so both see
# the same minutes of a guest whose speed drifts by half within a few minutes.
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "4"))
WARMUP = 2.0  # before the first round of each kind
REWARM = 0.5  # before each later round: the 32 connections are new
USERS = 1000


def org_csv(n: int) -> str:
    lines = ["employee_id,name,email,department,title,manager_id,profile"]
    for i in range(1, n + 1):
        manager = "" if i == 1 else f"U{(i - 2) // 10 + 1:04d}"
        profile = "manager" if i <= n // 10 else ("finance" if i % 2 else "legal")
        lines.append(f"U{i:04d},Person {i},p{i}@example.com,Dept {i % 7},Title,{manager},{profile}")
    return "\n".join(lines) + "\n"


async def one_client(
    port: int,
    request: bytes | None,
    make: Any,
    stop_at: float,
    record_from: float,
    latencies: list[float],
    errors: list[int],
    completed: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            payload = request if request is not None else make()
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            completed[0] += 1
            if started >= record_from:
                latencies.append(elapsed)
                if status >= 300:
                    errors.append(status)
    finally:
        writer.close()


@dataclass
class Phase:
    """What the rounds of one kind of request measured, summed over the rounds."""

    latencies: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    # Warm-up included: what the api's CPU time around the rounds paid for.
    completed: list[int] = field(default_factory=lambda: [0])
    cpu_seconds: float = 0.0
    rounds: int = 0

    def summary(self) -> dict[str, float]:
        latencies = sorted(self.latencies)
        return {
            "rps": len(latencies) / DURATION,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "errors": float(len(self.errors)),
            "cpu_ms": self.cpu_seconds * 1000 / max(self.completed[0], 1),
        }


async def load(port: int, phase: Phase, request: bytes | None = None, make: Any = None) -> None:
    """One round: CLIENTS connections, a warm-up, then DURATION / ROUNDS seconds measured."""
    warmup = WARMUP if phase.rounds == 0 else REWARM
    phase.rounds += 1
    start = time.perf_counter()
    record_from, stop_at = start + warmup, start + warmup + DURATION / ROUNDS
    await asyncio.gather(
        *(
            one_client(
                port,
                request,
                make,
                stop_at,
                record_from,
                phase.latencies,
                phase.errors,
                phase.completed,
            )
            for _ in range(CLIENTS)
        )
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_bytes(port: int, token: str, body: bytes, key: str) -> bytes:
    return (
        f"POST /v1/mesh/tasks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _mean_items_per_write(base: str) -> float:
    """Mean of the api's ``orgtwin_api_mesh_write_items`` histogram, read from /metrics."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("orgtwin_api_mesh_write_items_")
    }
    count = values.get("orgtwin_api_mesh_write_items_count", 0.0)
    return values.get("orgtwin_api_mesh_write_items_sum", 0.0) / count if count else 0.0


def main() -> None:
    pg, cluster = LocalPostgres(), LocalCluster()
    proc: subprocess.Popen[bytes] | None = None
    try:
        pg.start()
        cluster.start()
        db = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        migrations.upgrade(db)
        namespace = "bench-api"
        cluster.kubectl("create", "namespace", namespace)
        cluster.kubectl(
            "apply", "-n", namespace, "-f", str(REPO / "manifests" / "samples" / "profiles")
        )
        settings = settings_for(
            db,
            str(cluster.kubeconfig),
            namespace,
            session_cache_seconds=5.0,
            db_pool_size=20,
            log_level=os.environ.get("BENCH_API_LOG", "WARNING"),
            log_format="json",
        )
        port = free_port()
        env = dict(os.environ)
        for name, value in settings.model_dump().items():
            if value is not None:
                raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                env[f"ORGTWIN_API_{name.upper()}"] = (
                    str(raw).lower() if isinstance(raw, bool) else str(raw)
                )
        env["ORGTWIN_API_PORT"] = str(port)
        log = open(REPO / "bench" / "results" / "api-server.log", "wb")  # noqa: SIM115
        command = [str(Path(sys.executable).parent / "orgtwin"), "api", "serve"]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        admin = {"Authorization": f"Bearer {dev.mint(DEV_KEY, 'U0001', 'admin')}"}

        started = time.perf_counter()
        response = httpx.post(
            f"{base}/v1/org/import",
            headers=admin,
            timeout=300,
            files={"file": ("org.csv", org_csv(USERS).encode(), "text/csv")},
        )
        assert response.status_code == 201, response.text
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        custom = client.CustomObjectsApi(api)
        while (
            len(
                custom.list_namespaced_custom_object(
                    k8s.GROUP, k8s.VERSION, namespace, k8s.USER_PLURAL
                )["items"]
            )
            < USERS
        ):
            time.sleep(0.05)
        import_seconds = time.perf_counter() - started

        user_ref = k8s.user_object_name("U0002")
        session = "bench-session"
        custom.create_namespaced_custom_object(
            k8s.GROUP,
            k8s.VERSION,
            namespace,
            k8s.SESSION_PLURAL,
            {
                "apiVersion": k8s.API_VERSION,
                "kind": "AgentSession",
                "metadata": {"name": session},
                "spec": {"userRef": user_ref, "desiredState": "Active"},
            },
        )
        custom.patch_namespaced_custom_object_status(
            k8s.GROUP,
            k8s.VERSION,
            namespace,
            k8s.SESSION_PLURAL,
            session,
            {"status": {"phase": "Active", "role": "manager"}},
        )
        token = tokens.mint(
            SIGNING_KEY,
            tokens.SessionClaims(
                session=session,
                user=user_ref,
                profile="manager",
                role="manager",
                namespace=namespace,
                expires_at=int(time.time()) + 3600,
            ),
        )
        run_id = uuid.uuid4().hex[:8]
        numbers = itertools.count()

        def keyed_post() -> bytes:
            # A new key, title and body in every request, as agents write them: the engine's
            # memory of texts it has seen before must not flatter the number.
            n = next(numbers)
            body = json.dumps(
                {
                    "to": "role:finance",
                    "type": "review",
                    "title": f"Quarterly numbers, draft {n}",
                    "body": f"Please review the attached figures of draft {n} by Friday.",
                }
            ).encode()
            return post_bytes(port, token, body, f"{run_id}-{n}")

        health_request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        posts, probes = Phase(), Phase()
        for _ in range(ROUNDS):
            cpu_before = cpu_seconds(proc.pid)
            asyncio.run(load(port, posts, make=keyed_post))
            posts.cpu_seconds += cpu_seconds(proc.pid) - cpu_before
            cpu_before = cpu_seconds(proc.pid)
            asyncio.run(load(port, probes, request=health_request))
            probes.cpu_seconds += cpu_seconds(proc.pid) - cpu_before
        tasks, healthz = posts.summary(), probes.summary()
        items_per_write = _mean_items_per_write(base)
        results = {
            "tasks_rps": round(tasks["rps"], 1),
            "tasks_p50_ms": round(tasks["p50_ms"], 2),
            "tasks_p99_ms": round(tasks["p99_ms"], 2),
            "tasks_errors": int(tasks["errors"]),
            "healthz_rps": round(healthz["rps"], 1),
            "healthz_p50_ms": round(healthz["p50_ms"], 2),
            "healthz_p99_ms": round(healthz["p99_ms"], 2),
            "ratio": round(tasks["rps"] / healthz["rps"], 3),
            "import_1000_seconds": round(import_seconds, 2),
            # api process CPU per request, warm-up included in both the CPU and the count
            # (before 2026-11-22 only in the CPU, which overstated it by about a fifth).
            "tasks_api_cpu_ms": round(tasks["cpu_ms"], 2),
            "healthz_api_cpu_ms": round(healthz["cpu_ms"], 3),
            # How many creates the api wrote per transaction on average (its own metric).
            "tasks_items_per_write": round(items_per_write, 1),
            "clients": CLIENTS,
            "seconds": DURATION,
            "rounds": ROUNDS,
            "cpus": os.cpu_count(),
        }
        out = REPO / "bench" / "results" / "api.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"{'metric':<22}{'value':>12}   goal")
        goals = {"ratio": ">= 0.40", "tasks_p99_ms": "<= 50", "import_1000_seconds": "<= 20"}
        for key, value in results.items():
            print(f"{key:<22}{value!s:>12}   {goals.get(key, '')}")
        print(f"wrote {out}")
    finally:
        if proc is not None:
            stopping = time.perf_counter()
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
            print(f"api stopped in {time.perf_counter() - stopping:.1f}s (exit {proc.returncode})")
        cluster.stop()
        pg.destroy()


if __name__ == "__main__":
    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    main()
