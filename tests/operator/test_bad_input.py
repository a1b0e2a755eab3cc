"""Bad input ends in a status condition with a clear reason, no Pod, no crash, no write loop."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client
from operator_kit import Objects, OperatorProcess, wait_for
from test_lifecycle import setup_user

from orgtwin.core import k8s

pytestmark = pytest.mark.integration
S = k8s.SESSION_PLURAL
U = k8s.USER_PLURAL
P = k8s.PROFILE_PLURAL


def wait_reason(objs: Objects, plural: str, name: str, type_: str, reason: str) -> dict[str, Any]:
    wait_for(
        lambda: objs.condition(plural, name, type_).get("reason") == reason,
        30,
        f"{plural}/{name} {type_} reason {reason}",
    )
    return objs.condition(plural, name, type_)


def assert_settled(objs: Objects, plural: str, name: str, proc: OperatorProcess) -> None:
    """No tight loop: over several timer periods the object is not rewritten."""

    def version() -> str:
        return str((objs.get(plural, name) or {})["metadata"]["resourceVersion"])

    time.sleep(2)  # let the last in-flight write (e.g. kopf's bookkeeping) land
    before = version()
    time.sleep(3)  # three session-timer periods in the test settings
    assert version() == before
    proc.alive_check()


def assert_blocked(objs: Objects, name: str, reason: str, proc: OperatorProcess) -> None:
    cond = wait_reason(objs, S, name, "Ready", reason)
    assert cond["status"] == "False"
    assert cond["message"]
    assert objs.phase(name) == "Pending"
    assert objs.pod(name) is None
    wait_for(lambda: objs.events(reason), 30, f"{reason} event")
    assert_settled(objs, S, name, proc)


def test_session_for_missing_user(objs: Objects, operator_proc: OperatorProcess) -> None:
    objs.session("s1", "nobody")
    assert_blocked(objs, "s1", "UserNotFound", operator_proc)


def test_session_for_suspended_user(objs: Objects, operator_proc: OperatorProcess) -> None:
    objs.profile("finance")
    objs.user("alice", suspended=True)
    objs.session("s1", "alice")
    assert_blocked(objs, "s1", "UserSuspended", operator_proc)


def test_session_for_user_without_profile(objs: Objects, operator_proc: OperatorProcess) -> None:
    objs.user("alice", profile="")
    objs.session("s1", "alice")
    assert_blocked(objs, "s1", "UserHasNoProfile", operator_proc)
    assert wait_reason(objs, U, "alice", "ProfileResolved", "NoProfileAssigned")


def test_user_with_missing_profile_recovers(objs: Objects, operator_proc: OperatorProcess) -> None:
    objs.user("alice", profile="ghost")
    cond = wait_reason(objs, U, "alice", "ProfileResolved", "ProfileNotFound")
    assert cond["status"] == "False"
    assert objs.condition(U, "alice", "Ready")["status"] == "False"
    objs.session("s1", "alice")
    assert_blocked(objs, "s1", "ProfileNotFound", operator_proc)
    # Creating the profile resolves the user and lets the waiting session start.
    objs.profile("ghost")
    wait_reason(objs, U, "alice", "ProfileResolved", "Resolved")
    objs.wait_phase("s1", "Active")


def test_missing_manager_is_a_condition(objs: Objects, operator_proc: OperatorProcess) -> None:
    objs.profile("finance")
    objs.user("alice", managerId="BOSS")
    cond = wait_reason(objs, U, "alice", "ManagerResolved", "ManagerNotFound")
    assert cond["status"] == "False"
    assert objs.condition(U, "alice", "Ready")["status"] == "True"
    objs.user("boss", employeeId="BOSS")
    wait_reason(objs, U, "alice", "ManagerResolved", "Resolved")


def test_unknown_provider_is_refused_at_admission(objs: Objects) -> None:
    with pytest.raises(client.ApiException) as info:
        objs.profile("finance", model={"provider": "acme-llm", "name": "x"})
    assert info.value.status == 422


@pytest.mark.parametrize(
    ("extensions", "field"),
    [
        ([{"name": "tool", "type": "stdio"}], "cmd"),
        ([{"name": "web", "type": "streamable_http"}], "uri"),
        ([{"name": "orgtwin", "type": "builtin"}], "name"),
    ],
)
def test_malformed_extension(
    objs: Objects, operator_proc: OperatorProcess, extensions: list[dict[str, str]], field: str
) -> None:
    objs.profile("finance", goose={"extensions": extensions})
    cond = wait_reason(objs, P, "finance", "Ready", "InvalidExtension")
    assert cond["status"] == "False"
    assert field in cond["message"]
    assert_settled(objs, P, "finance", operator_proc)
    objs.user("alice")
    wait_reason(objs, U, "alice", "ProfileResolved", "ProfileInvalid")
    objs.session("s1", "alice")
    assert_blocked(objs, "s1", "ProfileInvalid", operator_proc)
    # Fixing the profile unblocks everything.
    objs.patch_spec(P, "finance", {"goose": {"extensions": []}})
    objs.wait_phase("s1", "Active")


def test_bad_regex_is_reported(objs: Objects) -> None:
    objs.profile("finance", privacy={"customPatterns": [{"name": "X", "regex": "([oops"}]})
    assert wait_reason(objs, P, "finance", "Ready", "InvalidPattern")["status"] == "False"


def test_valid_session_next_to_bad_ones_still_runs(objs: Objects) -> None:
    objs.session("broken", "nobody")
    setup_user(objs)
    objs.session("s1", "alice")
    objs.wait_phase("s1", "Active")
