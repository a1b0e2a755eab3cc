"""What every reconcile needs, created once at start-up: settings, API access, metrics, locks.

Also the lookups that reconcilers use instead of GETs: kopf indexes keep every
profile and user of the watched namespaces in memory, current as of the watch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orgtwin.core.crds.models import AgentProfileSpec
from orgtwin.core.tokens import new_signing_key
from orgtwin.operator.builders.goose import configmap_data
from orgtwin.operator.builders.meta import config_hash
from orgtwin.operator.builders.secret import signing_secret
from orgtwin.operator.kube import Kube
from orgtwin.operator.metrics import Metrics
from orgtwin.operator.settings import OperatorSettings
from orgtwin.operator.validation import ProfileInvalidError, validate_profile

log = logging.getLogger("orgtwin.operator")

_STRIPES = 256
_KEY_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class ProfileRecord:
    """An AgentProfile as the index holds it."""

    name: str
    uid: str
    generation: int
    raw_spec: dict[str, Any]


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile after validation: either a spec with its config hash, or the error."""

    name: str
    uid: str
    generation: int
    spec: AgentProfileSpec | None
    error: ProfileInvalidError | None
    config_hash: str = ""

    @property
    def role(self) -> str:
        return self.spec.role if self.spec else ""


@dataclass(frozen=True)
class Lookups:
    """Reads served from memory (kopf indexes); each takes (namespace, name)."""

    profile: Callable[[str, str], ProfileRecord | None]
    user: Callable[[str, str], dict[str, Any] | None]
    users_of_profile: Callable[[str, str], list[str]] = lambda _ns, _name: []
    user_by_employee: Callable[[str, str], str | None] = lambda _ns, _id: None
    sessions_of_user: Callable[[str, str], list[str]] = lambda _ns, _name: []
    reports_of: Callable[[str, str], list[str]] = lambda _ns, _id: []
    pod_state: Callable[[str, str], str | None] = lambda _ns, _session: None


@dataclass
class Runtime:
    settings: OperatorSettings
    kube: Kube
    metrics: Metrics = field(default_factory=Metrics)
    _locks: list[threading.Lock] = field(
        default_factory=lambda: [threading.Lock() for _ in range(_STRIPES)]
    )
    _profiles: dict[tuple[str, str, str, int], ResolvedProfile] = field(default_factory=dict)
    _keys: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _own_writes: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def wrote(self, kind: str, namespace: str, name: str, resource_version: str) -> None:
        """Remember our own status write, so its watch event does not trigger a reconcile."""
        with self._guard:
            if resource_version:
                self._own_writes[(kind, namespace, name)] = resource_version
            else:
                self._own_writes.pop((kind, namespace, name), None)

    def has_written(self, kind: str, namespace: str, name: str) -> bool:
        with self._guard:
            return (kind, namespace, name) in self._own_writes

    def is_own_write(self, kind: str, namespace: str, name: str, resource_version: str) -> bool:
        with self._guard:
            return self._own_writes.get((kind, namespace, name)) == resource_version

    @contextmanager
    def lock(self, kind: str, namespace: str, name: str) -> Iterator[None]:
        """Serialise reconciles of one object across kopf's handlers and our triggers."""
        stripe = self._locks[hash((kind, namespace, name)) % _STRIPES]
        with stripe:
            yield

    def resolve_profile(self, namespace: str, record: ProfileRecord) -> ResolvedProfile:
        """Validate and hash a profile, once per generation."""
        key = (namespace, record.name, record.uid, record.generation)
        with self._guard:
            cached = self._profiles.get(key)
        if cached is not None:
            return cached
        try:
            spec = validate_profile(record.raw_spec)
        except ProfileInvalidError as exc:
            resolved = ResolvedProfile(record.name, record.uid, record.generation, None, exc)
        else:
            digest = config_hash(configmap_data(spec, self.settings))
            resolved = ResolvedProfile(
                record.name, record.uid, record.generation, spec, None, digest
            )
        with self._guard:
            if len(self._profiles) > 4096:
                self._profiles.clear()
            self._profiles[key] = resolved
        return resolved

    def signing_key(self, namespace: str) -> bytes:
        """The tenant's signing key, cached briefly; created on a fresh install."""
        now = time.monotonic()
        with self._guard:
            cached = self._keys.get(namespace)
        if cached is not None and now - cached[0] < _KEY_TTL_SECONDS:
            return cached[1]
        key = self.kube.signing_key(namespace, signing_secret(namespace, new_signing_key()))
        with self._guard:
            self._keys[namespace] = (now, key)
        return key
