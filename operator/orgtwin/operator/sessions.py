"""Reconcile one AgentSession: observe, ask the state machine, converge children and status.

Runs under the session's lock with a fresh GET of the session, so kopf's
handlers, the session timer and pod events never act on a stale status.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from orgtwin.core import k8s, tokens
from orgtwin.core.crds.models import (
    TERMINAL_PHASES,
    AgentSessionSpec,
    AgentSessionStatus,
    SessionDefaults,
)
from orgtwin.operator import builders, conditions
from orgtwin.operator.builders.meta import Owner, SessionContext
from orgtwin.operator.conditions import parse_time
from orgtwin.operator.fsm import (
    DEFAULT_IDLE,
    DEFAULT_MAX,
    DEFAULT_RETENTION,
    Blocker,
    Decision,
    Facts,
    PodState,
    decide,
    parse_duration,
)
from orgtwin.operator.runtime import Lookups, ResolvedProfile, Runtime

log = logging.getLogger("orgtwin.operator.sessions")

KIND = "AgentSession"
_PHASE_STAMP = {
    "Active": "started_at",
    "Paused": "paused_at",
    "Completed": "completed_at",
    "Failed": "failed_at",
    "Expired": "expired_at",
}


def pod_state_of(body: Any) -> PodState:
    """The same classification as ``pod_state``, from a raw Pod body (watch events)."""
    if body["metadata"].get("deletionTimestamp"):
        return PodState.TERMINATING
    status = body.get("status") or {}
    phase = status.get("phase")
    if phase in ("Failed", "Succeeded"):
        return PodState.FAILED
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return PodState.READY if phase == "Running" and ready else PodState.STARTING


def resolve_user(
    rt: Runtime, lookups: Lookups, namespace: str, user_ref: str
) -> tuple[Blocker | None, ResolvedProfile | None]:
    """The user's current profile, or why the session cannot run."""
    user = lookups.user(namespace, user_ref)
    if user is None:
        return Blocker(
            "UserNotFound", "the OrgUser named in spec.userRef does not exist", True
        ), None
    if user.get("suspended"):
        return Blocker("UserSuspended", "the user is suspended", pauses=True), None
    profile_ref = user.get("profileRef") or ""
    if not profile_ref:
        return Blocker("UserHasNoProfile", "the user has no profileRef assigned"), None
    record = lookups.profile(namespace, profile_ref)
    if record is None:
        return Blocker("ProfileNotFound", "the user's AgentProfile does not exist"), None
    resolved = rt.resolve_profile(namespace, record)
    if resolved.error is not None:
        message = f"the user's AgentProfile is invalid ({resolved.error.reason})"
        return Blocker("ProfileInvalid", message), resolved
    return None, resolved


def duration(*candidates: str | None) -> timedelta:
    for text in candidates:
        if text:
            try:
                return parse_duration(text)
            except ValueError:
                continue
    raise AssertionError("a default duration is always valid")


def _facts(
    body: dict[str, Any],
    spec: AgentSessionSpec,
    status: AgentSessionStatus,
    pod: PodState,
    blocker: Blocker | None,
    profile: ResolvedProfile | None,
    now: datetime,
) -> Facts:
    defaults = profile.spec.session if profile and profile.spec else SessionDefaults()
    failure = status.failure_request
    terminal_stamp = {
        "Completed": status.completed_at,
        "Failed": status.failed_at,
        "Expired": status.expired_at,
    }.get(status.phase or "")
    ready = conditions.get(status.conditions, conditions.READY)
    return Facts(
        reason=ready.reason if ready else "",
        message=ready.message if ready else "",
        phase=status.phase,
        desired=spec.desired_state,
        generation=int(body["metadata"].get("generation", 1)),
        observed_generation=status.observed_generation,
        pod=pod,
        now=now,
        blocker=blocker,
        failure_reason=failure.reason if failure else None,
        failure_message=failure.message if failure else "",
        started_at=parse_time(status.started_at),
        active_since=parse_time(status.last_transition_at) if status.phase == "Active" else None,
        last_activity_at=parse_time(status.last_activity_at),
        terminal_at=parse_time(terminal_stamp) or parse_time(status.last_transition_at),
        idle_timeout=duration(spec.idle_timeout, defaults.idle_timeout, DEFAULT_IDLE),
        max_duration=duration(spec.max_duration, defaults.max_duration, DEFAULT_MAX),
        retention=duration(defaults.retention, DEFAULT_RETENTION),
    )


def _mint(rt: Runtime, ctx: SessionContext, started: datetime, max_duration: timedelta) -> str:
    claims = tokens.SessionClaims(
        session=ctx.session.name,
        user=ctx.user,
        profile=ctx.profile_name,
        role=ctx.profile.role,
        namespace=ctx.namespace,
        expires_at=int((started + max_duration).timestamp()),
    )
    return tokens.mint(rt.signing_key(ctx.namespace), claims)


