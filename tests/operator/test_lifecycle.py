"""AgentSession lifecycle against the harness apiserver, with the operator as a subprocess.

Every valid transition of the state machine, pod failure, expiry, retention and
ProfileOutdated. Invalid transitions are in test_invalid_transitions.py.
"""

from __future__ import annotations

import base64

import pytest
from kubernetes import client
from operator_kit import Objects, OperatorProcess, wait_for

from orgtwin.core import k8s, tokens

pytestmark = pytest.mark.integration
S = k8s.SESSION_PLURAL


def setup_user(objs: Objects, name: str = "alice", **profile: object) -> None:
    if objs.get(k8s.PROFILE_PLURAL, "finance") is None:
        objs.profile("finance", **profile)
    objs.user(name)
    wait_for(
        lambda: objs.condition(k8s.USER_PLURAL, name, "Ready").get("status") == "True",
        30,
        f"user {name} Ready",
    )


def active_session(objs: Objects, name: str = "s1", **spec: object) -> dict[str, object]:
    setup_user(objs)
    objs.session(name, "alice", **spec)
    return objs.wait_phase(name, "Active")


def test_pending_to_active_creates_children(objs: Objects) -> None:
    status = active_session(objs)
    assert status["startedAt"]
    assert status["podName"] == k8s.session_pod_name("s1")
    assert status["profileRef"] == "finance"
    assert status["profileGeneration"] == 1
    assert status["role"] == "finance"
    assert objs.condition(S, "s1", "Ready")["status"] == "True"
    objs.wait_event("Started")
    net = objs.net.read_namespaced_network_policy(k8s.session_netpol_name("s1"), objs.ns)
    assert net.spec.policy_types == ["Ingress", "Egress"]
    # The token is signed with the tenant key the operator created on this fresh install.
    key_secret = objs.core.read_namespaced_secret(k8s.SIGNING_SECRET_NAME, objs.ns)
    key = base64.b64decode(key_secret.data[k8s.SIGNING_SECRET_KEY])
    token_secret = objs.core.read_namespaced_secret(k8s.session_secret_name("s1"), objs.ns)
    claims = tokens.verify(key, base64.b64decode(token_secret.data["token"]).decode())
    assert (claims.session, claims.user, claims.profile, claims.role, claims.namespace) == (
        "s1",
        "alice",
        "finance",
        "finance",
        objs.ns,
    )
    pod = objs.pod("s1")
    assert pod is not None
    assert pod.metadata.labels[k8s.LABEL_SESSION] == "s1"
    assert pod.metadata.owner_references[0].kind == "AgentSession"


def test_pause_keeps_secret_and_resume_recreates_pod(objs: Objects) -> None:
    active_session(objs)
    first_pod = objs.pod("s1")
    assert first_pod is not None
    objs.patch_spec(S, "s1", {"desiredState": "Paused"})
    status = objs.wait_phase("s1", "Paused")
    assert status["pausedAt"]
    wait_for(lambda: objs.pod("s1") is None, 30, "pod deleted on pause")
    assert objs.secret_exists("s1")
    assert objs.condition(S, "s1", "Ready")["status"] == "False"
    objs.patch_spec(S, "s1", {"desiredState": "Active"})
    objs.wait_phase("s1", "Active")
    new_pod = objs.pod("s1")
    assert new_pod is not None
    assert new_pod.metadata.uid != first_pod.metadata.uid
    objs.wait_event("Paused")
    objs.wait_event("Resumed")


@pytest.mark.parametrize("from_phase", ["Active", "Paused"])
def test_complete_deletes_pod_and_token(objs: Objects, from_phase: str) -> None:
    active_session(objs)
    if from_phase == "Paused":
        objs.patch_spec(S, "s1", {"desiredState": "Paused"})
        objs.wait_phase("s1", "Paused")
    objs.patch_spec(S, "s1", {"desiredState": "Completed"})
    status = objs.wait_phase("s1", "Completed")
    assert status["completedAt"]
    # The phase is recorded first, then the children go, then the token's name.
    wait_for(lambda: objs.pod("s1") is None, 30, "pod deleted")
    wait_for(lambda: not objs.secret_exists("s1"), 30, "token Secret deleted")
    wait_for(
        lambda: objs.wait_phase("s1", "Completed").get("tokenSecretName", "") == "",
        30,
        "tokenSecretName cleared",
    )
    objs.wait_event("Completed")


