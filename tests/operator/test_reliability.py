"""Reliability: SIGKILL at random moments, catch-up after downtime, two replicas with peering."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import drop_namespace, new_namespace
from kubernetes import client
from operator_kit import Objects, OperatorProcess, eventually, wait_for

from orgtwin.core import k8s
from orgtwin.operator.handlers import FINALIZER

pytestmark = pytest.mark.integration
S = k8s.SESSION_PLURAL


@pytest.fixture
def bare(k8s_api: client.ApiClient) -> Iterator[Objects]:
    """A namespace with no operator watching it yet."""
    ns = new_namespace(k8s_api, "rel")
    try:
        yield Objects(k8s_api, ns)
    finally:
        drop_namespace(k8s_api, ns)


def operator_for(cluster: object, objs: Objects, log: Path, **env: str) -> OperatorProcess:
    kubeconfig = cluster.kubeconfig  # type: ignore[attr-defined]
    return OperatorProcess(kubeconfig, [objs.ns], log, env=dict(env))


def phases(objs: Objects) -> dict[str, str]:
    items = objs.custom.list_namespaced_custom_object(k8s.GROUP, k8s.VERSION, objs.ns, S)["items"]
    return {i["metadata"]["name"]: (i.get("status") or {}).get("phase", "") for i in items}


def assert_clean(objs: Objects, expected: dict[str, str]) -> None:
    """Correct phases, one pod per running session, no orphans, no finalizers."""
    items = objs.custom.list_namespaced_custom_object(k8s.GROUP, k8s.VERSION, objs.ns, S)["items"]
    assert {i["metadata"]["name"]: i["status"]["phase"] for i in items} == expected
    # kopf's timers hold one finalizer of ours while the object lives; nothing else.
    assert all(set(i["metadata"].get("finalizers", [])) <= {FINALIZER} for i in items)
    uids = {i["metadata"]["uid"]: i["metadata"]["name"] for i in items}
    active = {n for n, p in expected.items() if p == "Active"}
    pods = [p for p in objs.pods() if p.metadata.deletion_timestamp is None]
    assert sorted(p.metadata.name for p in pods) == sorted(k8s.session_pod_name(n) for n in active)
    secrets = [
        s
        for s in objs.core.list_namespaced_secret(objs.ns).items
        if s.metadata.name != k8s.SIGNING_SECRET_NAME
    ]
    alive = {n for n, p in expected.items() if p in ("Active", "Paused")}
    assert sorted(s.metadata.name for s in secrets) == sorted(
        k8s.session_secret_name(n) for n in alive
    )
    for child in [*pods, *secrets]:
        owners = [o.uid for o in child.metadata.owner_references or []]
        assert owners, child.metadata.name
        assert all(uid in uids for uid in owners), child.metadata.name


def assert_deletable(objs: Objects) -> None:
    """No stuck finalizer: with the operator running, every session can be deleted."""
    objs.custom.delete_collection_namespaced_custom_object(k8s.GROUP, k8s.VERSION, objs.ns, S)
    wait_for(lambda: not phases(objs), 60, "all sessions deleted", interval=1)


def test_sigkill_at_random_moments_converges(
    cluster: object, bare: Objects, tmp_path: Path
) -> None:
    rng = random.Random(3)
    proc = operator_for(cluster, bare, tmp_path / "operator.log").start()
    stop = threading.Event()
    lock = threading.Lock()
    kills: list[int] = []

    def chaos() -> None:
        # A bounded number of kills, each at a random moment of the workload.
        while len(kills) < 8 and not stop.wait(rng.uniform(1.0, 4.0)):
            with lock:
                if stop.is_set():
                    return
                proc.kill()
                kills.append(1)
                proc.start()

    bare.profile("finance")
    for u in range(10):
        bare.user(f"user{u}")
    names = [f"s{i:03d}" for i in range(100)]
    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    try:
        for i, name in enumerate(names):
            bare.session(name, f"user{i % 10}")
        wait_for(
            lambda: all(p == "Active" for p in phases(bare).values()) and len(phases(bare)) == 100,
            150,
            "100 sessions Active under SIGKILL",
            interval=1,
            slack=1,
        )
        expected = dict.fromkeys(names, "Active")
        for name in names[:20]:
            bare.patch_spec(S, name, {"desiredState": "Paused"})
            expected[name] = "Paused"
        for name in names[20:40]:
            bare.patch_spec(S, name, {"desiredState": "Completed"})
            expected[name] = "Completed"
        for name in names[40:50]:
            bare.fail_pod(name)
            expected[name] = "Failed"

        def mismatched() -> dict[str, tuple[str | None, str]]:
            got = phases(bare)
            return {n: (got.get(n), want) for n, want in expected.items() if got.get(n) != want}

        deadline = time.monotonic() + 120
        while (wrong := mismatched()) and time.monotonic() < deadline:
            time.sleep(1)
        assert not wrong, f"sessions not in their final phase (got, want): {wrong}"
    except BaseException:
        with lock:
            stop.set()
            proc.stop()
        raise
    finally:
        with lock:
            stop.set()
        chaos_thread.join(timeout=60)
    assert kills, "the chaos thread never killed the operator"
    # One more clean start settles anything a kill interrupted; then the state must be exact.
    # A kill between recording a terminal phase and deleting the session's token Secret
    # leaves that Secret to the next process, which may still be starting: wait for it.
    if proc.proc is None or proc.proc.poll() is not None:
        proc.start()
    try:
        eventually(lambda: assert_clean(bare, expected), 60)
        assert_deletable(bare)
    finally:
        proc.stop()


def _active_then_stopped(
    cluster: object, bare: Objects, tmp_path: Path, session: str
) -> OperatorProcess:
    """An operator that brought ``session`` (alice's, finance) to Active, then shut down."""
    proc = operator_for(cluster, bare, tmp_path / "operator.log").start()
    bare.profile("finance")
    bare.user("alice")
    bare.session(session, "alice")
    bare.wait_phase(session, "Active")
    assert proc.stop() == 0  # clean shutdown on SIGTERM
    return proc


def test_sessions_created_while_down_are_caught_up(
    cluster: object, bare: Objects, tmp_path: Path
) -> None:
    proc = _active_then_stopped(cluster, bare, tmp_path, "before")
    for i in range(10):
        bare.session(f"down{i}", "alice")
    bare.patch_spec(S, "before", {"desiredState": "Paused"})
    assert bare.phase("down0") is None
    proc.start()
    try:
        for i in range(10):
            bare.wait_phase(f"down{i}", "Active", timeout=60)
        bare.wait_phase("before", "Paused")
        assert_clean(bare, {**{f"down{i}": "Active" for i in range(10)}, "before": "Paused"})
        assert_deletable(bare)
    finally:
        proc.stop()


def test_a_token_left_by_a_killed_pass_is_removed_by_the_next_process(
    cluster: object, bare: Objects, tmp_path: Path
) -> None:
    """The state a kill leaves between recording Completed and deleting the token Secret."""
    proc = _active_then_stopped(cluster, bare, tmp_path, "cut")
    # What the killed pass had done: the request, the terminal phase with the Secret's
    # name (written first, on purpose), the pod deleted; the Secret still there.
    bare.patch_spec(S, "cut", {"desiredState": "Completed"})
    bare.patch_status(
        S, "cut", {"phase": "Completed", "tokenSecretName": k8s.session_secret_name("cut")}
    )
    bare.core.delete_namespaced_pod(k8s.session_pod_name("cut"), bare.ns, grace_period_seconds=0)
    assert bare.secret_exists("cut")
    proc.start()

    def token_gone() -> None:
        assert_clean(bare, {"cut": "Completed"})
        assert not bare.secret_exists("cut")
        # Recorded after the Secret is deleted: a check in between sees the name still.
        assert bare.status(S, "cut").get("tokenSecretName", "") == ""

    try:
        eventually(token_gone, 60)
    finally:
        proc.stop()


def test_two_replicas_only_one_acts(
    cluster: object, bare: Objects, tmp_path: Path, peering_crd: None
) -> None:
    bare.custom.create_namespaced_custom_object(
        "kopf.dev",
        "v1",
        bare.ns,
        "kopfpeerings",
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "orgtwin"}},
    )
    peered = {
        "ORGTWIN_OPERATOR_STANDALONE": "false",
        "ORGTWIN_OPERATOR_PEERING_LIFETIME_SECONDS": "10",
    }
    leader = operator_for(
        cluster, bare, tmp_path / "a.log", ORGTWIN_OPERATOR_PEERING_PRIORITY="200", **peered
    ).start()
    standby = operator_for(
        cluster, bare, tmp_path / "b.log", ORGTWIN_OPERATOR_PEERING_PRIORITY="100", **peered
    ).start()
    try:
        bare.profile("finance")
        bare.user("alice")
        for i in range(5):
            bare.session(f"s{i}", "alice")
        for i in range(5):
            bare.wait_phase(f"s{i}", "Active", timeout=60)
        assert leader.reconciles() > 0
        assert standby.reconciles() == 0
        assert len(bare.pods()) == 5
        # The leader leaves cleanly; the standby takes over.
        assert leader.stop() == 0
        bare.session("after", "alice")
        bare.wait_phase("after", "Active", timeout=60)
        assert standby.reconciles() > 0
    finally:
        leader.stop()
        standby.stop()
