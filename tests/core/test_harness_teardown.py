"""Stopping the harness leaves no process and no listening port behind."""

from __future__ import annotations

import pytest

from orgtwin.testing import ports
from orgtwin.testing.cluster import LocalCluster
from orgtwin.testing.postgres import LocalPostgres

pytestmark = pytest.mark.integration


def test_cluster_teardown_leaves_no_process_or_port() -> None:
    cluster = LocalCluster()
    try:
        cluster.start()
        pids = cluster.pids()
        listening = [p for p in cluster.listening_ports() if ports.is_listening(p)]
        # etcd, kube-apiserver, controller-manager, scheduler and kwok-controller.
        assert len(pids) >= 5
        assert all(ports.pid_alive(p) for p in pids)
        assert cluster.apiserver_port in listening
    finally:
        cluster.stop()
    assert [p for p in pids if ports.pid_alive(p)] == []
    left = {p: ports.listeners(p) for p in listening if ports.is_listening(p)}
    assert left == {}, f"ports still accepting after stop, with their holders: {left}"
    assert not cluster.workdir.exists()


def test_postgres_teardown_leaves_no_process_or_port() -> None:
    pg = LocalPostgres()
    pg.start()
    pid = pg.pid()
    assert pid is not None
    assert ports.pid_alive(pid)
    assert ports.is_listening(pg.port)
    pg.destroy()
    assert not ports.pid_alive(pid)
    assert not ports.is_listening(pg.port)
    assert not pg.base.exists()
