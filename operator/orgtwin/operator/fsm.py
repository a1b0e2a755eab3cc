"""The AgentSession state machine, as a pure function of what the operator observes.

    Pending -> Active <-> Paused -> Completed
    Active | Paused -> Failed | Expired

Also (documented in docs/operator.md): Active -> Completed, and Pending -> Failed
when the pod dies before it ever became Ready or the api requests a failure.
Completed, Failed and Expired are terminal. ``decide`` never performs I/O: the
handlers turn its ``Decision`` into API calls, conditions, an Event and a log line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from orgtwin.core.crds.models import TERMINAL_PHASES

_DURATION = re.compile(r"([0-9]+)(s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

DEFAULT_IDLE = "30m"
DEFAULT_MAX = "8h"
DEFAULT_RETENTION = "7d"


def parse_duration(text: str) -> timedelta:
    """``1h30m`` -> 5400 s; raises ValueError on anything else."""
    if not text or _DURATION.sub("", text):
        raise ValueError("duration must look like 30s, 15m, 8h, 7d or 1h30m")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))
    return timedelta(seconds=seconds)


class PodState(enum.Enum):
    """What the session's Pod is doing, reduced to what the lifecycle needs."""

    ABSENT = "Absent"
    STARTING = "Starting"  # exists, not (yet) Ready
    READY = "Ready"
    FAILED = "Failed"  # phase Failed or Succeeded: the agent is gone for good
    TERMINATING = "Terminating"


@dataclass(frozen=True)
class Blocker:
    """Why a session cannot run right now (user or profile problem)."""

    reason: str
    message: str
    pauses: bool = False  # also pauses an Active session (suspended or deleted user)


@dataclass(frozen=True)
class Facts:
    """Everything ``decide`` looks at."""

    phase: str | None
    desired: str
    generation: int
    observed_generation: int | None
    pod: PodState
    now: datetime
    blocker: Blocker | None = None
    failure_reason: str | None = None
    failure_message: str = ""
    started_at: datetime | None = None
    active_since: datetime | None = None
    last_activity_at: datetime | None = None
    terminal_at: datetime | None = None
    idle_timeout: timedelta = timedelta(minutes=30)
    max_duration: timedelta = timedelta(hours=8)
    retention: timedelta = timedelta(days=7)
    # Why the session reached its current phase, kept once it is terminal.
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class Decision:
    """What the session should look like, and which children it should have."""

    phase: str
    reason: str
    message: str
    want_pod: bool = False
    want_secret: bool = False
    delete_session: bool = False
    invalid: str | None = None
    ready: bool = False

    def transition_from(self, old: str | None) -> bool:
        return self.phase != (old or "Pending")


def _terminal(f: Facts, phase: str) -> Decision:
    if f.terminal_at is not None and f.now >= f.terminal_at + f.retention:
        return Decision(phase, "RetentionElapsed", "retention elapsed", delete_session=True)
    invalid = None
    if f.desired != phase and f.generation != f.observed_generation:
        invalid = f"cannot move a {phase} session to {f.desired}: {phase} is terminal"
    return Decision(phase, f.reason or phase, f.message or f"session is {phase}", invalid=invalid)


def _expiry(f: Facts, phase: str) -> Decision | None:
    if f.started_at is not None and f.now >= f.started_at + f.max_duration:
        return Decision("Expired", "MaxDurationExceeded", "maximum duration reached")
    if phase == "Active":
        marks = [t for t in (f.last_activity_at, f.active_since, f.started_at) if t is not None]
        if marks and f.now >= max(marks) + f.idle_timeout:
            return Decision("Expired", "IdleTimeout", "no activity within the idle timeout")
    return None


def decide(f: Facts) -> Decision:
    """The next state of a session; idempotent for unchanged facts."""
    phase = f.phase or "Pending"
    if phase in TERMINAL_PHASES:
        return _terminal(f, phase)
    if f.failure_reason:
        return Decision("Failed", f.failure_reason, f.failure_message or "failure requested")
    if f.pod is PodState.FAILED:
        return Decision("Failed", "PodFailed", "the agent pod failed")
    if phase in ("Active", "Paused"):
        expired = _expiry(f, phase)
        if expired is not None:
            return expired
    if f.desired == "Completed":
        if phase in ("Active", "Paused"):
            return Decision("Completed", "Completed", "session completed")
        return Decision(
            phase, "NotStarted", "waiting", invalid="cannot complete a session that never started"
        )
    if f.blocker is not None and f.blocker.pauses and phase == "Active":
        return Decision("Paused", f.blocker.reason, f.blocker.message, want_secret=True)
    if f.blocker is not None and phase != "Active":
        return Decision(phase, f.blocker.reason, f.blocker.message)
    if f.desired == "Paused":
        if phase == "Active":
            return Decision("Paused", "Paused", "session paused", want_secret=True)
        if phase == "Paused":
            return Decision("Paused", "Paused", "session paused", want_secret=True)
        return Decision(
            phase, "NotStarted", "waiting", invalid="cannot pause a session that never started"
        )
    # desired Active
    if f.pod is PodState.READY:
        reason = {"Pending": "Started", "Paused": "Resumed"}.get(phase, "Running")
        return Decision("Active", reason, "agent pod is ready", True, True, ready=True)
    reason = {"Pending": "Starting", "Paused": "Resuming"}.get(phase, "PodNotReady")
    return Decision(phase, reason, "waiting for the agent pod to become ready", True, True)
