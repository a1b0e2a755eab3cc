"""Where the proxy reads profiles and the org directory: a YAML file, or a watch cache.

Both sources give the same view: profile name -> AgentProfileSpec, and a Directory of
the namespace's OrgUsers. Engines are cached per profile version and directory version.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import yaml

from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.core.privacy import Directory, Engine


class ProfileSource(Protocol):
    def profile(self, name: str) -> AgentProfileSpec | None: ...

    def directory(self) -> tuple[int, Directory | None]: ...

    def ready(self) -> bool: ...

    def session_usable(self, name: str) -> bool: ...


def _directory(users: list[OrgUserSpec]) -> Directory:
    return Directory.from_people((u.display_name, u.email, u.employee_id) for u in users)


class StaticProfiles:
    """Profiles and users from objects given up front (standalone mode and tests)."""

    def __init__(self, profiles: dict[str, AgentProfileSpec], users: list[OrgUserSpec]) -> None:
        self._profiles = profiles
        self._directory = _directory(users) if users else None

    @classmethod
    def from_yaml(cls, path: Path) -> StaticProfiles:
        """Multi-document YAML of AgentProfile and OrgUser objects, as for kubectl apply."""
        profiles: dict[str, AgentProfileSpec] = {}
        users: list[OrgUserSpec] = []
        with path.open(encoding="utf-8") as fh:
            docs: list[Any] = list(yaml.safe_load_all(fh))
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            kind = doc.get("kind")
            if kind == "AgentProfile":
                profiles[doc["metadata"]["name"]] = AgentProfileSpec.model_validate(doc["spec"])
            elif kind == "OrgUser":
                users.append(OrgUserSpec.model_validate(doc["spec"]))
        return cls(profiles, users)

    def profile(self, name: str) -> AgentProfileSpec | None:
        return self._profiles.get(name)

    def directory(self) -> tuple[int, Directory | None]:
        return 0, self._directory

    def ready(self) -> bool:
        return True

    def session_usable(self, name: str) -> bool:
        # Standalone mode has no AgentSession objects: the token's expiry is the limit.
        return True


class EngineCache:
    """One Engine per (profile spec, directory version); specs are frozen and hashable by JSON."""

    def __init__(self, source: ProfileSource, secret: bytes, max_entries: int = 256) -> None:
        self._source = source
        self._secret = secret
        self._max = max_entries
        self._engines: dict[tuple[str, int], Engine] = {}
        self._lock = threading.Lock()

    def engine(self, spec: AgentProfileSpec) -> Engine:
        version, directory = self._source.directory()
        key = (spec.privacy.model_dump_json(), version)
        with self._lock:
            found = self._engines.get(key)
            if found is not None:
                return found
        engine = Engine.from_policy(spec.privacy, self._secret, directory)
        with self._lock:
            if len(self._engines) >= self._max:
                self._engines.clear()
            self._engines[key] = engine
        return engine
