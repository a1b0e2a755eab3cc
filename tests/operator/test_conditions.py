"""Standard conditions: lastTransitionTime moves only when the status flips."""

from __future__ import annotations

import pytest

from orgtwin.operator import conditions

pytestmark = pytest.mark.unit


def test_transition_time_kept_while_status_unchanged() -> None:
    first = conditions.make("Ready", "False", "Starting", "a", 1, "2026-01-01T00:00:00Z")
    later = conditions.make("Ready", "False", "PodNotReady", "b", 2, "2026-01-01T00:05:00Z")
    (merged,) = conditions.set_condition([first], later)
    assert merged.last_transition_time == "2026-01-01T00:00:00Z"
    assert (merged.reason, merged.observed_generation) == ("PodNotReady", 2)


def test_transition_time_moves_when_status_flips() -> None:
    first = conditions.make("Ready", "False", "Starting", "a", 1, "2026-01-01T00:00:00Z")
    flipped = conditions.make("Ready", "True", "Started", "b", 1, "2026-01-01T00:05:00Z")
    (merged,) = conditions.set_condition([first], flipped)
    assert merged.last_transition_time == "2026-01-01T00:05:00Z"


def test_other_types_are_kept() -> None:
    a = conditions.make("A", "True", "X", "", 1, "t")
    b = conditions.make("B", "True", "Y", "", 1, "t")
    assert [c.type for c in conditions.set_condition([a], b)] == ["A", "B"]
    assert conditions.is_true([a, b], "B")
    assert conditions.get([a], "B") is None


def test_parse_time() -> None:
    assert conditions.parse_time("2026-01-01T00:00:00Z") is not None
    assert conditions.parse_time("garbage") is None
    assert conditions.parse_time(None) is None
