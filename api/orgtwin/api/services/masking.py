"""Masks mesh payloads per the recipient's profile, through orgtwin.core.privacy.

``PayloadMasker`` is the seam; ``EngineMasker`` adapts the core PII engine.
Modes off and detect deliver the text unchanged; mask and strict replace PII
with deterministic placeholders (keyed by the tenant's masking key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orgtwin.api.services.directory import Snapshot
from orgtwin.core.crds.models import AgentProfileSpec, PrivacySpec
from orgtwin.core.privacy import Directory as PeopleDirectory
from orgtwin.core.privacy import Engine

MASKING_MODES = frozenset({"mask", "strict"})
_SPECS_KEPT = 256


@dataclass(frozen=True)
class MaskedPayload:
    title: str
    body: str
    data: dict[str, Any]
    masked: int


class PayloadMasker(Protocol):
    """Masks one payload for one recipient profile (None: no profile, mask everything)."""

    def mask(
        self,
        snapshot: Snapshot,
        recipient: AgentProfileSpec | None,
        title: str,
        body: str,
        data: dict[str, Any],
    ) -> MaskedPayload: ...


class EngineMasker:
    """The core engine, one per (privacy policy, directory snapshot), built on first use.

    Each engine remembers the detections of texts it has seen (agents repeat titles
    and bodies), in process memory only; the engines, and with them that memory, are
    dropped whenever the directory changes.
    """

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self._people: tuple[int, PeopleDirectory] | None = None
        # Engines by policy (as JSON), and by the policy object that asked last.
        self._engines: dict[str, Engine] = {}
        self._by_spec: dict[int, tuple[PrivacySpec, Engine]] = {}

    def _directory(self, snapshot: Snapshot) -> PeopleDirectory:
        if self._people is None or self._people[0] != snapshot.revision:
            people = ((u.display_name, u.email, u.employee_id) for u in snapshot.users.values())
            self._people = (snapshot.revision, PeopleDirectory.from_people(people))
            self._engines.clear()
            self._by_spec.clear()
        return self._people[1]

    def _engine(self, snapshot: Snapshot, privacy: PrivacySpec) -> Engine:
        people = self._directory(snapshot)
        # A snapshot's profiles are the same objects until the next revision, which clears
        # the engines: their identity finds the engine without rendering the policy.
        known = self._by_spec.get(id(privacy))
        if known is not None and known[0] is privacy:
            return known[1]
        key = privacy.model_dump_json()
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = Engine.from_policy(privacy, self.secret, people)
        if len(self._by_spec) >= _SPECS_KEPT:
            # A refresh that changed nothing keeps the revision but brings new objects.
            self._by_spec.clear()
        self._by_spec[id(privacy)] = (privacy, engine)
        return engine

    def mask(
        self,
        snapshot: Snapshot,
        recipient: AgentProfileSpec | None,
        title: str,
        body: str,
        data: dict[str, Any],
    ) -> MaskedPayload:
        privacy = recipient.privacy if recipient is not None else _MASK_ALL
        if privacy.mode not in MASKING_MODES:
            return MaskedPayload(title, body, data, 0)
        engine = self._engine(snapshot, privacy)
        count = 0

        def one(text: str) -> str:
            nonlocal count
            masked = engine.mask(text)
            count += sum(masked.counts.values())
            return masked.text

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return one(value)
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return MaskedPayload(one(title), one(body), walk(data), count)


_MASK_ALL = PrivacySpec(mode="mask")
