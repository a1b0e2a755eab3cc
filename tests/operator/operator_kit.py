"""Test kit for the operator: run it as a subprocess, create objects, wait for outcomes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client

from orgtwin.core import k8s
from orgtwin.testing import ports

T = TypeVar("T")

FAST_ENV = {
    "ORGTWIN_OPERATOR_SESSION_TIMER_SECONDS": "1",
    "ORGTWIN_OPERATOR_PROFILE_TIMER_SECONDS": "2",
    "ORGTWIN_OPERATOR_RETRY_DELAY_SECONDS": "1",
    "ORGTWIN_OPERATOR_LOG_LEVEL": "INFO",
}


@dataclass
class OperatorProcess:
    """One ``python -m orgtwin.operator run`` child process, started and stopped by PID."""

    kubeconfig: Path
    namespaces: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = 0
    health_port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 60) -> OperatorProcess:
        self.metrics_port = ports.free_port()
        self.health_port = ports.free_port()
        env = {
            **os.environ,
            **FAST_ENV,
            "ORGTWIN_OPERATOR_KUBECONFIG": str(self.kubeconfig),
            "ORGTWIN_OPERATOR_NAMESPACES": json.dumps(self.namespaces),
            "ORGTWIN_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "ORGTWIN_OPERATOR_HEALTH_PORT": str(self.health_port),
            **self.env,
        }
        env.setdefault("ORGTWIN_OPERATOR_STANDALONE", "true")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orgtwin.operator", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(lambda: self.healthy() or None, wait, "operator /healthz", self.alive_check)
        return self

    def alive_check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"operator exited {self.proc.returncode}:\n{self.logs()[-3000:]}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.health_port}/healthz", timeout=1
            ) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp:
            return str(resp.read().decode())

    def reconciles(self) -> float:
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("orgtwin_operator_reconciles_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


SLACK = 3.0


def wait_for(
    fn: Callable[[], T | None],
    timeout: float,
    what: str,
    check: Callable[[], None] | None = None,
    interval: float = 0.25,
    slack: float | None = None,
) -> T:
    """Poll ``fn`` until it returns something truthy; fail with ``what`` after ``timeout``.

    The timeout is stretched by SLACK: polling returns as soon as the state is reached, so a
    generous bound costs nothing when the operator is right and absorbs a loaded 2-CPU CI
    machine when it is slow. Timing itself is measured in bench/, never asserted here.
    """
    deadline = time.monotonic() + timeout * (SLACK if slack is None else slack)
    last: T | None = None
    while time.monotonic() < deadline:
        if check is not None:
            check()
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s (x slack) waiting for {what} (last: {last!r})"
    )


def eventually(assertion: Callable[[], None], timeout: float, interval: float = 1.0) -> None:
    """Retry ``assertion`` until it passes; after ``timeout`` (x slack), its own failure.

    For end states an operator reaches in more than one pass: a pass killed half-way
    leaves leftovers that the next process removes, after it has started.
    """
    deadline = time.monotonic() + timeout * SLACK
    while time.monotonic() < deadline:
        try:
            assertion()
            return
        except AssertionError:
            time.sleep(interval)
    assertion()


class Objects:
    """Create and inspect orgtwin objects in one namespace."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.ns = namespace
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.net = client.NetworkingV1Api(api)

    def _create(self, plural: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {
            "apiVersion": k8s.API_VERSION,
            "kind": kind,
            "metadata": {"name": name, "namespace": self.ns},
            "spec": spec,
        }
        out: dict[str, Any] = self.custom.create_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, self.ns, plural, body
        )
        return out

    def profile(self, name: str = "finance", **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "role": name,
            "model": {"provider": "openai", "name": "gpt-4o-mini"},
            "session": {"idleTimeout": "30m", "maxDuration": "8h", "retention": "7d"},
        }
        spec.update(overrides)
        return self._create(k8s.PROFILE_PLURAL, "AgentProfile", name, spec)

    def user(self, name: str, profile: str = "finance", **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "employeeId": name.upper(),
            "displayName": f"Person {name}",
            "email": f"{name}@example.com",
            "profileRef": profile,
        }
        spec.update(overrides)
        return self._create(k8s.USER_PLURAL, "OrgUser", name, spec)

    def session(self, name: str, user: str, **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {"userRef": user}
        spec.update(overrides)
        return self._create(k8s.SESSION_PLURAL, "AgentSession", name, spec)

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        try:
            out: dict[str, Any] = self.custom.get_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, self.ns, plural, name
            )
            return out
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def status(self, plural: str, name: str) -> dict[str, Any]:
        return dict((self.get(plural, name) or {}).get("status") or {})

    def phase(self, session: str) -> str | None:
        value = self.status(k8s.SESSION_PLURAL, session).get("phase")
        return str(value) if value else None

    def condition(self, plural: str, name: str, type_: str) -> dict[str, Any]:
        for cond in self.status(plural, name).get("conditions", []):
            if cond["type"] == type_:
                return dict(cond)
        return {}

    def patch_spec(self, plural: str, name: str, spec: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, self.ns, plural, name, {"spec": spec}
        )

    def patch_status(self, plural: str, name: str, status: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object_status(
            k8s.GROUP, k8s.VERSION, self.ns, plural, name, {"status": status}
        )

    def wait_phase(self, session: str, phase: str, timeout: float = 30) -> dict[str, Any]:
        wait_for(lambda: self.phase(session) == phase, timeout, f"{session} to be {phase}")
        return self.status(k8s.SESSION_PLURAL, session)

    def pod(self, session: str) -> client.V1Pod | None:
        try:
            pod: client.V1Pod = self.core.read_namespaced_pod(
                k8s.session_pod_name(session), self.ns
            )
            return pod
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def secret_exists(self, session: str) -> bool:
        try:
            self.core.read_namespaced_secret(k8s.session_secret_name(session), self.ns)
            return True
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def pods(self) -> list[client.V1Pod]:
        items: list[client.V1Pod] = self.core.list_namespaced_pod(self.ns).items
        return items

    def events(self, reason: str) -> list[client.CoreV1Event]:
        items: list[client.CoreV1Event] = self.core.list_namespaced_event(
            self.ns, field_selector=f"reason={reason}"
        ).items
        return items

    def wait_event(self, reason: str, timeout: float = 30) -> list[client.CoreV1Event]:
        return wait_for(lambda: self.events(reason), timeout, f"a {reason} Event")

    def fail_pod(self, session: str) -> None:
        self.core.patch_namespaced_pod_status(
            k8s.session_pod_name(session), self.ns, {"status": {"phase": "Failed"}}
        )
