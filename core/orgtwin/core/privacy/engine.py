"""The PII engine: detect, resolve overlaps, mask with deterministic placeholders.

Engine.from_policy(privacy, secret, directory)   one per profile and tenant
  .detect(text) -> [Detection]                   resolved, sorted by start; remembered
  .mask(text)   -> Masked(text, counts, mapping) one text
  .masker()     -> RequestMasker                 many texts sharing one placeholder map
"""

from __future__ import annotations

import bisect
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from orgtwin.core.crds.models import PrivacySpec
from orgtwin.core.privacy.detectors import (
    NUMERIC_FINDERS,
    SCAN_FINDERS,
    CustomFinder,
    Finder,
    ScanFinder,
    compile_custom,
)
from orgtwin.core.privacy.directory import Directory
from orgtwin.core.privacy.numeric import numeric_view
from orgtwin.core.privacy.placeholders import Minter, PlaceholderMap
from orgtwin.core.privacy.restore import RestoreMap
from orgtwin.core.privacy.scan import TRIGGERS_ONLY, Scanner
from orgtwin.core.privacy.types import BUILTIN_TYPES, SPECIFICITY, Detection


class NerBackend(Protocol):
    """An optional named-entity recogniser; it must run offline (no downloads, no network)."""

    def find(self, text: str) -> Iterable[Detection]: ...


@dataclass(frozen=True)
class Masked:
    """A masked text, the counts per entity type, and placeholder -> original for restoring."""

    text: str
    counts: Mapping[str, int]
    mapping: Mapping[str, str] = field(default_factory=dict)


_SPAN = operator.attrgetter("start", "end")


def _rank(d: Detection) -> tuple[int, int, int, str, str]:
    return (-SPECIFICITY.get(d.detector, 0), d.start - d.end, d.start, d.type, d.detector)


def resolve(detections: Iterable[Detection]) -> list[Detection]:
    """Keep non-overlapping detections: the most specific wins, then the longest, then the first."""
    found = list(detections)
    by_start = sorted(found, key=_SPAN)
    end = 0
    for det in by_start:
        if det.start < end or det.end <= det.start:
            break
        end = det.end
    else:
        # Nothing overlaps (most texts): every detection is kept.
        return by_start
    ranked = sorted(found, key=_rank)
    starts: list[int] = []
    kept: list[Detection] = []
    for det in ranked:
        if det.end <= det.start:
            continue
        i = bisect.bisect_right(starts, det.start)
        if i > 0 and kept[i - 1].end > det.start:
            continue
        if i < len(kept) and kept[i].start < det.end:
            continue
        starts.insert(i, det.start)
        kept.insert(i, det)
    return kept


MEMO_CHARS = 1 << 20
"""How many characters of recent texts an engine remembers the detections of, by default."""


