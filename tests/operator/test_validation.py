"""Profile rules the CRD schema cannot express."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fixtures_profiles import RAW_PROFILE

from orgtwin.operator.validation import ProfileInvalidError, validate_profile

pytestmark = pytest.mark.unit


def variant(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW_PROFILE)
    raw.update(changes)
    return raw


def test_valid_profile_passes() -> None:
    assert validate_profile(copy.deepcopy(RAW_PROFILE)).role == "finance"


@pytest.mark.parametrize(
    ("raw", "reason", "field"),
    [
        (variant(model={"provider": "acme-llm", "name": "x"}), "UnknownProvider", "provider"),
        (
            variant(goose={"extensions": [{"name": "x", "type": "stdio"}]}),
            "InvalidExtension",
            "cmd",
        ),
        (
            variant(goose={"extensions": [{"name": "x", "type": "streamable_http"}]}),
            "InvalidExtension",
            "uri",
        ),
        (
            variant(goose={"extensions": [{"name": "x", "type": "builtin", "cmd": "sh"}]}),
            "InvalidExtension",
            "cmd",
        ),
        (
            variant(goose={"extensions": [{"name": "orgtwin", "type": "builtin"}]}),
            "InvalidExtension",
            "name",
        ),
        (
            variant(
                goose={
                    "extensions": [
                        {"name": "a", "type": "builtin"},
                        {"name": "a", "type": "builtin"},
                    ]
                }
            ),
            "InvalidExtension",
            "name",
        ),
        (
            variant(privacy={"customPatterns": [{"name": "X", "regex": "([unclosed"}]}),
            "InvalidPattern",
            "regex",
        ),
        (variant(session={"idleTimeout": "0s"}), "InvalidDuration", "idle_timeout"),
        (variant(role="Not A Role!"), "InvalidSpec", "role"),
    ],
)
def test_invalid_profiles(raw: dict[str, Any], reason: str, field: str) -> None:
    with pytest.raises(ProfileInvalidError) as info:
        validate_profile(raw)
    assert info.value.reason == reason
    assert field in str(info.value)


def test_messages_never_echo_values() -> None:
    secretish = "sk-live-THIS-MUST-NOT-LEAK"
    raw = variant(privacy={"customPatterns": [{"name": "X", "regex": f"({secretish}"}]})
    with pytest.raises(ProfileInvalidError) as info:
        validate_profile(raw)
    assert secretish not in str(info.value)
