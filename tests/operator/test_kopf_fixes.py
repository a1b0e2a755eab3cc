"""The fix for kopf's namespace start-up race, on kopf's own observer data structures."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import pytest
from kopf._cogs.structs import references
from kopf._core.reactor import observation

from orgtwin.operator import kopf_fixes

pytestmark = pytest.mark.unit


def _listed(name: str) -> dict[str, object]:
    """A namespace as the watch-stream's own initial listing hands it over (type None)."""
    return {"type": None, "object": {"metadata": {"name": name}}}


def test_a_namespace_only_in_the_watch_streams_listing_is_served() -> None:
    async def scenario(processor: object) -> set[object]:
        insights = references.Insights()
        for name in ("op1-a", "other-b"):
            await processor(  # type: ignore[operator]
                raw_event=_listed(name), namespaces=["op1-*"], insights=insights
            )
        return set(insights.namespaces)

    # kopf as released drops it: the operator would never serve "op1-a".
    assert asyncio.run(scenario(kopf_fixes.KOPF_PROCESSOR)) == set()
    assert asyncio.run(scenario(kopf_fixes.notice_listed_namespaces)) == {"op1-a"}


def test_apply_installs_the_fix_where_kopf_looks_it_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # Put kopf back as it was when the test ends.
    monkeypatch.setattr(
        observation, "process_discovered_namespace_event", kopf_fixes.KOPF_PROCESSOR
    )
    kopf_fixes.apply()
    assert observation.process_discovered_namespace_event is kopf_fixes.notice_listed_namespaces


def test_the_fix_is_re_checked_when_kopf_moves() -> None:
    # The race is in kopf's private observer; re-read observation.namespace_observer
    # before moving the pin, and drop the fix if kopf no longer skips listed namespaces.
    assert version("kopf") == kopf_fixes.FIXED_VERSION
