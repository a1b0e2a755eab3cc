"""A digit-shape pattern and its re.ASCII twin match the same on every ASCII text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgtwin.core.privacy import patterns as p

SHAPES = {
    "PHONE": p.PHONE,
    "SSN": p.SSN,
    "CARD": p.CARD,
    "IBAN": p.IBAN,
    "IPV4": p.IPV4,
    "IPV6": p.IPV6,
}
# Values of every shape, in upper and lower case, glued to each other and to any other
# ASCII character (control characters included), so that matches and near misses abound.
_VALUES = [
    "+44 20 7946 0958",
    "(415) 555-2671",
    "123-45-6789",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "10.20.30.40",
    "2001:db8::1",
    "FE80::1:2",
]
_PIECE = st.one_of(
    st.sampled_from(_VALUES + [v.lower() for v in _VALUES]),
    st.sampled_from("0123456789 .-:+()/_"),
    st.characters(max_codepoint=127),
)
_ASCII = st.lists(_PIECE, max_size=8).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_ASCII)
def test_the_ascii_twin_matches_what_the_pattern_matches(text: str) -> None:
    for name, twin in SHAPES.items():
        expected = [
            m.group(0, *range(1, twin.unicode.groups + 1)) for m in twin.unicode.finditer(text)
        ]
        got = [m.group(0, *range(1, twin.ascii.groups + 1)) for m in twin.ascii.finditer(text)]
        assert got == expected, name


def test_each_text_gets_the_twin_for_its_alphabet() -> None:
    assert p.CARD.on("4111 1111 1111 1111") is p.CARD.ascii
    # Outside ASCII only the Unicode pattern is right: "\u0663" is a digit to it.
    assert p.CARD.on("card 4111 1111 1111 111\u0663") is p.CARD.unicode


@pytest.mark.parametrize("pattern", [r"\d+\s", r"\S+\d"])
def test_a_pattern_whose_twin_would_differ_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="ASCII twin"):
        p.shape(pattern)
