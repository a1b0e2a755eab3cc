"""The periodic session check, decided in memory so that a quiet session costs no API call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orgtwin.core.crds.models import TERMINAL_PHASES
from orgtwin.operator import conditions
from orgtwin.operator.conditions import parse_time
from orgtwin.operator.fsm import DEFAULT_IDLE, DEFAULT_MAX, DEFAULT_RETENTION, PodState
from orgtwin.operator.runtime import Lookups
from orgtwin.operator.sessions import duration as _duration


def tick_needed(lookups: Lookups, namespace: str, body: Any, now: datetime) -> bool:
    """The periodic check, in memory: True only when a reconcile could change something.

    Deadlines (idle, max duration, retention), a failure request, a session not yet
    settled or a profile that moved on; everything else costs no API call.
    """
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    phase = status.get("phase")
    user = lookups.user(namespace, spec.get("userRef", "")) or {}
    record = lookups.profile(namespace, status.get("profileRef") or user.get("profileRef", ""))
    defaults = (record.raw_spec.get("session") or {}) if record else {}
    if phase in TERMINAL_PHASES:
        stamp = parse_time(status.get("lastTransitionAt"))
        window = _duration(defaults.get("retention"), DEFAULT_RETENTION)
        return stamp is None or now >= stamp + window
    if phase not in ("Active", "Paused") or status.get("failureRequest"):
        return True
    # The pod as the watch last saw it must match the phase (a missed pod event).
    pod = lookups.pod_state(namespace, body["metadata"]["name"])
    if (phase == "Active" and pod != PodState.READY.value) or (
        phase == "Paused" and pod is not None
    ):
        return True
    started = parse_time(status.get("startedAt"))
    max_duration = _duration(spec.get("maxDuration"), defaults.get("maxDuration"), DEFAULT_MAX)
    if started is None or now >= started + max_duration:
        return True
    if phase == "Paused":
        return bool(spec.get("desiredState") != "Paused")
    idle = _duration(spec.get("idleTimeout"), defaults.get("idleTimeout"), DEFAULT_IDLE)
    marks = [
        t
        for t in (
            parse_time(status.get("lastActivityAt")),
            parse_time(status.get("lastTransitionAt")),
            started,
        )
        if t is not None
    ]
    if now >= max(marks) + idle or spec.get("desiredState") != "Active":
        return True
    ready = {c.get("type"): c for c in status.get("conditions") or []}.get(conditions.READY, {})
    if ready.get("status") != "True":
        return True
    outdated: bool = record is not None and record.generation != status.get("profileGeneration")
    current = {c.get("type"): c for c in status.get("conditions") or []}.get(
        conditions.PROFILE_OUTDATED, {}
    )
    shown: bool = current.get("status") == "True"
    return outdated != shown
