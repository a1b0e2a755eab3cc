"""Wakes long-polling inbox requests when a new item is committed in this process."""

from __future__ import annotations

import asyncio


class InboxSignal:
    """A broadcast 'something new' signal; waiters re-query, so spurious wake-ups are fine."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Return on the next notify, or after ``seconds`` (other replicas' writes)."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return
