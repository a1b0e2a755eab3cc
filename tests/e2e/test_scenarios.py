"""The three collaboration scenarios end to end, exactly as `make demo` runs them.

Real parts: the harness control plane (own cluster, as the demo starts it),
Postgres, the operator, the api, the proxy, and one `orgtwin agent simulate`
per Active session talking to the real mesh extension over stdio. The LLM is
the scripted fake upstream (orgtwin.testing.brain): no real model can run here.
The last test stops the stack with `orgtwin demo down`, as `make demo-down` does, and proves nothing
is left behind.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgtwin.testing import ports
from orgtwin.testing.scenarios import SCENARIOS, Driver, Outcome, Scenario
from orgtwin.testing.stack import ORGTWIN, Stack

pytestmark = pytest.mark.e2e

ORG = Path(__file__).resolve().parents[2] / "manifests" / "samples" / "org-50.csv"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("stack"), namespace="acme")
    stack.up(log=lambda _m: None)
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="module")
def driver(stack: Stack) -> Driver:
    driver = Driver(stack, log=lambda _m: None)
    result = driver.import_org(ORG)
    assert result["created"] == 50
    driver.wait_users_ready(50)
    return driver


@pytest.fixture(scope="module")
def outcomes(driver: Driver) -> dict[str, Outcome]:
    return {sc.key: driver.run(sc) for sc in SCENARIOS}


def _final_answers(transcript: list[dict[str, object]]) -> list[str]:
    return [
        str(e["content"]) for e in transcript if e.get("event") == "assistant" and e.get("final")
    ]


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.key)
def test_approval_is_granted_and_the_initiator_sees_it(
    outcomes: dict[str, Outcome], sc: Scenario
) -> None:
    out = outcomes[sc.key]
    assert out.approval["details"]["decision"] == "approve"
    answers = _final_answers(out.transcripts[sc.initiator])
    # Expense: finance asked for the approval itself; otherwise it sent a task that the
    # other side completed after requesting the approval.
    seen = "Approval" if sc.key == "expense" else "Task"
    state = "approved" if sc.key == "expense" else "done"
    assert any(a.startswith(f"{seen} ") and f" is {state}:" in a for a in answers), answers


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.key)
def test_audit_trail_under_one_trace_id(outcomes: dict[str, Outcome], sc: Scenario) -> None:
    out = outcomes[sc.key]
    actions = [e["action"] for e in out.audit]
    assert {e["trace_id"] for e in out.audit} == {out.trace_id}
    expected = {"approval.request", "approval.decide"}
    if sc.key != "expense":
        expected |= {"task.create", "task.reply"}
        # The task comes first; the manager's decision and the reply to the task race.
        assert actions[0] == "task.create", actions
        assert actions.index("task.create") < actions.index("task.reply"), actions
    assert expected <= set(actions), actions
    assert actions.index("approval.request") < actions.index("approval.decide"), actions
    # The audit names actors and subjects, never the seeded values.
    for value in sc.seeded:
        assert value not in str(out.audit)


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.key)
def test_the_llm_never_saw_a_seeded_value(
    stack: Stack, outcomes: dict[str, Outcome], sc: Scenario
) -> None:
    bodies = stack.upstream_bodies()
    assert sc.prompt.split()[0] in bodies  # the upstream did get this scenario's prompt...
    assert outcomes[sc.key].leaked == []  # ...but none of its PII
    for value in sc.seeded:
        assert value not in bodies


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.key)
def test_restored_answers_contain_the_originals(outcomes: dict[str, Outcome], sc: Scenario) -> None:
    answers = " ".join(_final_answers(outcomes[sc.key].transcripts[sc.initiator]))
    for value in sc.seeded:
        assert value in answers, f"{value!r} not restored"
    assert "[EMAIL_" not in answers


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.key)
def test_session_transitions_are_in_history(outcomes: dict[str, Outcome], sc: Scenario) -> None:
    for eid, session in outcomes[sc.key].sessions.items():
        phases = [h["phase"] for h in session["history"]]
        assert phases[-2:] == ["Active", "Completed"], (eid, phases)
        assert session["phase"] == "Completed"


def test_legal_tool_denial_is_shown(outcomes: dict[str, Outcome]) -> None:
    legal = outcomes["legal"].transcripts["E018"]
    assert any("blocked by this profile's tool policy" in a for a in _final_answers(legal))


def test_demo_down_leaves_no_process_or_port(stack: Stack, outcomes: dict[str, Outcome]) -> None:
    assert outcomes  # run after the scenarios, on the same stack
    state = stack.s
    pids = list(state.pids.values())
    listening = [p for p in state.ports.values() if ports.is_listening(p)]
    assert listening, "the services should be up before down()"
    cluster_pids = [int(p.read_text()) for p in (stack.dir / "cluster").rglob("pids/*.pid")]
    pg_pid = (Path(state.pg_dir) / "data" / "postmaster.pid").read_text().split()[0]

    # Exactly what `make demo-down` runs, pointed at this stack's state dir.
    env = {**os.environ, "ORGTWIN_DEMO_DIR": str(stack.dir)}
    subprocess.run([ORGTWIN, "demo", "down"], env=env, check=True, timeout=180)

    assert [p for p in pids + cluster_pids + [int(pg_pid)] if ports.pid_alive(p)] == []
    assert [p for p in listening if ports.is_listening(p)] == []
    assert not stack.state_file.exists()
