"""A bounded per-session cache of placeholders, for values the model recalls from earlier turns.

Each request already restores everything it masked itself; this cache only helps when
a later request's answer mentions a placeholder from an earlier one that the client
no longer sends. Bounded in sessions and entries per session, least recently used out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping


class SessionCache:
    def __init__(self, max_sessions: int = 4096, max_entries: int = 512) -> None:
        self._max_sessions = max_sessions
        self._max_entries = max_entries
        self._data: OrderedDict[str, OrderedDict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str) -> dict[str, str]:
        with self._lock:
            entries = self._data.get(session)
            if entries is None:
                return {}
            self._data.move_to_end(session)
            return dict(entries)

    def remember(self, session: str, mapping: Mapping[str, str]) -> None:
        if not mapping:
            return
        with self._lock:
            entries = self._data.get(session)
            if entries is None:
                entries = self._data[session] = OrderedDict()
            self._data.move_to_end(session)
            for key, value in mapping.items():
                entries[key] = value
                entries.move_to_end(key)
            while len(entries) > self._max_entries:
                entries.popitem(last=False)
            while len(self._data) > self._max_sessions:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
