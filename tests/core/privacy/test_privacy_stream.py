"""The streaming restorer: exact at every split offset; it holds back only placeholder starts."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgtwin.core.privacy import Engine, RestoreMap, StreamRestorer

pytestmark = pytest.mark.unit

SECRET = b"tenant-secret-0123456789abcdef!!"
ORIGINAL = "Mail ann@corp.example, call +44 20 7946 0958, card 4111 1111 1111 1111."
MASKED = Engine(secret=SECRET).mask(ORIGINAL)
RMAP = RestoreMap(MASKED.mapping)


def stream(pieces: list[str], *, json_escape: bool = False) -> tuple[str, list[str]]:
    restorer = StreamRestorer(RMAP, json_escape=json_escape)
    emitted = [restorer.feed(p) for p in pieces]
    emitted.append(restorer.flush())
    return "".join(emitted), emitted


def test_every_split_offset_of_every_placeholder() -> None:
    text = MASKED.text
    assert len(MASKED.mapping) == 3
    for placeholder in MASKED.mapping:
        at = text.index(placeholder)
        for k in range(at, at + len(placeholder) + 1):
            out, _ = stream([text[:k], text[k:]])
            assert out == ORIGINAL, (placeholder, k - at)


def test_every_two_splits_inside_a_placeholder() -> None:
    text = MASKED.text
    placeholder = next(iter(MASKED.mapping))
    at = text.index(placeholder)
    end = at + len(placeholder)
    for i in range(at, end):
        for j in range(i, end + 1):
            out, _ = stream([text[:i], text[i:j], text[j:]])
            assert out == ORIGINAL


def test_one_character_chunks() -> None:
    out, _ = stream(list(MASKED.text))
    assert out == ORIGINAL


def test_text_without_placeholder_starts_is_never_held() -> None:
    restorer = StreamRestorer(RMAP)
    # Lower-case word starts ("em", "p") are not held: only "[" or upper case can begin
    # a placeholder the restorer would restore.
    for piece in ("Hello there, ", "nothing to hold; em", "ail and p", "42 apples."):
        assert restorer.feed(piece) == piece
    assert restorer.flush() == ""


def test_holds_only_a_possible_prefix() -> None:
    restorer = StreamRestorer(RMAP)
    assert restorer.feed("Sent to [EMA") == "Sent to "
    assert restorer.pending == "[EMA"
    assert restorer.feed("ZING news") == "[EMAZING news"


def test_lower_case_placeholder_split_across_chunks() -> None:
    placeholder = next(p for p in MASKED.mapping if p.startswith("[EMAIL"))
    variant = placeholder.lower()
    out, _ = stream([f"to {variant[:3]}", variant[3:], " ok"])
    assert out == "to ann@corp.example ok"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(MASKED.text)), max_size=12))
def test_any_chunking_equals_whole_restoration(cuts: list[int]) -> None:
    text = MASKED.text
    bounds = sorted({0, len(text), *cuts})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    out, _ = stream(pieces)
    assert out == RMAP.restore(text) == ORIGINAL


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="ab [_]EMAILxyz0123", max_size=30),
    st.lists(st.integers(min_value=0, max_value=80), max_size=8),
)
def test_arbitrary_text_streams_like_whole_text(noise: str, cuts: list[int]) -> None:
    text = noise + MASKED.text + noise
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    out, _ = stream(pieces)
    assert out == RMAP.restore(text)


def test_a_placeholder_after_a_non_ascii_letter_streams_like_whole_text() -> None:
    """Placeholders are ASCII words: "é" ends a word for the restorer, whole or streamed."""
    placeholder = next(iter(MASKED.mapping))
    text = f"Café{placeholder[1:-1]} ok"  # the model lost the brackets
    assert RMAP.restore(text) != text
    at = text.index(placeholder[1:-1])
    for k in range(at, len(text) + 1):
        out, _ = stream([text[:k], text[k:]])
        assert out == RMAP.restore(text), k - at


def _could_become_placeholder(tail: str, before: str) -> bool:
    """Whether more text could turn ``tail`` into a placeholder the restorer restores:
    "[" and a prefix of a core in any case, or, starting a word, a prefix in its case."""
    begins_word = before != "_" and not (before.isascii() and before.isalnum())
    for key in RMAP.values:
        core = key[1:-1]
        if tail.startswith("[") and core.startswith(tail[1:].upper()):
            return True
        if tail and core.startswith(tail) and begins_word:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab é[_]EMAILPHONxyz0123", max_size=12), max_size=10))
def test_holds_back_exactly_the_tail_that_could_become_a_placeholder(pieces: list[str]) -> None:
    """The held tail is the longest one that more text could still make a placeholder:
    nothing that could is emitted early, nothing that could not is held."""
    restorer = StreamRestorer(RMAP)
    fed = ""
    for piece in pieces:
        start = len(fed) - len(restorer.pending)
        fed += piece
        restorer.feed(piece)
        buf = fed[start:]
        hold = next(
            (
                i
                for i in range(len(buf))
                if _could_become_placeholder(buf[i:], fed[start + i - 1] if start + i else " ")
            ),
            len(buf),
        )
        assert restorer.pending == buf[hold:], (buf, restorer.pending)
