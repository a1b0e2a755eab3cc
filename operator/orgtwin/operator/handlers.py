"""Every kopf decorator of the operator, in one place; each handler is a thin call into plain code.

``register`` binds the handlers to a registry with the settings read at start-up,
so importing this module has no side effects and tests can run several operators.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import kopf

from orgtwin.core import k8s
from orgtwin.operator import kube, profiles, sessions, ticks
from orgtwin.operator.builders.meta import COMPONENT_AGENT, MANAGED_BY
from orgtwin.operator.fsm import PodState
from orgtwin.operator.runtime import Lookups, ProfileRecord, Runtime
from orgtwin.operator.settings import OperatorSettings

log = logging.getLogger("orgtwin.operator")

PROFILE = (k8s.GROUP, k8s.VERSION, k8s.PROFILE_PLURAL)
USER = (k8s.GROUP, k8s.VERSION, k8s.USER_PLURAL)
SESSION = (k8s.GROUP, k8s.VERSION, k8s.SESSION_PLURAL)
STORAGE_PREFIX = k8s.GROUP
FINALIZER = f"{k8s.GROUP}/operator"


def lookups_from(kw: dict[str, Any]) -> Lookups:
    """Plain read functions over the kopf indexes passed to every handler."""
    profile_idx: kopf.Index[Any, Any] = kw["profile_idx"]
    user_idx: kopf.Index[Any, Any] = kw["user_idx"]
    links: kopf.Index[Any, Any] = kw["user_links"]
    by_user: kopf.Index[Any, Any] = kw["session_idx"]
    pods: kopf.Index[Any, Any] = kw["pod_idx"]

    def one(index: kopf.Index[Any, Any], key: Any) -> Any:
        return next(iter(index.get(key, [])), None)

    return Lookups(
        profile=lambda ns, name: one(profile_idx, (ns, name)),
        user=lambda ns, name: one(user_idx, (ns, name)),
        users_of_profile=lambda ns, name: sorted(links.get(("profile", ns, name), [])),
        user_by_employee=lambda ns, eid: one(links, ("employee", ns, eid)),
        sessions_of_user=lambda ns, name: sorted(by_user.get((ns, name), [])),
        reports_of=lambda ns, eid: sorted(links.get(("manager", ns, eid), [])),
        pod_state=lambda ns, session: one(pods, (ns, k8s.dns_label(session))),
    )


def _guard(settings: OperatorSettings, call: Any, *args: Any) -> None:
    """Map transient API trouble to a bounded kopf retry; everything else is kopf's default."""
    try:
        call(*args)
    except kube.KubeUnavailableError as exc:
        raise kopf.TemporaryError(str(exc), delay=settings.retry_delay_seconds) from exc


def _profile_and_users(rt: Runtime, found: Lookups, namespace: str, name: str) -> None:
    """Reconcile a profile; when its generation or hash moved, re-resolve its users."""
    if profiles.reconcile_profile(rt, found, namespace, name):
        for user in found.users_of_profile(namespace, name):
            profiles.reconcile_user(rt, found, namespace, user)


def _retrying(settings: OperatorSettings, call: Any, *args: Any, attempts: int = 3) -> None:
    """For event handlers, which kopf never retries: a few bounded retries, then give up."""
    for attempt in range(attempts):
        try:
            call(*args)
            return
        except kube.KubeUnavailableError:
            if attempt == attempts - 1:
                log.warning("reconcile.gave_up", extra={"fields": {"attempts": attempts}})
                return
            time.sleep(settings.retry_delay_seconds)


