"""Standard Kubernetes conditions: build, merge and read them without touching the API.

``lastTransitionTime`` moves only when ``status`` flips, as kubectl and the
apimachinery helpers expect; reason and message updates keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from orgtwin.core.crds.models import Condition

Status = Literal["True", "False", "Unknown"]

READY = "Ready"
PROFILE_RESOLVED = "ProfileResolved"
MANAGER_RESOLVED = "ManagerResolved"
PROFILE_OUTDATED = "ProfileOutdated"
TRANSITION_VALID = "TransitionValid"
USER_ELIGIBLE = "UserEligible"


def now_rfc3339(now: datetime | None = None) -> str:
    """UTC time in RFC 3339 with second precision, as Kubernetes writes it."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime | None:
    """Parse an RFC 3339 time; ``None`` for empty or malformed input."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def make(
    type_: str,
    status: Status,
    reason: str,
    message: str,
    generation: int | None,
    now: str,
) -> Condition:
    return Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        observed_generation=generation,
        last_transition_time=now,
    )


def set_condition(conditions: Sequence[Condition], new: Condition) -> list[Condition]:
    """Return ``conditions`` with ``new`` in place of the one of the same type."""
    result: list[Condition] = []
    replaced = False
    for old in conditions:
        if old.type != new.type:
            result.append(old)
            continue
        replaced = True
        if old.status == new.status:
            new = new.model_copy(update={"last_transition_time": old.last_transition_time})
        result.append(new)
    if not replaced:
        result.append(new)
    return result


def set_all(conditions: Sequence[Condition], news: Iterable[Condition]) -> list[Condition]:
    result = list(conditions)
    for new in news:
        result = set_condition(result, new)
    return result


def remove(conditions: Sequence[Condition], type_: str) -> list[Condition]:
    return [c for c in conditions if c.type != type_]


def get(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def is_true(conditions: Sequence[Condition], type_: str) -> bool:
    found = get(conditions, type_)
    return found is not None and found.status == "True"


def same(a: Sequence[Condition], b: Sequence[Condition]) -> bool:
    """Equal apart from ordering; used to skip no-op status writes."""
    key = lambda c: c.type  # noqa: E731
    return sorted(a, key=key) == sorted(b, key=key)
