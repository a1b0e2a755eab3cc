"""Invalid transitions: refused at admission where CEL can say so, else a condition and an Event."""

from __future__ import annotations

import pytest
from kubernetes import client
from operator_kit import Objects, wait_for
from test_lifecycle import active_session, setup_user

from orgtwin.core import k8s

pytestmark = pytest.mark.integration
S = k8s.SESSION_PLURAL


def assert_invalid(objs: Objects, name: str, phase: str) -> None:
    wait_for(
        lambda: objs.condition(S, name, "TransitionValid").get("status") == "False",
        30,
        "TransitionValid=False",
    )
    cond = objs.condition(S, name, "TransitionValid")
    assert cond["reason"] == "InvalidTransition"
    assert objs.phase(name) == phase
    wait_for(lambda: objs.events("InvalidTransition"), 30, "InvalidTransition event")
    assert all(e.type == "Warning" for e in objs.events("InvalidTransition"))


@pytest.mark.parametrize("target", ["Active", "Paused"])
def test_completed_cannot_be_resumed_or_paused_at_admission(objs: Objects, target: str) -> None:
    active_session(objs)
    objs.patch_spec(S, "s1", {"desiredState": "Completed"})
    objs.wait_phase("s1", "Completed")
    with pytest.raises(client.ApiException) as info:
        objs.patch_spec(S, "s1", {"desiredState": target})
    assert info.value.status == 422
    assert objs.phase("s1") == "Completed"


@pytest.mark.parametrize("terminal", ["Failed", "Expired"])
@pytest.mark.parametrize("target", ["Paused", "Completed"])
def test_terminal_phases_refuse_new_requests(objs: Objects, terminal: str, target: str) -> None:
    if terminal == "Expired":
        active_session(objs, maxDuration="2s")
    else:
        active_session(objs)
        objs.fail_pod("s1")
    objs.wait_phase("s1", terminal)
    objs.patch_spec(S, "s1", {"desiredState": target})
    assert_invalid(objs, "s1", terminal)
    assert objs.pod("s1") is None


def test_failed_session_cannot_be_resumed(objs: Objects) -> None:
    active_session(objs)
    objs.patch_spec(S, "s1", {"desiredState": "Paused"})
    objs.wait_phase("s1", "Paused")
    objs.patch_status(S, "s1", {"failureRequest": {"reason": "Revoked"}})
    objs.wait_phase("s1", "Failed")
    objs.patch_spec(S, "s1", {"desiredState": "Active"})
    assert_invalid(objs, "s1", "Failed")
    assert objs.pod("s1") is None


def test_pending_session_cannot_be_paused(objs: Objects) -> None:
    setup_user(objs)
    objs.session("s1", "alice", desiredState="Paused")
    assert_invalid(objs, "s1", "Pending")
    assert objs.pod("s1") is None
    # Asking for a valid state again lets it start.
    objs.patch_spec(S, "s1", {"desiredState": "Active"})
    objs.wait_phase("s1", "Active")
    assert objs.condition(S, "s1", "TransitionValid")["status"] == "True"


def test_pending_session_cannot_be_completed(objs: Objects) -> None:
    setup_user(objs)
    objs.session("s1", "alice", desiredState="Completed")
    assert_invalid(objs, "s1", "Pending")
    assert objs.pod("s1") is None
