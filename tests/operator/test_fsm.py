"""Every valid and invalid transition of the AgentSession state machine (pure, no cluster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orgtwin.operator.fsm import Blocker, Facts, PodState, decide, parse_duration

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def facts(phase: str | None, desired: str = "Active", **kw: object) -> Facts:
    base: dict[str, object] = {
        "phase": phase,
        "desired": desired,
        "generation": 1,
        "observed_generation": 1,
        "pod": PodState.ABSENT,
        "now": NOW,
    }
    if phase in ("Active", "Paused"):
        base["started_at"] = NOW - timedelta(minutes=5)
        base["active_since"] = NOW - timedelta(minutes=5)
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


# (from, desired, pod, extra facts) -> (to, reason, want_pod)
VALID = [
    ("new->Pending", None, "Active", PodState.ABSENT, {}, "Pending", "Starting", True),
    ("Pending wait", "Pending", "Active", PodState.STARTING, {}, "Pending", "Starting", True),
    ("Pending->Active", "Pending", "Active", PodState.READY, {}, "Active", "Started", True),
    ("Active->Paused", "Active", "Paused", PodState.READY, {}, "Paused", "Paused", False),
    ("Paused resuming", "Paused", "Active", PodState.ABSENT, {}, "Paused", "Resuming", True),
    ("Paused->Active", "Paused", "Active", PodState.READY, {}, "Active", "Resumed", True),
    (
        "Active->Completed",
        "Active",
        "Completed",
        PodState.READY,
        {},
        "Completed",
        "Completed",
        False,
    ),
    (
        "Paused->Completed",
        "Paused",
        "Completed",
        PodState.ABSENT,
        {},
        "Completed",
        "Completed",
        False,
    ),
    ("Active->Failed pod", "Active", "Active", PodState.FAILED, {}, "Failed", "PodFailed", False),
    ("Pending->Failed pod", "Pending", "Active", PodState.FAILED, {}, "Failed", "PodFailed", False),
    (
        "Active->Failed api",
        "Active",
        "Active",
        PodState.READY,
        {"failure_reason": "AgentCrashed"},
        "Failed",
        "AgentCrashed",
        False,
    ),
    (
        "Paused->Failed api",
        "Paused",
        "Paused",
        PodState.ABSENT,
        {"failure_reason": "Revoked"},
        "Failed",
        "Revoked",
        False,
    ),
    (
        "Active->Expired idle",
        "Active",
        "Active",
        PodState.READY,
        {"idle_timeout": timedelta(minutes=1)},
        "Expired",
        "IdleTimeout",
        False,
    ),
    (
        "Active->Expired max",
        "Active",
        "Active",
        PodState.READY,
        {"max_duration": timedelta(minutes=1)},
        "Expired",
        "MaxDurationExceeded",
        False,
    ),
    (
        "Paused->Expired max",
        "Paused",
        "Paused",
        PodState.ABSENT,
        {"max_duration": timedelta(minutes=1)},
        "Expired",
        "MaxDurationExceeded",
        False,
    ),
    (
        "Active suspended",
        "Active",
        "Active",
        PodState.READY,
        {"blocker": Blocker("UserSuspended", "x", pauses=True)},
        "Paused",
        "UserSuspended",
        False,
    ),
    ("Active lost pod", "Active", "Active", PodState.ABSENT, {}, "Active", "PodNotReady", True),
]


@pytest.mark.parametrize(
    ("phase", "desired", "pod", "extra", "to", "reason", "want_pod"),
    [v[1:] for v in VALID],
    ids=[v[0] for v in VALID],
)
def test_valid_transitions(
    phase: str | None,
    desired: str,
    pod: PodState,
    extra: dict[str, object],
    to: str,
    reason: str,
    want_pod: bool,
) -> None:
    d = decide(facts(phase, desired, pod=pod, **extra))
    assert (d.phase, d.reason, d.want_pod, d.invalid) == (to, reason, want_pod, None)
    assert d.ready == (to == "Active" and pod is PodState.READY)


INVALID = [
    ("Completed->Active", "Completed", "Active"),
    ("Completed->Paused", "Completed", "Paused"),
    ("Failed->Active", "Failed", "Paused"),
    ("Failed->Completed", "Failed", "Completed"),
    ("Expired->Paused", "Expired", "Paused"),
    ("Expired->Completed", "Expired", "Completed"),
    ("Pending->Paused", "Pending", "Paused"),
    ("Pending->Completed", "Pending", "Completed"),
]


@pytest.mark.parametrize(
    ("phase", "desired"), [v[1:] for v in INVALID], ids=[v[0] for v in INVALID]
)
def test_invalid_transitions_keep_the_phase(phase: str, desired: str) -> None:
    d = decide(facts(phase, desired, generation=2, observed_generation=1, terminal_at=NOW - HOUR))
    assert d.phase == phase
    assert d.invalid
    assert not d.want_pod


def test_terminal_spec_unchanged_is_not_a_new_request() -> None:
    d = decide(facts("Expired", "Active", terminal_at=NOW - HOUR))
    assert d.invalid is None
    assert d.phase == "Expired"


def test_idle_counts_from_last_activity() -> None:
    f = facts(
        "Active",
        idle_timeout=timedelta(minutes=10),
        started_at=NOW - HOUR,
        active_since=NOW - HOUR,
        last_activity_at=NOW - timedelta(minutes=2),
        pod=PodState.READY,
    )
    assert decide(f).phase == "Active"


def test_paused_time_is_not_idle() -> None:
    f = facts("Paused", "Paused", idle_timeout=timedelta(minutes=1), started_at=NOW - HOUR)
    assert decide(f).phase == "Paused"


def test_retention_deletes_terminal_sessions_only_when_due() -> None:
    retention = timedelta(days=7)
    assert not decide(facts("Completed", "Completed", terminal_at=NOW - HOUR)).delete_session
    due = facts("Failed", terminal_at=NOW - retention - HOUR, retention=retention)
    assert decide(due).delete_session


@pytest.mark.parametrize(
    "reason",
    ["UserNotFound", "UserHasNoProfile", "ProfileNotFound", "ProfileInvalid", "UserSuspended"],
)
def test_blockers_keep_pending_sessions_podless(reason: str) -> None:
    d = decide(facts("Pending", blocker=Blocker(reason, "why")))
    assert (d.phase, d.reason, d.want_pod) == ("Pending", reason, False)


def test_non_pausing_blocker_leaves_active_running() -> None:
    d = decide(facts("Active", pod=PodState.READY, blocker=Blocker("ProfileInvalid", "x")))
    assert (d.phase, d.want_pod) == ("Active", True)


def test_suspended_user_cannot_resume() -> None:
    d = decide(facts("Paused", blocker=Blocker("UserSuspended", "x", pauses=True)))
    assert (d.phase, d.want_pod) == ("Paused", False)


def test_decide_is_idempotent() -> None:
    f = facts("Pending", pod=PodState.READY)
    assert decide(f) == decide(f)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h30m", 5400), ("7d", 604800)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "5", "1x", "m5", "1h 2m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
