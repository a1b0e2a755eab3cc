"""One pass over a text for every word-triggered detector and for the org directory.

Context detectors start at a trigger word ("phone", "dear"), secrets at a key prefix,
URL credentials at "://", and the directory at one of its entries. A single
Aho-Corasick automaton holds all of them and walks the lower-cased text once, where
one str.find per word and a second walk for the directory cost several times more.

Matching is tolerant of case and of whitespace (a name split over a line break still
matches); directory hits are only accepted on word boundaries, so "Ann Lee" is not
found inside "Joann Leeds". Trigger hits are candidates: each detector confirms them
with its own (case-sensitive where it matters) regex at that offset. A trigger that
starts with a letter only counts at the start of a word, as every pattern behind one
requires, so "ms" in "items" wakes no detector; most trigger words must also end a word,
so "dr" in "draft" wakes none either.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import NamedTuple

import ahocorasick_rs

from orgtwin.core.privacy import patterns as p
from orgtwin.core.privacy.types import PERSON, Detection

_SPACES = re.compile(" +")
# Whitespace characters other than the space; each becomes a space, keeping offsets.
_ASCII_WS = "\t\n\r\x0b\x0c"
_OTHER_WS = _ASCII_WS + "\x85\xa0\u2028\u2029"

TRIGGERS: frozenset[str] = frozenset(
    word.lower()
    for group in (
        p.PHONE_WORDS,
        p.SSN_WORDS,
        p.DOB_WORDS,
        p.ACCOUNT_WORDS,
        p.PERSON_WORDS,
        p.TITLES,
        p.SECRET_PREFIXES,
        (p.URL_SEPARATOR, p.PEM_MARKER),
    )
    for word in group
)
# Triggers whose every pattern needs a non-word character right after the word: a hit
# inside a longer word ("draft", "profile", "called") wakes no detector.
WHOLE_WORDS: frozenset[str] = frozenset(
    word.lower()
    for group in (p.PHONE_WORDS, p.SSN_WORDS, p.DOB_WORDS, p.PERSON_WORDS, p.TITLES)
    for word in group
)


def normalise(value: str) -> str:
    """A directory value as the automaton holds it: lower case, single spaces."""
    return " ".join(value.split()).lower()


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Folded:
    """Lower-cased text with whitespace runs collapsed, plus the way back to original offsets."""

    def __init__(self, text: str, points: list[int], shifts: list[int]) -> None:
        self.text = text
        # Offset p of ``text`` is p + shifts[i] in the original, where points[i] is the
        # last point <= p (none: p itself). No points: nothing was collapsed.
        self.points = points
        self.shifts = shifts

    def original(self, pos: int) -> int:
        if not self.points:
            return pos
        i = bisect.bisect_right(self.points, pos) - 1
        return pos + (self.shifts[i] if i >= 0 else 0)


def _collapse(lowered: str) -> _Folded:
    """Each run of spaces becomes one space; the way back is recorded as it goes.

    str.find jumps to the next run: a regex pass to collapse and a second one for the
    way back cost five times as much on a 2 KB message with ten double spaces.
    """
    parts: list[str] = []
    points: list[int] = []
    shifts: list[int] = []
    last = 0  # where the text not yet copied starts
    size = 0  # length of the collapsed text so far
    pos = lowered.find("  ")
    while pos >= 0:
        # Always a match: a run of spaces starts at pos.
        end = _SPACES.match(lowered, pos).end()  # type: ignore[union-attr]
        parts.append(lowered[last : pos + 1])
        size += pos + 1 - last
        points.append(size)
        shifts.append(end - size)
        last = end
        pos = lowered.find("  ", end)
    parts.append(lowered[last:])
    return _Folded("".join(parts), points, shifts)


def _fold(text: str) -> tuple[_Folded, bool]:
    """The folded text, and whether plain ``text.lower()`` kept every offset."""
    lowered = text.lower()
    exact = len(lowered) == len(text)
    if not exact:
        # A few characters change length when lower-cased (e.g. "İ"); such text keeps
        # exact offsets only through a per-character fold.
        lowered = "".join(ch.lower()[0] for ch in text)
    # str.replace per character is much faster than str.translate with a table.
    for ch in _ASCII_WS if lowered.isascii() else _OTHER_WS:
        if ch in lowered:
            lowered = lowered.replace(ch, " ")
    if "  " not in lowered:
        return _Folded(lowered, [], []), exact
    return _collapse(lowered), exact


class Scan(NamedTuple):
    """What the walk found in one text."""

    text: str
    # Whether text.lower() keeps offsets; the context detectors rely on it.
    exact_case_fold: bool
    # Trigger word (lower case) -> its start offsets in ``text``, ascending.
    triggers: dict[str, list[int]]
    # Directory entries found, as detections.
    people: list[Detection]

    def starts(self, words: frozenset[str]) -> list[int]:
        """Start offsets of any of ``words`` (lower case), ascending, without repeats."""
        found = self.triggers.keys() & words
        if not found:
            return []
        if len(found) == 1:
            return self.triggers[found.pop()]
        return sorted({i for word in found for i in self.triggers[word]})


def lowered(words: Iterable[str]) -> frozenset[str]:
    """Trigger words as Scan.starts takes them."""
    return frozenset(word.lower() for word in words)


class Scanner:
    """The automaton for the trigger words plus, optionally, a directory's entries."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        keys: dict[str, tuple[str | None, str | None]] = {t: (t, None) for t in TRIGGERS}
        count = 0
        for entity_type, value in entries:
            key = normalise(value)
            if len(key) < 2:
                continue
            trigger, existing = keys.get(key, (None, None))
            count += existing is None
            # A value that is both, say, a name and an id keeps the more specific type.
            if existing is None or existing == PERSON:
                keys[key] = (trigger, entity_type)
        self.size = count
        # Per pattern: its trigger word, its directory type, and whether a hit must start
        # and end a word to count as the trigger. Every pattern behind a trigger that
        # starts with a letter requires a word boundary before it: "ms" inside "items"
        # or "dr" inside "draft" is no hit.
        self._values = [
            (word, role, word is not None and _is_word(word[0]), word in WHOLE_WORDS)
            for word, role in keys.values()
        ]
        # Overlapping matches: "tel" and "telephone", or a trigger inside a name.
        self._automaton = ahocorasick_rs.AhoCorasick(
            keys, matchkind=ahocorasick_rs.MatchKind.Standard
        )

    def scan(self, text: str) -> Scan:
        folded, exact = _fold(text)
        norm = folded.text
        # Offsets in the folded text are the text's own unless whitespace was collapsed.
        collapsed = bool(folded.points)
        triggers: dict[str, list[int]] = {}
        people: list[Detection] = []
        size = len(norm)
        values = self._values
        for index, start, end in self._automaton.find_matches_as_indexes(norm, overlapping=True):
            trigger, entity_type, at_start, at_end = values[index]
            mid_word = start > 0 and _is_word(norm[start - 1])
            word_goes_on = end < size and _is_word(norm[end])
            inside_a_word = (at_start and mid_word) or (at_end and word_goes_on)
            if trigger is not None and not inside_a_word:
                offset = folded.original(start) if collapsed else start
                if trigger in triggers:
                    triggers[trigger].append(offset)
                else:
                    triggers[trigger] = [offset]
            if entity_type is None or mid_word or word_goes_on:
                continue
            people.append(
                Detection(
                    entity_type,
                    folded.original(start),
                    folded.original(end - 1) + 1,
                    1.0,
                    "directory",
                )
            )
        return Scan(text, exact, triggers, people)


TRIGGERS_ONLY = Scanner()
