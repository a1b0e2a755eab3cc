"""A throwaway Kubernetes control plane on 127.0.0.1, started by kwokctl's binary runtime.

It runs the real etcd, kube-apiserver, kube-controller-manager and kube-scheduler
built by hack/tools.sh, plus kwok-controller, which fakes nodes so that Pods are
scheduled and report Running and Ready. ``LocalCluster.stop`` leaves no process
or listening port behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orgtwin.testing import ports, tools

CRDS_DIR = tools.REPO_ROOT / "crds"
FAKE_NODE = "kwok-node-0"


class ClusterError(RuntimeError):
    """Starting, using or stopping the local cluster failed."""


@dataclass
class LocalCluster:
    """One kwokctl cluster in its own work dir; ``start`` then ``stop``."""

    name: str = field(default_factory=lambda: f"orgtwin-{os.getpid()}-{int(time.time()) % 100000}")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orgtwin-kwok-")))
    apiserver_port: int = 0

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / "clusters" / self.name

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KWOK_WORKDIR"] = str(self.workdir)
        env["PATH"] = f"{tools.bin_dir()}:{env.get('PATH', '')}"
        return env

    def _config(self) -> Path:
        # Options that kwokctl has no flag for: bind everything to 127.0.0.1 and
        # point each component at the locally built binary, so nothing is downloaded.
        bins = tools.bin_dir()
        version = re.search(
            r"KUBERNETES_VERSION=(\S+)", (tools.REPO_ROOT / "hack" / "versions.env").read_text()
        )
        config = {
            "kind": "KwokctlConfiguration",
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "options": {
                "runtime": "binary",
                "bindAddress": "127.0.0.1",
                "kubeVersion": version.group(1) if version else "",
                "kubeApiserverBinary": str(bins / "kube-apiserver"),
                "kubeControllerManagerBinary": str(bins / "kube-controller-manager"),
                "kubeSchedulerBinary": str(bins / "kube-scheduler"),
                "kubectlBinary": str(bins / "kubectl"),
                "etcdBinary": str(bins / "etcd"),
                "kwokControllerBinary": str(bins / "kwok"),
                "kubeAuthorization": True,
                "kubeAdmission": True,
            },
        }
        path = self.workdir / "kwokctl.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def kwokctl(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        cmd = [str(tools.tool("kwokctl")), *args]
        try:
            out = subprocess.run(
                cmd, env=self._env(), capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"`{' '.join(cmd)}` timed out after {timeout}s") from exc
        if out.returncode != 0:
            raise ClusterError(
                f"`{' '.join(cmd)}` failed ({out.returncode}):\n{out.stderr[-4000:]}"
            )
        return out

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(tools.tool("kubectl")), "--kubeconfig", str(self.kubeconfig), *args]
        out = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and out.returncode != 0:
            raise ClusterError(f"`kubectl {' '.join(args)}` failed:\n{out.stderr[-4000:]}")
        return out

    def start(self, timeout: float = 240) -> None:
        """Create the cluster, add a fake node, install the CRDs; wait until all are usable."""
        port = self.apiserver_port or ports.free_port()
        self.apiserver_port = port
        self.kwokctl(
            "create",
            "cluster",
            "--name",
            self.name,
            "--config",
            str(self._config()),
            "--kubeconfig",
            str(self.kubeconfig),
            "--kube-apiserver-port",
            str(port),
            "--wait",
            f"{int(timeout)}s",
            timeout=timeout + 30,
        )
        self.add_fake_node(FAKE_NODE)
        self.install_crds()

    def add_fake_node(self, name: str) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
            "status": {
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
            },
        }
        self.kubectl("apply", "-f", "-", stdin=json.dumps(node))
        self.kubectl("wait", "--for=condition=Ready", f"node/{name}", "--timeout=300s", timeout=330)

    def install_crds(self) -> None:
        self.kubectl("apply", "--server-side", "-f", str(CRDS_DIR))
        self.kubectl(
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            *[
                f"crd/{p.stem.split('_', 1)[1]}.orgtwin.dev"
                for p in sorted(CRDS_DIR.glob("*.yaml"))
            ],
        )

    def pids(self) -> list[int]:
        """PIDs of the component processes kwokctl started."""
        found = []
        for pid_file in (self.cluster_dir / "pids").glob("*.pid"):
            try:
                found.append(int(pid_file.read_text().strip()))
            except ValueError:
                continue
        return found

    def listening_ports(self) -> list[int]:
        """Ports the cluster's components were configured to listen on."""
        found: set[int] = {self.apiserver_port} if self.apiserver_port else set()
        config = self.cluster_dir / "kwok.yaml"
        if config.exists():
            for match in re.finditer(r"(?:port|Port)\S*[=:]\s*\"?(\d{2,5})", config.read_text()):
                found.add(int(match.group(1)))
        return sorted(found)

    def stop(self) -> None:
        """Delete the cluster and wait until its processes are gone."""
        pids = self.pids()
        bound = [p for p in self.listening_ports() if ports.is_listening(p)]
        try:
            self.kwokctl("delete", "cluster", "--name", self.name, timeout=120)
        finally:
            deadline = time.monotonic() + 30
            while any(ports.pid_alive(p) for p in pids) and time.monotonic() < deadline:
                time.sleep(0.2)
            # A component that ignored kwokctl's stop is still ours: kill it by its PID.
            for pid in [p for p in pids if ports.pid_alive(p)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while any(ports.pid_alive(p) for p in pids) and time.monotonic() < deadline:
                time.sleep(0.1)
            # Return only once the ports are free again, so the next cluster can take them; a
            # CI run once saw one still accepting just after every PID had gone.
            deadline = time.monotonic() + 30
            while any(ports.is_listening(p) for p in bound) and time.monotonic() < deadline:
                time.sleep(0.2)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "kubeconfig": str(self.kubeconfig), "port": self.apiserver_port}
