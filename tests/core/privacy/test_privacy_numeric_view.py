"""The numeric view loses nothing: the digit-shape detectors find in it exactly what they
find in the whole text (for tokens within the view's reach, 48 characters)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orgtwin.core.privacy.detectors import NUMERIC_FINDERS
from orgtwin.core.privacy.engine import resolve
from orgtwin.core.privacy.numeric import numeric_view
from orgtwin.core.privacy.types import Detection

# Digits, the separators of numbers, and letters of IBAN country codes and hex groups;
# an Arabic-Indic digit sends some texts down the view's non-ASCII path.
_TOKEN = st.text(alphabet="0123456789:.-+()/ABDEGNLabx\u0663", min_size=1, max_size=40)
# "\x1c" is whitespace to str's \s (and not to bytes' \s, which the ASCII path uses).
_SPACE = st.sampled_from([" ", "\n", "\t", "  ", "\x1c"])
_TEXT = st.lists(st.tuples(_TOKEN, _SPACE), max_size=12).map(
    lambda parts: "".join(token + space for token, space in parts)
)


def _in_whole_text(text: str) -> list[Detection]:
    return resolve(d for _, find in NUMERIC_FINDERS.values() for d in find(text))


def _in_view(text: str) -> list[Detection]:
    view = numeric_view(text)
    if view is None:
        return []
    return resolve(d for _, find in NUMERIC_FINDERS.values() for d in view.to_text(find(view.text)))


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_the_view_finds_what_the_whole_text_holds(text: str) -> None:
    assert _in_view(text) == _in_whole_text(text)


def test_single_digit_tokens_are_left_out_and_a_colon_keeps_one() -> None:
    view = numeric_view("Q3 numbers are due; step 2 follows. Please call +44 20 7946 0958.")
    assert view is not None
    assert view.text == "+44 20 7946 0958."
    assert numeric_view("Q3 numbers are due; step 2 follows.") is None
    loopback = numeric_view("the loopback address is ::1 on every host")
    assert loopback is not None
    assert loopback.text == "::1 on"


def test_every_kind_of_whitespace_ends_a_token() -> None:
    # "\x1c" is whitespace to str: the run "12" ends there, and "34" is too far to join.
    view = numeric_view("12\x1cABCDEFGHIJ 34")
    assert view is not None
    assert view.text == "12\n34"
    assert numeric_view("12\u2003ABCDEFGHIJ 34") == numeric_view("12\x1cABCDEFGHIJ 34")
