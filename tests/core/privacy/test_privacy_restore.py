"""Whole-text restoration agrees with its definition, a regular expression, on any text.

The restorer jumps from underscore to underscore instead of running this expression;
hypothesis feeds both texts full of near-placeholders, case changes, lost and doubled
brackets, glued words and non-ASCII letters.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgtwin.core.privacy import Engine, RestoreMap

pytestmark = pytest.mark.unit

# The definition: a word starting with a letter, its part after the last underscore
# 4-16 letters or digits, optionally in brackets; case may change only with the
# opening bracket kept.
DEFINITION = re.compile(
    r"(\[)?(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*)_([0-9A-Za-z]{4,16})(?![A-Za-z0-9_])(\])?"
)


def by_definition(rmap: RestoreMap, text: str, json_escape: bool) -> str:
    def swap(m: re.Match[str]) -> str:
        core = f"{m.group(2)}_{m.group(3)}"
        if m.group(1) is None and core != core.upper():
            return m.group()
        value = rmap.values.get(f"[{core.upper()}]")
        if value is None:
            return m.group()
        return json.dumps(value)[1:-1] if json_escape else value

    return DEFINITION.sub(swap, text)


MASKED = Engine(secret=b"tenant-secret-0123456789abcdef!!").mask(
    'mail ann@x.example, "bob"@y.example or call +44 20 7946 0958; card 4111 1111 1111 1111'
)
RMAP = RestoreMap(MASKED.mapping)
CORES = [p[1:-1] for p in MASKED.mapping]


def _variants(core: str) -> list[str]:
    return [
        f"[{core}]",
        core,
        f"[{core.lower()}]",
        core.lower(),
        f"[{core}",
        f"{core}]",
        f"[[{core}]]",
        f"x{core}",
        f"{core}_x",
        f"_{core}",
        f"é{core}",
        f"{core}é",
        f"[{core[:-1]}]",
        f"{core}9",
    ]


pieces = st.one_of(
    st.sampled_from([v for core in CORES for v in _variants(core)]),
    st.sampled_from(["_", "[", "]", " ", "a_b", "snake_case_word", "X_ABCD", "\\", '"', "é"]),
    st.text(alphabet="aZ09_[] é\n", max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=12), st.booleans())
def test_restore_agrees_with_the_definition(items: list[str], json_escape: bool) -> None:
    text = "".join(items)
    assert RMAP.restore(text, json_escape=json_escape) == by_definition(RMAP, text, json_escape)


def test_restores_every_variant_the_definition_restores() -> None:
    for core in CORES:
        for text in _variants(core):
            assert RMAP.restore(text) == by_definition(RMAP, text, False), text
    # The fixture itself is meaningful: both spellings the definition allows are restored.
    value = MASKED.mapping[f"[{CORES[0]}]"]
    assert RMAP.restore(f"[{CORES[0].lower()}] and {CORES[0]}") == f"{value} and {value}"