def _create_children(rt: Runtime, ctx: SessionContext, facts: Facts, resuming: bool) -> None:
    """NetworkPolicy first, so the pod never runs unfenced; then the token; then the pod."""
    rt.kube.create(builders.network_policy(ctx))
    started = facts.started_at or facts.now
    secret = builders.token_secret(ctx, _mint(rt, ctx, started, facts.max_duration))
    if resuming:
        rt.kube.replace_secret(secret)  # a fresh token naming the (possibly new) profile
    else:
        rt.kube.create(secret)
    rt.kube.create(builders.pod(ctx))


def status_patch(
    status: AgentSessionStatus,
    d: Decision,
    generation: int,
    now: str,
    pin: ResolvedProfile | None,
    profile: ResolvedProfile | None,
    pod_name: str,
    secret_name: str,
) -> dict[str, Any]:
    old_phase = status.phase
    updates: dict[str, Any] = {
        "phase": d.phase,
        "observed_generation": generation,
        "message": d.message,
        "pod_name": pod_name,
        "token_secret_name": secret_name,
    }
    if d.phase != old_phase:
        updates["last_transition_at"] = now
        stamp = _PHASE_STAMP.get(d.phase)
        if stamp and not (stamp == "started_at" and status.started_at):
            updates[stamp] = now
    if pin is not None and pin.spec is not None:
        updates.update(
            profile_ref=pin.name,
            profile_generation=pin.generation,
            config_hash=pin.config_hash,
            role=pin.role,
        )
    conds = status.conditions
    ready = conditions.make(
        conditions.READY, "True" if d.ready else "False", d.reason, d.message, generation, now
    )
    conds = conditions.set_condition(conds, ready)
    if d.invalid:
        conds = conditions.set_condition(
            conds,
            conditions.make(
                conditions.TRANSITION_VALID,
                "False",
                "InvalidTransition",
                d.invalid,
                generation,
                now,
            ),
        )
    elif (
        conditions.get(conds, conditions.TRANSITION_VALID) is not None
        and generation != status.observed_generation
    ):
        # Only a new request clears a refusal: a later pass for another reason (the pod
        # going away, the timer) must not report the refused request as accepted.
        conds = conditions.set_condition(
            conds,
            conditions.make(
                conditions.TRANSITION_VALID,
                "True",
                "Accepted",
                "requested state is valid",
                generation,
                now,
            ),
        )
    pinned_gen = pin.generation if pin else status.profile_generation
    if d.phase not in TERMINAL_PHASES and profile and profile.spec and pinned_gen is not None:
        outdated = profile.generation != pinned_gen
        conds = conditions.set_condition(
            conds,
            conditions.make(
                conditions.PROFILE_OUTDATED,
                "True" if outdated else "False",
                "ProfileChanged" if outdated else "UpToDate",
                "the profile changed after this session started; resume or start a new session"
                if outdated
                else "running the current profile generation",
                generation,
                now,
            ),
        )
    new = status.model_copy(update={**updates, "conditions": conds})
    dump = new.model_dump(by_alias=True, exclude_none=True, mode="json")
    # Fields the api and proxy own are never written back from a possibly older read.
    for owned_elsewhere in ("failureRequest", "lastActivityAt"):
        dump.pop(owned_elsewhere, None)
    return dump


def _context(
    namespace: str, body: dict[str, Any], user: str, profile: ResolvedProfile, rt: Runtime
) -> SessionContext:
    assert profile.spec is not None
    meta = body["metadata"]
    return SessionContext(
        namespace=namespace,
        session=Owner(KIND, meta["name"], meta["uid"]),
        user=user,
        profile_name=profile.name,
        profile=profile.spec,
        config_hash=profile.config_hash,
        profile_generation=profile.generation,
        settings=rt.settings,
    )


