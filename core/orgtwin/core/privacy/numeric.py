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

from orgtwin.core.privacy.checksums import count_digits
from orgtwin.core.privacy.types import Detection

# How far a token may reach beyond its digit run: an IBAN's letters, an IPv6 address.
_REACH = 48
# A digit run (digits and the separators of numbers) with the rest of its token up to
# the next digit, at most _REACH characters. A run that starts at most _JOIN characters
# after the previous one ends joins its window ("NL91 ABNA 0417 1643 00"): one match
# is one window.
_RUN = rf"\d[\d ().:/+-]*[^\s\d]{{0,{_REACH}}}"
_JOIN = 8
_WINDOW = re.compile(rf"{_RUN}(?:\D{{0,{_JOIN}}}{_RUN})*")
# The same on the bytes of an ASCII text whose digits all became "0" (_ZEROS): the
# window starts with a literal, which the regex engine finds with a plain loop instead
# of testing a character class at every position, and bytes.count counts digits. In a
# bytes pattern \s leaves out the separators \x1c-\x1f, which str's \s matches.
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_ZERO_RUN = rf"0[0 ().:/+-]*[^\s\x1c-\x1f0]{{0,{_REACH}}}"
_ZERO_WINDOW = re.compile(rf"{_ZERO_RUN}(?:[^0]{{0,{_JOIN}}}{_ZERO_RUN})*".encode())


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
    # Offsets in the marked bytes are offsets in the text: the mapping is one to one.
    marked = text.encode().translate(_ZEROS) if ascii_text else b""
    windows = _ZERO_WINDOW.finditer(marked) if ascii_text else _WINDOW.finditer(text)
    parts: list[str] = []
    view_starts: list[int] = []
    text_starts: list[int] = []
    pos = 0
    total = 0
    for window in windows:
        first, end = window.span()
        # A window's digits all lie from its first run on (the text before it, back to
        # the token's start, has none), so only a colon there can make it worth a look:
        # most windows are decided before their token's start is looked for.
        digits = marked.count(b"0", first, end) if ascii_text else count_digits(text[first:end])
        if digits < 2 and text.find(":", first, end) < 0:
            if ":" not in text[max(0, first - _REACH) : first]:
                continue
            start = _left(text, first)
            if ":" not in text[start:first]:
                continue
        else:
            start = _left(text, first)
        total += digits
        view_starts.append(pos)
        text_starts.append(start)
        parts.append(text[start:end])
        pos += end - start + 1
    if not parts:
        return None
    return NumericView("\n".join(parts), view_starts, text_starts, total)