class Engine:
    """Detects and masks PII for one privacy policy and one tenant secret.

    Every turn of a conversation re-sends the system prompt and the whole history, so
    the engine remembers the detections of the texts it has seen (up to ``memo_chars``
    characters of them, in memory only; the oldest half is forgotten when full). A
    text seen before costs one dictionary lookup; only a turn's new messages are
    scanned. Detections depend on nothing but the text and the engine's policy and
    directory, and an engine is rebuilt when either changes, so a remembered answer is
    always the answer a scan would give.
    """

    def __init__(
        self,
        *,
        secret: bytes,
        mode: str = "mask",
        entities: Iterable[str] = (),
        custom: Iterable[CustomFinder] = (),
        directory: Directory | None = None,
        ner: NerBackend | None = None,
        memo_chars: int = MEMO_CHARS,
    ) -> None:
        self.mode = mode
        custom = list(custom)
        wanted = set(entities) or set(BUILTIN_TYPES)
        self.types = frozenset(wanted | {c.type for c in custom})
        self._numeric: list[tuple[int, Finder]] = [
            f for t, f in NUMERIC_FINDERS.items() if t in wanted
        ]
        self._scan_finders: list[tuple[frozenset[str] | None, ScanFinder]] = [
            f for t, f in SCAN_FINDERS.items() if t in wanted
        ]
        # Custom patterns and the NER backend see the plain text.
        self._finders: list[Finder] = list(custom)
        if ner is not None:
            self._finders.append(ner.find)
        # One walk finds every trigger word and, with a directory, every person in it.
        self._people = directory is not None and directory.size > 0
        self._scanner: Scanner = directory.scanner if directory and self._people else TRIGGERS_ONLY
        self._minter = Minter(secret)
        self._memo: dict[str, tuple[Detection, ...]] = {}
        self._memo_budget = memo_chars
        self.remembered_chars = 0
        """Characters of text whose detections are remembered now (at most ``memo_chars``)."""

    @classmethod
    def from_policy(
        cls,
        privacy: PrivacySpec,
        secret: bytes,
        directory: Directory | None = None,
        ner: NerBackend | None = None,
    ) -> Engine:
        """Build the engine a profile's ``privacy`` section asks for."""
        custom = [compile_custom(c.name, c.regex, i) for i, c in enumerate(privacy.custom_patterns)]
        return cls(
            secret=secret,
            mode=privacy.mode,
            entities=privacy.entities,
            custom=custom,
            directory=directory,
            ner=ner,
        )

    def detect(self, text: str) -> list[Detection]:
        """Every PII span in ``text``, overlaps resolved, sorted by start."""
        if not text:
            return []
        known = self._memo.get(text)
        if known is not None:
            return list(known)
        found = self._scan(text)
        self._remember(text, found)
        return found

    def _remember(self, text: str, found: list[Detection]) -> None:
        size = len(text)
        if size > self._memo_budget // 2:
            return
        while self._memo and self.remembered_chars + size > self._memo_budget:
            # Forget the older half: amortised O(1), and recent history stays.
            items = list(self._memo.items())[(len(self._memo) + 1) // 2 :]
            self._memo = dict(items)
            self.remembered_chars = sum(len(t) for t, _ in items)
        self._memo[text] = tuple(found)
        self.remembered_chars += size

    def _scan(self, text: str) -> list[Detection]:
        scan = self._scanner.scan(text)
        types = self.types
        found = [d for d in scan.people if d.type in types] if self._people else []
        present = scan.triggers.keys()
        for words, scan_finder in self._scan_finders:
            if words is None or not present.isdisjoint(words):
                found.extend(scan_finder(scan))
        for finder in self._finders:
            found.extend(d for d in finder(text) if d.type in types)
        view = numeric_view(text) if self._numeric else None
        if view is not None:
            for least, finder in self._numeric:
                if view.digits >= least:
                    found.extend(view.to_text(finder(view.text)))
        return resolve(found)

    def masker(self) -> RequestMasker:
        """A masker whose placeholders are shared by every text of one request."""
        return RequestMasker(self)

    def mask(self, text: str) -> Masked:
        """Mask one text according to the mode: off and detect leave the text unchanged."""
        detections = self.detect(text) if self.mode != "off" else []
        if not detections:
            # Most texts: nothing to count, map or replace.
            return Masked(text, {}, {})
        masker = self.masker()
        out = masker.apply(text, detections)
        return Masked(out, dict(masker.counts), dict(masker.mapping))

    def new_map(self) -> PlaceholderMap:
        return PlaceholderMap(self._minter)


class RequestMasker:
    """Masks the texts of one request; collects counts and the map to restore the answer."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._map = engine.new_map()
        self.counts: Counter[str] = Counter()

    @property
    def mapping(self) -> Mapping[str, str]:
        return self._map.mapping()

    @property
    def collisions(self) -> int:
        return self._map.collisions

    def restore_map(self, extra: Mapping[str, str] | None = None) -> RestoreMap:
        """What the answer may refer to: this request's placeholders, then ``extra`` (session)."""
        merged = dict(extra or {})
        merged.update(self._map.mapping())
        return RestoreMap(merged)

    def mask(self, text: str) -> str:
        if self._engine.mode == "off" or not text:
            return text
        return self.apply(text, self._engine.detect(text))

    def apply(self, text: str, detections: list[Detection]) -> str:
        """Count ``detections`` (the engine's, for ``text``) and, in mask modes, replace them."""
        if not detections:
            return text
        self.counts.update(d.type for d in detections)
        if self._engine.mode == "detect":
            return text
        parts: list[str] = []
        last = 0
        for det in detections:
            parts.append(text[last : det.start])
            parts.append(self._map.assign(det.type, text[det.start : det.end]))
            last = det.end
        parts.append(text[last:])
        return "".join(parts)