def _announce(
    rt: Runtime, body: dict[str, Any], old: dict[str, Any], d: Decision, facts: Facts
) -> None:
    """Event + one log line for a transition, an invalid request or a new blocker."""
    name = body["metadata"]["name"]
    ns = body["metadata"]["namespace"]
    old_phase = old.get("phase")
    old_ready = conditions.get(AgentSessionStatus.model_validate(old).conditions, conditions.READY)
    fields: dict[str, Any] = {"namespace": ns, "session": name, "from": old_phase, "to": d.phase}
    created = old_phase is None and d.phase == "Pending"
    if d.transition_from(old_phase) or old_phase is None:
        if not created:  # creation is no transition: a log line, but no Event to write
            warn = d.phase == "Failed"
            rt.kube.event(body, KIND, "Warning" if warn else "Normal", d.reason, d.message)
        rt.metrics.transitions.labels(old_phase or "None", d.phase).inc()
        log.info("session.transition", extra={"fields": {**fields, "reason": d.reason}})
    if (created or not d.transition_from(old_phase)) and (
        facts.blocker is not None and (old_ready is None or old_ready.reason != d.reason)
    ):
        rt.kube.event(body, KIND, "Warning", d.reason, d.message)
        log.warning("session.blocked", extra={"fields": {**fields, "reason": d.reason}})
    if d.invalid and facts.generation != facts.observed_generation:
        rt.kube.event(body, KIND, "Warning", "InvalidTransition", d.invalid)
        log.warning(
            "session.invalid_transition",
            extra={"fields": {**fields, "desired": facts.desired, "reason": "InvalidTransition"}},
        )


def reconcile(
    rt: Runtime,
    lookups: Lookups,
    namespace: str,
    name: str,
    now: datetime | None = None,
) -> None:
    """Bring one session to the state its spec, its user, its pod and the clock call for."""
    key = f"{namespace}/{name}"
    with rt.lock(KIND, namespace, name), rt.metrics.reconcile(KIND):
        # Always read: a body handed over by kopf may predate a write still in flight from
        # an earlier pass or a killed predecessor (the SIGKILL test found exactly that).
        body = rt.kube.get(k8s.SESSION_PLURAL, namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            rt.metrics.set_phase(key, None)
            return
        moment = now or datetime.now(UTC)
        spec = AgentSessionSpec.model_validate(body.get("spec") or {})
        raw_status: dict[str, Any] = body.get("status") or {}
        status = AgentSessionStatus.model_validate(raw_status)
        blocker, profile = resolve_user(rt, lookups, namespace, spec.user_ref)
        pod_name = k8s.session_pod_name(name)
        pod_body = rt.kube.get_pod(namespace, pod_name)
        pod = pod_state_of(pod_body) if pod_body is not None else PodState.ABSENT
        facts = _facts(body, spec, status, pod, blocker, profile, moment)
        d = decide(facts)
        if d.delete_session:
            rt.kube.delete_custom(k8s.SESSION_PLURAL, namespace, name)
            rt.metrics.set_phase(key, None)
            log.info(
                "session.deleted",
                extra={"fields": {"namespace": namespace, "session": name, "reason": d.reason}},
            )
            return
        runnable = profile is not None and profile.spec is not None and blocker is None
        ctx = (
            _context(namespace, body, spec.user_ref, profile, rt) if runnable and profile else None
        )
        pin = None
        if d.want_pod and ctx is not None and pod is PodState.ABSENT:
            _create_children(rt, ctx, facts, resuming=status.phase == "Paused")
            pin = profile
        pod_left = not d.want_pod and pod in (PodState.READY, PodState.STARTING, PodState.FAILED)
        # On entering a terminal phase the token goes, whether or not an earlier pass
        # (perhaps killed before writing status) recorded its name.
        token_left = d.phase in TERMINAL_PHASES and (
            status.phase not in TERMINAL_PHASES or bool(status.token_secret_name)
        )
        secret_name = status.token_secret_name
        if pin is not None or pod is not PodState.ABSENT or token_left:
            secret_name = k8s.session_secret_name(name)
        has_pod = d.want_pod and (pin is not None or pod is not PodState.ABSENT)
        stamp = conditions.now_rfc3339(moment)

        def write(current: dict[str, Any], secret: str) -> dict[str, Any]:
            patch = status_patch(
                AgentSessionStatus.model_validate(current),
                d,
                facts.generation,
                stamp,
                pin,
                profile,
                pod_name if has_pod else "",
                secret,
            )
            if patch != {k: v for k, v in current.items() if k in patch} or set(patch) - set(
                current
            ):
                rv = rt.kube.patch_status(k8s.SESSION_PLURAL, namespace, name, patch)
                rt.wrote(KIND, namespace, name, rv or "gone")
            return {**current, **patch}

        current = raw_status
        if d.phase in TERMINAL_PHASES and (pod_left or token_left):
            # Record the terminal phase before removing the evidence: a kill between the
            # two then leaves a terminal session whose leftovers the next pass removes, not
            # an Active session without its failed pod, which would start a new one.
            current = write(current, secret_name)
        if pod_left:
            rt.kube.delete("Pod", namespace, pod_name)
        if token_left:
            rt.kube.delete("Secret", namespace, k8s.session_secret_name(name))
            secret_name = ""
        write(current, secret_name)
        rt.metrics.set_phase(key, d.phase)
        _announce(rt, body, raw_status, d, facts)
