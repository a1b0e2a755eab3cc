"""The session status a reconcile writes: a refused request stays refused until a new one."""

from __future__ import annotations

import pytest

from orgtwin.core.crds.models import AgentSessionStatus
from orgtwin.operator import conditions
from orgtwin.operator.fsm import Decision
from orgtwin.operator.sessions import status_patch

pytestmark = pytest.mark.unit
NOW = "2026-01-01T00:00:00Z"


def _patch(status: AgentSessionStatus, decision: Decision, generation: int) -> dict[str, object]:
    return status_patch(status, decision, generation, NOW, None, None, "", "")


def _transition_valid(patch: dict[str, object]) -> str | None:
    status = AgentSessionStatus.model_validate(patch)
    found = conditions.get(status.conditions, conditions.TRANSITION_VALID)
    return found.status if found else None


def _refused(generation: int) -> AgentSessionStatus:
    refusal = Decision("Failed", "PodFailed", "the agent pod failed", invalid="Failed is terminal")
    first = _patch(AgentSessionStatus(phase="Failed", observed_generation=1), refusal, generation)
    assert _transition_valid(first) == "False"
    return AgentSessionStatus.model_validate(first)


def test_a_later_pass_for_the_same_generation_keeps_the_refusal() -> None:
    # E.g. the pod's DELETED event reconciles again after the refusal was written.
    status = _refused(generation=2)
    again = _patch(status, Decision("Failed", "PodFailed", "the agent pod failed"), 2)
    assert _transition_valid(again) == "False"


def test_a_new_valid_request_clears_the_refusal() -> None:
    status = _refused(generation=2).model_copy(update={"phase": "Pending"})
    accepted = _patch(status, Decision("Pending", "Starting", "waiting"), 3)
    assert _transition_valid(accepted) == "True"
