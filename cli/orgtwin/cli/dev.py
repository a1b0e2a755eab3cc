"""`orgtwin dev`: a local control plane for people, from the same binaries the tests use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import typer

from orgtwin.testing import tools
from orgtwin.testing.cluster import ClusterError, LocalCluster

dev_app = typer.Typer(
    help="Local development cluster (kwok, 127.0.0.1 only).", no_args_is_help=True
)

STATE_DIR = Path(os.environ.get("ORGTWIN_DEV_DIR", Path.home() / ".cache" / "orgtwin" / "dev"))
NAME = "orgtwin-dev"


def _cluster() -> LocalCluster:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    return LocalCluster(name=NAME, workdir=STATE_DIR)


def _healthy(cluster: LocalCluster) -> bool:
    if not cluster.kubeconfig.exists():
        return False
    out = subprocess.run(
        [
            str(tools.tool("kubectl")),
            "--kubeconfig",
            str(cluster.kubeconfig),
            "get",
            "--raw",
            "/readyz",
            "--request-timeout=3s",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode == 0


@dev_app.command("cluster-up")
def cluster_up() -> None:
    """Start the local cluster (idempotent) and print its KUBECONFIG."""
    cluster = _cluster()
    if _healthy(cluster):
        typer.echo("cluster already running", err=True)
    else:
        if cluster.cluster_dir.exists():
            cluster.kwokctl("delete", "cluster", "--name", NAME)
        typer.echo(
            "starting local cluster (etcd, kube-apiserver, controller-manager, "
            "scheduler, kwok) on 127.0.0.1 ...",
            err=True,
        )
        try:
            cluster.start()
        except ClusterError as exc:
            typer.echo(f"cluster-up failed: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"export KUBECONFIG={cluster.kubeconfig}")


@dev_app.command("cluster-down")
def cluster_down() -> None:
    """Stop the local cluster and remove its state (idempotent)."""
    cluster = _cluster()
    if not cluster.cluster_dir.exists():
        typer.echo("no local cluster running", err=True)
        return
    cluster.stop()
    typer.echo("local cluster stopped", err=True)
