"""Kubernetes side of the proxy: a watch cache of AgentProfiles and OrgUsers, and activity patches.

The cache lists once, then watches from the list's resourceVersion in a daemon thread,
relisting after errors or an expired version, so profile edits reach the proxy within
a watch event instead of a poll interval.
"""

# The kubernetes client ships without type hints.
# mypy: disable-error-code="no-untyped-call,no-any-return"

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, watch
from pydantic import ValidationError

from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.core.kubeconfig import load_configuration
from orgtwin.core.privacy import Directory

log = logging.getLogger("orgtwin.proxy.kube")


def cluster_configuration(kubeconfig: str | None) -> client.Configuration:
    """``kubeconfig``, else in-cluster, else ~/.kube/config; StartupError without any."""
    standalone = ", or ORGTWIN_PROXY_PROFILES_FILE to run standalone"
    return load_configuration(kubeconfig, "ORGTWIN_PROXY_KUBECONFIG", standalone)


def api_client(kubeconfig: str | None) -> client.ApiClient:
    """The cluster's API, as cluster_configuration finds it."""
    return client.ApiClient(cluster_configuration(kubeconfig))


class _Watch(threading.Thread):
    """List + watch one plural in one namespace into a dict of name -> raw object."""

    def __init__(self, api: client.ApiClient, namespace: str, plural: str, on_change: Any) -> None:
        super().__init__(name=f"watch-{plural}", daemon=True)
        self._custom = client.CustomObjectsApi(api)
        self._namespace = namespace
        self._plural = plural
        self._on_change = on_change
        self.items: dict[str, dict[str, Any]] = {}
        self.synced = threading.Event()
        self._stop = threading.Event()
        self._watch: watch.Watch | None = None

    def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._list_and_watch()
            except Exception as exc:  # noqa: BLE001 - any failure means relist after a pause
                log.warning(
                    "watch.error",
                    extra={"fields": {"plural": self._plural, "error_type": type(exc).__name__}},
                )
                self._stop.wait(2.0)

    def _list_and_watch(self) -> None:
        listing = cast(
            "dict[str, Any]",
            self._custom.list_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, self._namespace, self._plural
            ),
        )
        self.items = {o["metadata"]["name"]: o for o in listing.get("items", [])}
        self._on_change()
        self.synced.set()
        version = listing["metadata"]["resourceVersion"]
        self._watch = watch.Watch()
        for event in self._watch.stream(
            self._custom.list_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self._namespace,
            self._plural,
            resource_version=version,
            timeout_seconds=300,
        ):
            if self._stop.is_set():
                return
            obj = event["object"]
            if event["type"] == "ERROR":
                return
            name = obj["metadata"]["name"]
            if event["type"] == "DELETED":
                self.items.pop(name, None)
            else:
                self.items[name] = obj
            self._on_change()


class KubeProfiles:
    """A ProfileSource backed by watches of the tenant namespace."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._directory: Directory | None = None
        self._users_dirty = True
        self._profiles = _Watch(api, namespace, k8s.PROFILE_PLURAL, lambda: None)
        self._users = _Watch(api, namespace, k8s.USER_PLURAL, self._users_changed)
        self._sessions = _Watch(api, namespace, k8s.SESSION_PLURAL, lambda: None)
        self._watches = (self._profiles, self._users, self._sessions)

    def start(self) -> None:
        for w in self._watches:
            w.start()

    def stop(self) -> None:
        for w in self._watches:
            w.stop()

    def session_usable(self, name: str) -> bool:
        """A token stops working when its session leaves Active (or never existed)."""
        obj = self._sessions.items.get(name)
        if obj is None:
            return False
        phase = (obj.get("status") or {}).get("phase")
        # Pending: the pod may call before the operator has observed it Ready.
        return phase in (None, "Pending", "Active")

    def _users_changed(self) -> None:
        with self._lock:
            self._users_dirty = True

    def profile(self, name: str) -> AgentProfileSpec | None:
        obj = self._profiles.items.get(name)
        if obj is None:
            return None
        try:
            return AgentProfileSpec.model_validate(obj.get("spec", {}))
        except ValidationError:
            return None

    def directory(self) -> tuple[int, Directory | None]:
        with self._lock:
            if self._users_dirty:
                people = []
                for obj in list(self._users.items.values()):
                    try:
                        spec = OrgUserSpec.model_validate(obj.get("spec", {}))
                    except ValidationError:
                        continue
                    people.append((spec.display_name, spec.email, spec.employee_id))
                self._directory = Directory.from_people(people)
                self._version += 1
                self._users_dirty = False
            return self._version, self._directory

    def ready(self) -> bool:
        return all(w.synced.is_set() for w in self._watches)


class ActivityRecorder:
    """Patches AgentSession status.lastActivityAt, at most once per interval per session."""

    def __init__(self, api: client.ApiClient | None, namespace: str, interval: float) -> None:
        self._custom = client.CustomObjectsApi(api) if api is not None else None
        self._namespace = namespace
        self._interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.patches = 0

    def due(self, session: str) -> bool:
        """Claim the right to patch now; False while the session's interval has not passed."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(session)
            if last is not None and now - last < self._interval:
                return False
            self._last[session] = now
            if len(self._last) > 100_000:
                self._last.clear()
            return True

    def record(self, session: str) -> None:
        """Blocking: call from a worker thread."""
        if self._custom is None:
            return
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._custom.patch_namespaced_custom_object_status(
                k8s.GROUP,
                k8s.VERSION,
                self._namespace,
                k8s.SESSION_PLURAL,
                session,
                {"status": {"lastActivityAt": stamp}},
            )
            self.patches += 1
        except Exception as exc:  # noqa: BLE001 - activity is best effort; the call itself succeeded
            log.warning(
                "activity.patch_failed",
                extra={"fields": {"session": session, "error_type": type(exc).__name__}},
            )
