"""Restoring placeholders, whole or incrementally as a stream arrives.

Restoration tolerates what models do to placeholders (a changed case, or lost
brackets) but only ever restores placeholders found in the map it was given: the ones
this request or this session created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Final

# ASCII word characters, as a placeholder spells them.
_WORD_CHARS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_WORD: Final = frozenset(_WORD_CHARS)
_WORD_TAIL: Final = re.compile(r"[A-Za-z0-9_]*")


def _is_word(ch: str) -> bool:
    """Whether ``ch`` continues a word as ``RestoreMap.restore`` reads words (ASCII only)."""
    return ch in _WORD


class RestoreMap:
    """Placeholder -> original value; what a streaming restorer needs is built on first use."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.values: dict[str, str] = {key.upper(): value for key, value in mapping.items()}

    @cached_property
    def prefixes(self) -> frozenset[str]:
        """Every leading part of every placeholder's core (without brackets)."""
        return frozenset(key[1:i] for key in self.values for i in range(2, len(key)))

    @cached_property
    def max_hold(self) -> int:
        """A held tail is at most "[" + core; anything longer cannot become a placeholder."""
        return max((len(key) - 1 for key in self.values), default=1)

    def __bool__(self) -> bool:
        return bool(self.values)

    def restore(self, text: str, *, json_escape: bool = False) -> str:
        """Replace every known placeholder in ``text`` with its original value.

        A placeholder is a whole ASCII word (``[A-Za-z0-9_]+``, not part of a longer
        one) that is in the map, optionally in brackets. Every placeholder contains an
        underscore, so the search jumps from one underscore to the next.
        """
        if not self.values or "_" not in text:
            return text
        parts: list[str] = []
        last = 0
        n = len(text)
        i = text.find("_")
        while i >= 0:
            end = _WORD_TAIL.match(text, i + 1).end()  # type: ignore[union-attr]
            start = i
            while start > 0 and text[start - 1] in _WORD:
                start -= 1
            opened = start > 0 and text[start - 1] == "["
            value = self._swap(text[start:end], opened)
            if value is not None:
                closed = end < n and text[end] == "]"
                parts.append(text[last : start - opened])
                parts.append(json.dumps(value)[1:-1] if json_escape else value)
                last = end + closed
            i = text.find("_", end)
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def _swap(self, core: str, opened: bool) -> str | None:
        """The original value of the candidate word ``core``, if it may be restored."""
        upper = core.upper()
        # One alteration at a time: a changed case keeps the opening bracket, a lost
        # bracket keeps the case. Accepting both at once would make every lower-case
        # word start ("e", "em", ...) a possible placeholder that streams must hold.
        if core != upper and not opened:
            return None
        return self.values.get(f"[{upper}]")


class StreamRestorer:
    """Restores a text that arrives in pieces, holding back only a possible placeholder start."""

    def __init__(self, restore_map: RestoreMap, *, json_escape: bool = False) -> None:
        self._map = restore_map
        self._json = json_escape
        self._pending = ""
        # The last character emitted, so a placeholder glued to a word ("fooEMAIL_…")
        # is treated exactly as the whole-text restorer treats it.
        self._last = ""

    @property
    def pending(self) -> str:
        return self._pending

    def feed(self, chunk: str) -> str:
        """Accept the next piece; return what can be emitted now."""
        if not self._map:
            return chunk
        buf = self._pending + chunk
        hold = self._hold_from(buf)
        self._pending = buf[hold:]
        return self._emit(buf[:hold])

    def flush(self) -> str:
        """The stream ended: restore and return whatever was held back."""
        rest, self._pending = self._pending, ""
        return self._emit(rest)

    def _emit(self, text: str) -> str:
        if not text:
            return ""
        lead = self._last if self._last and _is_word(self._last) else ""
        self._last = text[-1]
        return self._map.restore(lead + text, json_escape=self._json)[len(lead) :]

    def _hold_from(self, buf: str) -> int:
        """Where the tail that could still become a placeholder starts (``len(buf)``: none).

        Such a tail is a prefix of a placeholder's core, optionally after "[", so it can
        only start at the word run that ends ``buf`` or at a "[" just before that run.
        One ``rstrip`` finds the run: a test per character of the last ``max_hold`` ones
        was the most frequent Python code of a relayed stream.
        """
        n = len(buf)
        low = max(0, n - self._map.max_hold - 1)
        # The word run that ends buf starts at ``run``; one that fills the whole window
        # is longer than any core, so nothing can be held.
        run = low + len(buf[low:].rstrip(_WORD_CHARS))
        if run == low and low > 0:
            return n
        prefixes = self._map.prefixes
        if run > 0 and buf[run - 1] == "[":
            rest = buf[run:].upper()
            if not rest or rest in prefixes:
                return run - 1
        # Without its bracket a placeholder keeps its case and must begin a word.
        before = buf[run - 1] if run else self._last or " "
        if run < n and not _is_word(before) and buf[run:] in prefixes:
            return run
        return n
