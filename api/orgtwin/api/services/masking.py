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
        self._engines: dict[tuple[str, int], Engine] = {}

    def _directory(self, snapshot: Snapshot) -> PeopleDirectory:
        if self._people is None or self._people[0] != snapshot.revision:
            people = ((u.display_name, u.email, u.employee_id) for u in snapshot.users.values())
            self._people = (snapshot.revision, PeopleDirectory.from_people(people))
            self._engines.clear()
        return self._people[1]

    def _engine(self, snapshot: Snapshot, privacy: PrivacySpec) -> Engine:
        people = self._directory(snapshot)
        key = (privacy.model_dump_json(), snapshot.revision)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = Engine.from_policy(privacy, self.secret, people)
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
