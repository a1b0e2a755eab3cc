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

    An engine's answer depends only on its text (each text gets its own placeholder
    map), so short texts are remembered per engine: up to ``cache_entries`` texts of
    at most ``cache_max_chars``, the oldest dropped first, all of them dropped with
    the engines when the directory changes. The memory holds unmasked text, as the
    directory snapshot does; it never leaves the process.
    """

    def __init__(
        self, secret: bytes, cache_entries: int = 4096, cache_max_chars: int = 1024
    ) -> None:
        self.secret = secret
        self.cache_entries = cache_entries
        self.cache_max_chars = cache_max_chars
        self._people: tuple[int, PeopleDirectory] | None = None
        self._engines: dict[tuple[str, int], _CachedEngine] = {}

    def _directory(self, snapshot: Snapshot) -> PeopleDirectory:
        if self._people is None or self._people[0] != snapshot.revision:
            people = ((u.display_name, u.email, u.employee_id) for u in snapshot.users.values())
            self._people = (snapshot.revision, PeopleDirectory.from_people(people))
            self._engines.clear()
        return self._people[1]

    def _engine(self, snapshot: Snapshot, privacy: PrivacySpec) -> _CachedEngine:
        people = self._directory(snapshot)
        key = (privacy.model_dump_json(), snapshot.revision)
        engine = self._engines.get(key)
        if engine is None:
            engine = _CachedEngine(
                Engine.from_policy(privacy, self.secret, people),
                self.cache_entries,
                self.cache_max_chars,
            )
            self._engines[key] = engine
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
            masked, found = engine.mask(text)
            count += found
            return masked

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


class _CachedEngine:
    """One engine and the texts it masked: text -> (masked text, PII found)."""

    def __init__(self, engine: Engine, entries: int, max_chars: int) -> None:
        self.engine = engine
        self.entries = entries
        self.max_chars = max_chars
        self._seen: dict[str, tuple[str, int]] = {}

    def mask(self, text: str) -> tuple[str, int]:
        hit = self._seen.get(text)
        if hit is not None:
            return hit
        masked = self.engine.mask(text)
        answer = (masked.text, sum(masked.counts.values()))
        if self.entries and len(text) <= self.max_chars:
            if len(self._seen) >= self.entries:
                # Insertion order: the first key is the oldest.
                del self._seen[next(iter(self._seen))]
            self._seen[text] = answer
        return answer
