"""orgtwin.core.jsonio, the fast JSON of the proxy and the api, answers as the stdlib does."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from orgtwin.core import jsonio

SAMPLES: list[Any] = [
    {"model": "m", "messages": [{"role": "user", "content": "héllo \u2028 [EMAIL_7K2Q9D] 😀"}]},
    {"seed": 2**70, "neg": -(2**64), "max": 2**64 - 1, "min": -(2**63)},
    {"f": [0.1, 1e-7, 1e300, -0.0, 3.0], "n": None, "t": True, "s": '\\"quoted"\n'},
    [1, "2", [3, {"4": 5}]],
    "a string",
    12345678901234567890123,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_round_trips_match_the_standard_library(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert jsonio.loads_event(text) == json.loads(text)
    assert json.loads(jsonio.dumps(value)) == value


def test_big_integers_stay_integers() -> None:
    parsed = jsonio.loads_event(
        '{"seed": 123456789012345678901234567890, "n": -9223372036854775809}'
    )
    assert parsed == {"seed": 123456789012345678901234567890, "n": -9223372036854775809}
    assert (
        jsonio.dumps(parsed) == b'{"seed":123456789012345678901234567890,"n":-9223372036854775809}'
    )


def test_what_json_accepts_beyond_the_standard_is_still_accepted() -> None:
    assert math.isnan(jsonio.loads_event('{"a": NaN}')["a"])
    assert jsonio.loads_event('"\\ud800"') == "\ud800"
    assert jsonio.loads_event('{"a": 1e400}') == {"a": math.inf}
    assert jsonio.dumps({1: "int key"}) == b'{"1":"int key"}'


@pytest.mark.parametrize("bad", ["", "{", "{not json", "[1,]", "nul"])
def test_invalid_json_raises_a_decode_error(bad: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonio.loads_event(bad)
