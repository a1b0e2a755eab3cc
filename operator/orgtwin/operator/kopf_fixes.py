"""A fix for a start-up race in kopf's namespace discovery (kopf 1.45.2, the pinned version).

With namespace globs, kopf lists the namespaces once, then starts its namespace
watch-stream, which lists them again and watches from that second list. It ignores
the objects of the second list ("type None" events), assuming the first list already
had them. A namespace created between the two lists is in neither the first list nor
the watch, so kopf never serves it: no handler runs there until the namespace object
changes or the operator restarts. A loop of operator starts, each followed at once by a
new namespace, hit it once in 14 starts (notes on issue 3).

The fix notices the namespaces of the second list too. Adding a namespace kopf already
knows changes nothing, so this only costs one set insert per namespace at start-up.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from kopf._core.reactor import observation

FIXED_VERSION = "1.45.2"
"""The kopf version this was checked against; a test fails when the pin moves."""

KOPF_PROCESSOR = observation.process_discovered_namespace_event
"""kopf's own processor, kept so a test can show the race it has."""


async def notice_listed_namespaces(
    *,
    raw_event: Any,
    namespaces: Collection[Any],
    insights: Any,
    **_: Any,
) -> None:
    """kopf's namespace event processor, without skipping the watch-stream's own listing."""
    async with insights.revised:
        observation.revise_namespaces(
            raw_events=[raw_event], insights=insights, namespaces=namespaces
        )
        insights.revised.notify_all()


def apply() -> None:
    """Install the fix; kopf looks the processor up by name when its observer starts."""
    observation.process_discovered_namespace_event = notice_listed_namespaces