def configure_kopf(kopf_settings: kopf.OperatorSettings, settings: OperatorSettings) -> None:
    # Status schemas are structural: kopf keeps its bookkeeping in annotations instead.
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=STORAGE_PREFIX
    )
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=STORAGE_PREFIX, key="last-handled-configuration"
    )
    # kopf timers need a finalizer so they stop before the object goes; name it ours.
    kopf_settings.persistence.finalizer = FINALIZER
    # A timer caught mid-run on deletion is re-checked after this long (kopf: 60 s), which
    # would hold the finalizer, and so the deletion, for a minute.
    kopf_settings.background.cancellation_polling = 1.0
    # We post our own Events (one per transition); kopf's per-handler ones are noise.
    kopf_settings.posting.enabled = False
    kopf_settings.execution.max_workers = settings.max_workers
    # A burst (1,000 users at once) would otherwise get a worker and its bodies in memory per
    # object; with a limit, a worker idle for 0.5 s (kopf: 5 s) frees its slot for the next.
    kopf_settings.queueing.worker_limit = settings.object_workers
    kopf_settings.queueing.idle_timeout = 0.5
    kopf_settings.peering.lifetime = settings.peering_lifetime_seconds
    kopf_settings.peering.mandatory = not settings.standalone
    kopf_settings.peering.stealth = True
    kopf_settings.watching.server_timeout = 300
    kopf_settings.networking.error_backoffs = [1, 2, 5, 10]


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings) -> None:
    """Attach every handler to ``registry``."""
    state: dict[str, Any] = {}
    pods_seen: dict[str, PodState] = {}
    pods_lock = threading.Lock()

    def rt() -> Runtime:
        runtime: Runtime = state["rt"]
        return runtime

    @kopf.on.startup(registry=registry, id="startup")
    def startup(**kw: Any) -> None:
        configure_kopf(kw["settings"], settings)
        api = kube.new_api_client(settings.kubeconfig, settings.max_workers + 4)
        state["rt"] = Runtime(settings=settings, kube=kube.Kube(api))
        rt().metrics.serve(settings.listen_host, settings.metrics_port)
        fields = {"namespaces": settings.watched_namespaces()}
        log.info("operator.started", extra={"fields": fields})

    @kopf.on.cleanup(registry=registry, id="cleanup")
    def cleanup(**_: Any) -> None:
        runtime = state.get("rt")
        if runtime is not None:
            runtime.kube.api.close()
        log.info("operator.stopped")

    @kopf.on.login(registry=registry, id="login")
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kube.connection_info(settings.kubeconfig)

    # ------------------------------------------------------------------ indexes
    @kopf.index(*PROFILE, registry=registry, id="profile_idx")
    def profile_idx(**kw: Any) -> dict[Any, Any]:
        namespace = kw["namespace"]
        name = kw["name"]
        body = kw["body"]
        meta = body["metadata"]
        record = ProfileRecord(
            name, meta["uid"], int(meta.get("generation", 1)), dict(body.get("spec") or {})
        )
        return {(namespace, name): record}

    @kopf.index(*USER, registry=registry, id="user_idx")
    def user_idx(**kw: Any) -> dict[Any, Any]:
        namespace = kw["namespace"]
        name = kw["name"]
        body = kw["body"]
        spec = body.get("spec") or {}
        # Only what reconciles read: no names or emails kept in memory.
        return {
            (namespace, name): {
                "suspended": bool(spec.get("suspended")),
                "profileRef": spec.get("profileRef", ""),
            }
        }

    @kopf.index(*USER, registry=registry, id="user_links")
    def user_links(**kw: Any) -> dict[Any, Any]:
        namespace = kw["namespace"]
        name = kw["name"]
        body = kw["body"]
        spec = body.get("spec") or {}
        links = {("employee", namespace, spec.get("employeeId", "")): name}
        if spec.get("profileRef"):
            links[("profile", namespace, spec["profileRef"])] = name
        if spec.get("managerId"):
            links[("manager", namespace, spec["managerId"])] = name
        return links

    @kopf.index(
        "",
        "v1",
        "pods",
        labels={k8s.LABEL_COMPONENT: COMPONENT_AGENT, k8s.LABEL_MANAGED_BY: MANAGED_BY},
        registry=registry,
        id="pod_idx",
    )
    def pod_idx(**kw: Any) -> dict[Any, Any]:
        body = kw["body"]
        session = body["metadata"].get("labels", {}).get(k8s.LABEL_SESSION, "")
        return {(kw["namespace"], session): sessions.pod_state_of(body).value}

    @kopf.index(*SESSION, registry=registry, id="session_idx")
    def session_idx(**kw: Any) -> dict[Any, Any]:
        namespace = kw["namespace"]
        name = kw["name"]
        body = kw["body"]
        return {(namespace, (body.get("spec") or {}).get("userRef", "")): name}

    # ------------------------------------------------------------------ profiles
    @kopf.on.resume(*PROFILE, registry=registry, id="profile_changed")
    @kopf.on.create(*PROFILE, registry=registry, id="profile_changed")
    @kopf.on.update(*PROFILE, registry=registry, id="profile_changed")
    def profile_changed(**kw: Any) -> None:
        _guard(settings, _profile_and_users, rt(), lookups_from(kw), kw["namespace"], kw["name"])

    @kopf.timer(
        *PROFILE, interval=settings.profile_timer_seconds, registry=registry, id="profile_recount"
    )
    def profile_recount(**kw: Any) -> None:
        _guard(settings, _profile_and_users, rt(), lookups_from(kw), kw["namespace"], kw["name"])

    @kopf.on.event(*PROFILE, registry=registry, id="profile_event")
    def profile_event(**kw: Any) -> None:
        event_type = kw["type"]
        namespace = kw["namespace"]
        name = kw["name"]
        if event_type == "DELETED":
            found = lookups_from(kw)
            for user in found.users_of_profile(namespace, name):
                _guard(settings, profiles.reconcile_user, rt(), found, namespace, user)

    # ------------------------------------------------------------------ users
    # Users are reconciled from watch events, not change handlers: kopf then keeps no
    # diff-base annotation (a copy of the spec, names and emails) and writes nothing.
    # The initial listing (type None) catches up after downtime; our own status writes
    # are recognised by resourceVersion and skipped.

    @kopf.on.event(*USER, registry=registry, id="user_event")
    def user_event(**kw: Any) -> None:
        event_type = kw["type"]
        namespace = kw["namespace"]
        name = kw["name"]
        body = kw["body"]
        found = lookups_from(kw)
        if event_type == "DELETED":
            for session in found.sessions_of_user(namespace, name):
                _retrying(settings, sessions.reconcile, rt(), found, namespace, session)
            return
        if rt().is_own_write(
            profiles.USER_KIND, namespace, name, body["metadata"]["resourceVersion"]
        ):
            return
        _retrying(settings, profiles.reconcile_user, rt(), found, namespace, name, dict(body))
        if event_type == "ADDED":
            employee = (body.get("spec") or {}).get("employeeId", "")
            for report in found.reports_of(namespace, employee):
                _retrying(settings, profiles.reconcile_user, rt(), found, namespace, report)
        if event_type == "MODIFIED":
            for session in found.sessions_of_user(namespace, name):
                _retrying(settings, sessions.reconcile, rt(), found, namespace, session)

    # ------------------------------------------------------------------ sessions
    @kopf.on.resume(*SESSION, registry=registry, id="session_changed")
    @kopf.on.create(*SESSION, registry=registry, id="session_changed")
    @kopf.on.update(*SESSION, registry=registry, id="session_changed")
    def session_changed(**kw: Any) -> None:
        _guard(settings, sessions.reconcile, rt(), lookups_from(kw), kw["namespace"], kw["name"])

    @kopf.timer(
        *SESSION, interval=settings.session_timer_seconds, registry=registry, id="session_tick"
    )
    def session_tick(**kw: Any) -> None:
        namespace = kw["namespace"]
        name = kw["name"]
        found = lookups_from(kw)
        if ticks.tick_needed(found, namespace, kw["body"], datetime.now(UTC)):
            _guard(settings, sessions.reconcile, rt(), found, namespace, name)

    @kopf.on.event(
        "",
        "v1",
        "pods",
        labels={k8s.LABEL_COMPONENT: COMPONENT_AGENT, k8s.LABEL_MANAGED_BY: MANAGED_BY},
        registry=registry,
        id="pod_event",
    )
    def pod_event(**kw: Any) -> None:
        event_type = kw["type"]
        namespace = kw["namespace"]
        body = kw["body"]
        owner = next(
            (
                o["name"]
                for o in body["metadata"].get("ownerReferences", [])
                if o.get("kind") == sessions.KIND and o.get("controller")
            ),
            None,
        )
        if owner is None:
            return
        uid = body["metadata"]["uid"]
        current = sessions.pod_state_of(body)
        with pods_lock:
            before = pods_seen.pop(uid, None) if event_type == "DELETED" else pods_seen.get(uid)
            if event_type != "DELETED":
                pods_seen[uid] = current
        interesting = current in (PodState.READY, PodState.FAILED) and before is not current
        if event_type == "DELETED" or interesting:
            # kopf never retries event handlers: retry transient failures here; the session
            # tick compares the pod index with the phase and catches anything still missed.
            _retrying(settings, sessions.reconcile, rt(), lookups_from(kw), namespace, owner)
