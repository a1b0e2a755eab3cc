"""The numeric view of a text: only the whitespace-delimited tokens around digit runs.

Phone, SSN, card, IBAN and IP detectors only ever match inside such tokens, so they
run once over this much shorter view instead of over the whole text. Tokens are joined
with newlines, which every one of those patterns treats as a boundary, exactly as the
whitespace around the token in the original text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from orgtwin.core.privacy.types import Detection

# How far a token may reach beyond its digit run: an IBAN's letters, an IPv6 address.
_REACH = 48
# A digit run (digits and the separators of numbers) with the rest of its token up to
# the next digit, at most _REACH characters: the next run starts right there and joins.
_RUN = re.compile(rf"\d[\d ().:/+-]*[^\s\d]{{0,{_REACH}}}")
# The same for ASCII text, where \d is [0-9]: a plain range is cheaper to test than
# the Unicode digit category.
_ASCII_RUN = re.compile(rf"[0-9][0-9 ().:/+-]*[^\s0-9]{{0,{_REACH}}}")
# What makes a window worth a look: two digits, or a colon.
_WORTH = re.compile(r":|\d\D*\d")
_ASCII_WORTH = re.compile(r":|[0-9][^0-9]*[0-9]")
# Deletes ASCII digits: the length it takes off counts them (a C loop, for ASCII text).
_DROP_ASCII_DIGITS = str.maketrans("", "", "0123456789")
# Runs this close together share a window ("NL91 ABNA 0417 1643 00").
_JOIN = 8


class NumericView(NamedTuple):
    text: str
    view_starts: list[int]
    text_starts: list[int]
    # How many digits (\d) the view holds: a detector whose values have more finds nothing.
    digits: int

    def to_text(self, detections: Iterable[Detection]) -> Iterator[Detection]:
        """Map detections in the view back to offsets in the original text."""
        for d in detections:
            i = bisect.bisect_right(self.view_starts, d.start) - 1
            shift = self.text_starts[i] - self.view_starts[i]
            yield Detection(d.type, d.start + shift, d.end + shift, d.score, d.detector)


def _left(text: str, pos: int) -> int:
    """Where the token that holds ``pos`` starts, at most _REACH characters back."""
    if pos == 0 or text[pos - 1] in " \n\t":
        # Most digit runs start their token.
        return pos
    low = max(0, pos - _REACH)
    cut = max(text.rfind(" ", low, pos), text.rfind("\n", low, pos), text.rfind("\t", low, pos))
    return cut + 1 if cut >= 0 else low


def numeric_view(text: str) -> NumericView | None:
    """The view, or None when the text has no token worth a look.

    A token with a single digit and no colon is left out ("Q3", "step 2"): every value
    these detectors find has at least two digits (an IBAN's check digits) or, for an
    IPv6 address, a colon.
    """
    ascii_text = text.isascii()
    # Windows as (first run's start, end): runs this close to the previous one join it.
    windows: list[tuple[int, int]] = []
    for m in (_ASCII_RUN if ascii_text else _RUN).finditer(text):
        run_start, run_end = m.span()
        if windows and run_start <= windows[-1][1] + _JOIN:
            windows[-1] = (windows[-1][0], run_end)
        else:
            windows.append((run_start, run_end))
    worth = _ASCII_WORTH if ascii_text else _WORTH
    parts: list[str] = []
    view_starts: list[int] = []
    text_starts: list[int] = []
    pos = 0
    for first, end in windows:
        # A window's digits all lie from its first run on (the text before it, back to
        # the token's start, has none), so only a colon there can make it worth a look:
        # most windows are decided before their token's start is looked for.
        if worth.search(text, first, end) is None:
            if ":" not in text[max(0, first - _REACH) : first]:
                continue
            start = _left(text, first)
            if ":" not in text[start:first]:
                continue
        else:
            start = _left(text, first)
        view_starts.append(pos)
        text_starts.append(start)
        parts.append(text[start:end])
        pos += end - start + 1
    if not parts:
        return None
    view = "\n".join(parts)
    # The Unicode digit category needs a look at each character.
    digits = (
        len(view) - len(view.translate(_DROP_ASCII_DIGITS))
        if view.isascii()
        else sum(map(str.isdecimal, view))
    )
    return NumericView(view, view_starts, text_starts, digits)