def test_pod_failure_fails_the_session(objs: Objects) -> None:
    active_session(objs)
    objs.fail_pod("s1")
    status = objs.wait_phase("s1", "Failed")
    assert status["failedAt"]
    ready = objs.condition(S, "s1", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodFailed")
    wait_for(lambda: objs.pod("s1") is None, 30, "failed pod deleted")
    wait_for(lambda: not objs.secret_exists("s1"), 30, "token Secret deleted")
    assert [e for e in objs.wait_event("PodFailed") if e.type == "Warning"]


def test_failure_request_from_the_api_is_honoured(objs: Objects) -> None:
    active_session(objs)
    objs.patch_status(
        S, "s1", {"failureRequest": {"reason": "AgentMisbehaved", "message": "kill switch"}}
    )
    objs.wait_phase("s1", "Failed")
    assert objs.condition(S, "s1", "Ready")["reason"] == "AgentMisbehaved"
    wait_for(lambda: objs.pod("s1") is None, 30, "pod deleted")


def test_idle_timeout_expires(objs: Objects) -> None:
    active_session(objs, idleTimeout="3s")
    status = objs.wait_phase("s1", "Expired", timeout=30)
    assert status["expiredAt"]
    assert objs.condition(S, "s1", "Ready")["reason"] == "IdleTimeout"
    wait_for(lambda: objs.pod("s1") is None, 30, "pod deleted")
    wait_for(lambda: not objs.secret_exists("s1"), 30, "token Secret deleted")


def test_activity_is_read_from_last_activity_at(objs: Objects) -> None:
    # An activity stamp far in the future keeps the session alive past its idle timeout.
    active_session(objs, idleTimeout="2s", maxDuration="6s")
    objs.patch_status(S, "s1", {"lastActivityAt": "2999-01-01T00:00:00Z"})
    objs.wait_phase("s1", "Expired", timeout=30)
    assert objs.condition(S, "s1", "Ready")["reason"] == "MaxDurationExceeded"


def test_max_duration_expires(objs: Objects) -> None:
    active_session(objs, maxDuration="3s")
    objs.wait_phase("s1", "Expired", timeout=30)
    assert objs.condition(S, "s1", "Ready")["reason"] == "MaxDurationExceeded"


def test_retention_deletes_terminal_sessions(objs: Objects) -> None:
    objs.profile("finance", session={"retention": "3s"})
    active_session(objs)
    objs.patch_spec(S, "s1", {"desiredState": "Completed"})
    objs.wait_phase("s1", "Completed")
    wait_for(lambda: objs.get(S, "s1") is None, 30, "session deleted after retention")


def test_profile_change_marks_running_sessions_outdated(objs: Objects) -> None:
    active_session(objs)
    assert objs.condition(S, "s1", "ProfileOutdated").get("status") == "False"
    objs.patch_spec(k8s.PROFILE_PLURAL, "finance", {"goose": {"instructions": "New rules."}})
    wait_for(
        lambda: objs.condition(S, "s1", "ProfileOutdated").get("status") == "True",
        30,
        "ProfileOutdated=True",
    )
    assert objs.status(S, "s1")["profileGeneration"] == 1
    # A resumed session runs the current profile.
    objs.patch_spec(S, "s1", {"desiredState": "Paused"})
    objs.wait_phase("s1", "Paused")
    objs.patch_spec(S, "s1", {"desiredState": "Active"})
    objs.wait_phase("s1", "Active")
    wait_for(
        lambda: objs.condition(S, "s1", "ProfileOutdated").get("status") == "False",
        30,
        "ProfileOutdated=False after resume",
    )
    assert objs.status(S, "s1")["profileGeneration"] == 2
    # A new session pins the current generation from the start.
    objs.session("s2", "alice")
    assert objs.wait_phase("s2", "Active")["profileGeneration"] == 2


def test_suspended_user_pauses_active_sessions_and_gets_no_new_ones(objs: Objects) -> None:
    active_session(objs)
    objs.patch_spec(k8s.USER_PLURAL, "alice", {"suspended": True})
    objs.wait_phase("s1", "Paused")
    assert objs.condition(S, "s1", "Ready")["reason"] == "UserSuspended"
    wait_for(lambda: objs.pod("s1") is None, 30, "pod deleted")
    objs.session("s2", "alice")
    wait_for(
        lambda: objs.condition(S, "s2", "Ready").get("reason") == "UserSuspended",
        30,
        "new session blocked",
    )
    assert objs.phase("s2") == "Pending"
    assert objs.pod("s2") is None
    objs.patch_spec(k8s.USER_PLURAL, "alice", {"suspended": False})
    objs.wait_phase("s2", "Active")
    objs.wait_phase("s1", "Active")


def test_profile_status_counts_users(objs: Objects) -> None:
    setup_user(objs, "alice")
    setup_user(objs, "bob")
    wait_for(
        lambda: objs.status(k8s.PROFILE_PLURAL, "finance").get("usersAssigned") == 2,
        30,
        "usersAssigned == 2",
    )
    status = objs.status(k8s.PROFILE_PLURAL, "finance")
    assert status["observedGeneration"] == 1
    assert len(status["configHash"]) == 16
    cm = objs.core.read_namespaced_config_map(status["configMapName"], objs.ns)
    assert cm.metadata.labels[k8s.LABEL_CONFIG_HASH] == status["configHash"]
    user = objs.status(k8s.USER_PLURAL, "alice")
    assert (user["profileGeneration"], user["configHash"]) == (1, status["configHash"])


def test_deleting_a_session_leaves_no_orphans(objs: Objects, k8s_api: client.ApiClient) -> None:
    active_session(objs)
    objs.custom.delete_namespaced_custom_object(
        k8s.GROUP, k8s.VERSION, objs.ns, S, "s1", propagation_policy="Foreground"
    )
    wait_for(lambda: objs.get(S, "s1") is None, 60, "session gone")
    wait_for(lambda: objs.pod("s1") is None and not objs.secret_exists("s1"), 60, "children gone")


def test_logs_hold_no_token_and_no_pii(objs: Objects, operator_proc: OperatorProcess) -> None:
    active_session(objs)
    token_secret = objs.core.read_namespaced_secret(k8s.session_secret_name("s1"), objs.ns)
    token = base64.b64decode(token_secret.data["token"]).decode()
    logs = operator_proc.logs()
    assert "session.transition" in logs
    assert token not in logs
    assert "eyJ" not in logs  # no JWT of any session
    assert "@example.com" not in logs  # emails of the test users
    assert "Person " not in logs  # display names of the test users
