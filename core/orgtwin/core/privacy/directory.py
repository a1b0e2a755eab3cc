"""The org directory matcher: every person's name, email and employee id, found exactly.

Matching is tolerant of case and of whitespace (a name split over a line break still
matches), uses one Aho-Corasick automaton for all entries, and only accepts hits on
word boundaries so "Ann Lee" is not found inside "Joann Leeds".
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import ahocorasick

from orgtwin.core.privacy.types import EMAIL, EMPLOYEE_ID, PERSON, Detection

# Written out rather than " {2,}": a literal prefix lets the regex engine skip ahead.
_WS_RUN = re.compile(r"  +")
# Whitespace characters other than the space; each becomes a space, keeping offsets.
_OTHER_WS = "\t\n\r\x0b\x0c\x85\xa0\u2028\u2029"


def _normalise(value: str) -> str:
    return " ".join(value.split()).lower()


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Folded:
    """Lower-cased text with whitespace runs collapsed, plus the way back to original offsets."""

    def __init__(self, original: str, text: str) -> None:
        self._original = original
        self.text = text
        self._points: list[int] | None = None
        self._shifts: list[int] = []

    def original(self, pos: int) -> int:
        if self._points is None:
            # Built only when something matched: most texts never need it.
            self._points = []
            norm_len = 0
            last = 0
            for m in _WS_RUN.finditer(self._original):
                norm_len += m.start() - last + 1
                self._points.append(norm_len)
                self._shifts.append(m.end() - norm_len)
                last = m.end()
        i = bisect.bisect_right(self._points, pos) - 1
        return pos + (self._shifts[i] if i >= 0 else 0)


def _fold(text: str) -> _Folded:
    lowered = text.lower()
    if len(lowered) != len(text):
        # A few characters change length when lower-cased (e.g. "İ"); such text keeps
        # exact offsets only through a per-character fold.
        lowered = "".join(ch.lower()[0] for ch in text)
    # str.replace per character is much faster than str.translate with a table.
    for ch in _OTHER_WS:
        if ch in lowered:
            lowered = lowered.replace(ch, " ")
    if "  " not in lowered:
        return _Folded(lowered, lowered)
    return _Folded(lowered, _WS_RUN.sub(" ", lowered))


class Directory:
    """Exact matcher over the organisation's people (names, emails, employee ids)."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        count = 0
        for entity_type, value in entries:
            key = _normalise(value)
            if len(key) < 2:
                continue
            existing = self._automaton.get(key, None)
            # A value that is both, say, a name and an id keeps the more specific type.
            if existing is None or existing[0] == PERSON:
                self._automaton.add_word(key, (entity_type, len(key)))
                count += existing is None
        self.size = count
        if count:
            self._automaton.make_automaton()

    @classmethod
    def from_people(cls, people: Iterable[tuple[str, str, str]]) -> Directory:
        """Build from ``(name, email, employee_id)`` tuples; empty fields are skipped."""
        entries: list[tuple[str, str]] = []
        for name, email, employee_id in people:
            if name:
                entries.append((PERSON, name))
            if email:
                entries.append((EMAIL, email))
            if employee_id:
                entries.append((EMPLOYEE_ID, employee_id))
        return cls(entries)

    @classmethod
    def from_csv(cls, path: Path) -> Directory:
        """Read an org CSV with columns for name, email and employee id (header names vary)."""
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        people: list[tuple[str, str, str]] = []
        for row in rows:
            lower = {k.strip().lower().replace("_", ""): (v or "").strip() for k, v in row.items()}
            name = lower.get("displayname") or lower.get("name") or ""
            email = lower.get("email", "")
            emp = lower.get("employeeid") or lower.get("id") or ""
            people.append((name, email, emp))
        return cls.from_people(people)

    def find(self, text: str) -> Iterator[Detection]:
        if not self.size:
            return
        folded = _fold(text)
        norm = folded.text
        for end_index, (entity_type, key_len) in self._automaton.iter(norm):
            start = end_index - key_len + 1
            end = end_index + 1
            if (start > 0 and _is_word(norm[start - 1])) or (
                end < len(norm) and _is_word(norm[end])
            ):
                continue
            yield Detection(
                entity_type, folded.original(start), folded.original(end - 1) + 1, 1.0, "directory"
            )
