"""AgentSession lifecycle against the harness apiserver, with the operator as a subprocess."""

from __future__ import annotations

import pytest
from operator_kit import Objects, wait_for

from orgtwin.core import k8s

pytestmark = pytest.mark.integration
S = k8s.SESSION_PLURAL


def ready_user(objs: Objects, name: str = "alice", profile: str = "finance") -> None:
    wait_for(
        lambda: objs.condition(k8s.USER_PLURAL, name, "Ready").get("status") == "True",
        30,
        f"user {name} Ready",
    )


def test_pending_to_active_creates_children(objs: Objects) -> None:
    objs.profile("finance")
    objs.user("alice")
    ready_user(objs)
    objs.session("s1", "alice")
    status = objs.wait_phase("s1", "Active")
    assert status["startedAt"]
    assert status["podName"] == k8s.session_pod_name("s1")
    assert objs.condition(S, "s1", "Ready")["status"] == "True"
    assert objs.secret_exists("s1")
    assert objs.events("Started")
