"""The whole system on one machine: cluster, Postgres, upstream, api, proxy, operator, agents.

Every server is a separate process listening on 127.0.0.1, started the way a
user would start it (the ``orgtwin`` CLI with environment settings). State
(ports, PIDs, keys) lives in ``state.json`` under the state dir, so ``down``
works from another process (``make demo-down``) and stops exactly what ``up``
started, by PID.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client, config

from orgtwin.core import k8s
from orgtwin.testing import ports, tools
from orgtwin.testing.cluster import LocalCluster
from orgtwin.testing.postgres import LocalPostgres

SAMPLES = tools.REPO_ROOT / "manifests" / "samples"
ORGTWIN = str(Path(sys.executable).with_name("orgtwin"))


class StackError(RuntimeError):
    """A component of the stack failed to start or answer."""


@dataclass
class State:
    """What ``up`` started; persisted so that ``down`` can stop it from anywhere."""

    namespace: str
    kubeconfig: str
    pg_url: str
    own_cluster: bool
    own_postgres: bool
    signing_key: str
    masking_key: str
    dev_key: str
    pg_dir: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"


class Stack:
    """Start, use and stop the system; ``Stack(dir).up()`` then ``.down()``."""

    def __init__(self, state_dir: Path, namespace: str = "acme") -> None:
        self.dir = state_dir
        self.namespace = namespace
        self.state: State | None = None

    # ------------------------------------------------------------------ state

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def load(self) -> State | None:
        if self.state_file.exists():
            self.state = State(**json.loads(self.state_file.read_text()))
        return self.state

    def save(self) -> None:
        assert self.state is not None
        self.state_file.write_text(json.dumps(asdict(self.state), indent=2))
        self.state_file.chmod(0o600)

    @property
    def s(self) -> State:
        if self.state is None:
            raise StackError("stack is not up")
        return self.state

    # ------------------------------------------------------------------ up

    def up(
        self, kubeconfig: Path | None = None, pg_url: str | None = None, log: Any = print
    ) -> State:
        """Start everything; on any failure, stop what was started and re-raise."""
        self.dir.mkdir(parents=True, exist_ok=True)
        cluster = LocalCluster(name=f"orgtwin-{self.namespace}", workdir=self.dir / "cluster")
        self.state = State(
            namespace=self.namespace,
            kubeconfig=str(kubeconfig or cluster.kubeconfig),
            pg_url=pg_url or "",
            own_cluster=kubeconfig is None,
            own_postgres=pg_url is None,
            signing_key=secrets.token_hex(32),
            masking_key=secrets.token_hex(32),
            dev_key=secrets.token_hex(32),
        )
        self.save()
        try:
            self._start(cluster, log)
        except BaseException:
            self.down()
            raise
        return self.s

    def _start(self, cluster: LocalCluster, log: Any) -> None:
        if self.s.own_cluster:
            log(
                "starting the control plane (etcd, kube-apiserver, controller-manager, "
                "scheduler, kwok)"
            )
            cluster.workdir.mkdir(parents=True, exist_ok=True)
            cluster.start()
        if self.s.own_postgres:
            log("starting Postgres")
            # Under /tmp, not the state dir: Postgres runs as its own user when we are
            # root, and it cannot traverse root's home directory.
            pg = LocalPostgres()
            self.s.pg_dir = str(pg.base)
            self.save()
            pg.start()
            self.s.pg_url = pg.url()
            self.save()
        self._tenant()
        for name in ("upstream", "api", "proxy", "operator_health", "operator_metrics"):
            self.s.ports[name] = ports.free_port()
        log("starting the scripted LLM upstream, api, proxy and operator")
        self._spawn(
            "upstream",
            [
                sys.executable,
                "-m",
                "orgtwin.testing.upstream_server",
                "--port",
                str(self.s.ports["upstream"]),
                "--record",
                str(self.dir / "upstream-requests.jsonl"),
            ],
        )
        self._run_cli(["api", "migrate"], self._api_env())
        self._spawn("api", [ORGTWIN, "api", "serve"], self._api_env())
        self._spawn("proxy", [ORGTWIN, "proxy", "serve"], self._proxy_env())
        self._spawn("operator", [ORGTWIN, "operator", "run"], self._operator_env())
        self._wait_http("api", self.s.url("api") + "/readyz")
        self._wait_http("proxy", self.s.url("proxy") + "/healthz")
        self._wait_http("operator", f"http://127.0.0.1:{self.s.ports['operator_health']}/healthz")
        self.save()

    def _tenant(self) -> None:
        """Namespace, the shared signing Secret and the sample profiles."""
        core = client.CoreV1Api(self.k8s())
        with contextlib.suppress(client.ApiException):
            core.create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace))
            )
        secret = client.V1Secret(
            metadata=client.V1ObjectMeta(name=k8s.SIGNING_SECRET_NAME),
            data={k8s.SIGNING_SECRET_KEY: base64.b64encode(self.s.signing_key.encode()).decode()},
        )
        try:
            core.create_namespaced_secret(self.namespace, secret)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            core.replace_namespaced_secret(k8s.SIGNING_SECRET_NAME, self.namespace, secret)
        self.kubectl("apply", "-n", self.namespace, "-f", str(SAMPLES / "profiles"))

    def env_for(self, prefix: str) -> dict[str, str]:
        """This process's environment plus the tenant settings under ``prefix``."""
        env = dict(os.environ)
        env.update(
            {
                f"{prefix}NAMESPACE": self.namespace,
                f"{prefix}KUBECONFIG": self.s.kubeconfig,
                f"{prefix}LOG_LEVEL": "INFO",
                "KUBECONFIG": self.s.kubeconfig,
            }
        )
        return env

    def _api_env(self) -> dict[str, str]:
        env = self.env_for("ORGTWIN_API_")
        env.update(
            {
                "ORGTWIN_API_PORT": str(self.s.ports["api"]),
                "ORGTWIN_API_DATABASE_URL": self.s.pg_url,
                "ORGTWIN_API_SESSION_SIGNING_KEY": self.s.signing_key,
                "ORGTWIN_API_MASKING_KEY": self.s.masking_key,
                "ORGTWIN_API_ENVIRONMENT": "development",
                "ORGTWIN_API_DEV_MODE": "true",
                "ORGTWIN_API_DEV_SIGNING_KEY": self.s.dev_key,
                "ORGTWIN_API_PROXY_URL": self.s.url("proxy"),
            }
        )
        return env

    def _proxy_env(self) -> dict[str, str]:
        env = self.env_for("ORGTWIN_PROXY_")
        upstream = self.s.url("upstream") + "/v1"
        env.update(
            {
                "ORGTWIN_PROXY_PORT": str(self.s.ports["proxy"]),
                "ORGTWIN_PROXY_SESSION_SIGNING_KEY": self.s.signing_key,
                "ORGTWIN_PROXY_MASKING_KEY": self.s.masking_key,
                # The fake upstream stands in for every provider; these keys are not secrets.
                "ORGTWIN_PROXY_OPENAI_BASE_URL": upstream,
                "ORGTWIN_PROXY_OPENAI_API_KEY": "demo-upstream-key",
                "ORGTWIN_PROXY_ANTHROPIC_BASE_URL": upstream,
                "ORGTWIN_PROXY_ANTHROPIC_API_KEY": "demo-upstream-key",
                "ORGTWIN_PROXY_OPENROUTER_BASE_URL": upstream,
                "ORGTWIN_PROXY_OPENROUTER_API_KEY": "demo-upstream-key",
                "ORGTWIN_PROXY_OLLAMA_BASE_URL": upstream,
            }
        )
        return env

    def _operator_env(self) -> dict[str, str]:
        env = self.env_for("ORGTWIN_OPERATOR_")
        env.update(
            {
                "ORGTWIN_OPERATOR_NAMESPACES": json.dumps([self.namespace]),
                "ORGTWIN_OPERATOR_PROXY_URL": self.s.url("proxy"),
                "ORGTWIN_OPERATOR_API_URL": self.s.url("api"),
                "ORGTWIN_OPERATOR_HEALTH_PORT": str(self.s.ports["operator_health"]),
                "ORGTWIN_OPERATOR_METRICS_PORT": str(self.s.ports["operator_metrics"]),
                "ORGTWIN_OPERATOR_STANDALONE": "true",
                "ORGTWIN_OPERATOR_SESSION_TIMER_SECONDS": "2",
            }
        )
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> int:
        logfile = (self.dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=self.dir,
        )
        self.s.pids[name] = proc.pid
        self.save()
        return proc.pid

    def _run_cli(self, args: list[str], env: dict[str, str]) -> None:
        out = subprocess.run(
            [ORGTWIN, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if out.returncode != 0:
            raise StackError(f"`orgtwin {' '.join(args)}` failed:\n{out.stderr[-3000:]}")

    def _wait_http(self, name: str, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.s.pids.get(name)
            if pid and not ports.pid_alive(pid):
                raise StackError(f"{name} exited; see {self.dir / (name + '.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise StackError(f"{name} did not become ready at {url}; see {self.dir / (name + '.log')}")

    # ------------------------------------------------------------------ use

    def k8s(self) -> client.ApiClient:
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=self.s.kubeconfig
        )
        return api

    def kubectl(self, *args: str) -> str:
        out = subprocess.run(
            [str(tools.tool("kubectl")), "--kubeconfig", self.s.kubeconfig, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise StackError(f"kubectl {' '.join(args)}: {out.stderr[-2000:]}")
        return out.stdout

    def token(self, employee_id: str, role: str = "user") -> str:
        """A dev-mode person token from the api's dev signing key."""
        out = subprocess.run(
            [ORGTWIN, "api", "dev-token", employee_id, "--role", role],
            env=self._api_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def upstream_bodies(self) -> str:
        path = self.dir / "upstream-requests.jsonl"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    # ------------------------------------------------------------------ down

    def stop_process(self, name: str, grace: float = 10) -> None:
        pid = self.s.pids.pop(name, None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while ports.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if ports.pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        self.save()

    def down(self) -> None:
        """Stop every process ``up`` started, then Postgres and the cluster it owns."""
        if self.load() is None:
            return
        for name in [n for n in self.s.pids if n.startswith("agent-")]:
            self.stop_process(name)
        for name in ("operator", "proxy", "api", "upstream"):
            self.stop_process(name)
        if self.s.own_postgres and self.s.pg_dir:
            LocalPostgres(base=Path(self.s.pg_dir)).destroy()
        if self.s.own_cluster and (self.dir / "cluster").exists():
            cluster = LocalCluster(name=f"orgtwin-{self.namespace}", workdir=self.dir / "cluster")
            if cluster.cluster_dir.exists():
                cluster.stop()
        self.state_file.unlink(missing_ok=True)
        self.state = None
