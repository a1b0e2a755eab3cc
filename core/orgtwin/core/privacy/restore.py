"""Restoring placeholders, whole or incrementally as a stream arrives.

Restoration tolerates what models do to placeholders (a changed case, or lost
brackets) but only ever restores placeholders found in the map it was given: the ones
this request or this session created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

PLACEHOLDER_RE: Final = re.compile(
    r"(\[)?(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*)_([0-9A-Za-z]{4,16})(?![A-Za-z0-9_])(\])?"
)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class RestoreMap:
    """Placeholder -> original value, with what the streaming restorer needs precomputed."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.values: dict[str, str] = {key.upper(): value for key, value in mapping.items()}
        self.prefixes: set[str] = set()
        longest = 0
        for key in self.values:
            core = key[1:-1]
            longest = max(longest, len(core))
            for i in range(1, len(core) + 1):
                self.prefixes.add(core[:i])
        # A held tail is at most "[" + core; anything longer cannot become a placeholder.
        self.max_hold = longest + 1

    def __bool__(self) -> bool:
        return bool(self.values)

    def restore(self, text: str, *, json_escape: bool = False) -> str:
        """Replace every known placeholder in ``text`` with its original value."""
        if not self.values or "_" not in text:
            return text

        def swap(m: re.Match[str]) -> str:
            core = f"{m.group(2)}_{m.group(3)}"
            # One alteration at a time: a changed case keeps the opening bracket, a lost
            # bracket keeps the case. Accepting both at once would make every lower-case
            # word start ("e", "em", ...) a possible placeholder that streams must hold.
            if m.group(1) is None and core != core.upper():
                return m.group()
            value = self.values.get(f"[{core.upper()}]")
            if value is None:
                return m.group()
            return json.dumps(value)[1:-1] if json_escape else value

        return PLACEHOLDER_RE.sub(swap, text)


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
        n = len(buf)
        prefixes = self._map.prefixes
        for i in range(max(0, n - self._map.max_hold), n):
            ch = buf[i]
            if ch == "[":
                rest = buf[i + 1 :].upper()
                if not rest or rest in prefixes:
                    return i
            elif (
                ch.isalpha()
                and not _is_word(buf[i - 1] if i else self._last or " ")
                and buf[i:] in prefixes
            ):
                return i
        return n
