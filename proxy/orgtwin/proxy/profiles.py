"""Where the proxy reads profiles and the org directory: a YAML file, or a watch cache.

Both sources give the same view: profile name -> AgentProfileSpec, and a Directory of
the namespace's OrgUsers. Engines are cached per profile version and directory version.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.core.errors import validation_problems
from orgtwin.core.privacy import Directory, Engine
from orgtwin.core.startup import StartupError


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
        """Multi-document YAML of AgentProfile and OrgUser objects, as for kubectl apply.

        A file that cannot be read, or an object without a valid spec, raises StartupError
        naming the file, the document and the field.
        """
        where = f"ORGTWIN_PROXY_PROFILES_FILE ({path})"
        try:
            docs: list[Any] = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise StartupError(f"cannot read {where}: {exc.strerror}") from None
        except (UnicodeDecodeError, yaml.YAMLError):
            raise StartupError(f"{where} is not UTF-8 YAML") from None
        profiles: dict[str, AgentProfileSpec] = {}
        users: list[OrgUserSpec] = []
        for number, doc in enumerate(docs, start=1):
            kind = doc.get("kind") if isinstance(doc, dict) else None
            try:
                if kind == "AgentProfile":
                    name = str(doc["metadata"]["name"])
                    profiles[name] = AgentProfileSpec.model_validate(doc["spec"])
                elif kind == "OrgUser":
                    users.append(OrgUserSpec.model_validate(doc["spec"]))
            except (KeyError, TypeError):
                needs = "metadata.name and spec" if kind == "AgentProfile" else "spec"
                raise StartupError(f"{where}: document {number} ({kind}) needs {needs}") from None
            except ValidationError as exc:
                problems = "; ".join(map(str, validation_problems(exc, "spec")))
                raise StartupError(f"{where}: document {number} ({kind}): {problems}") from None
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
