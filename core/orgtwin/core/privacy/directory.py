"""The org directory: every person's name, email and employee id, found exactly.

The entries live in the text scan's automaton (see scan.py), so finding them costs no
pass of its own; matching ignores case and whitespace and respects word boundaries.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from orgtwin.core.privacy.scan import Scanner
from orgtwin.core.privacy.types import EMAIL, EMPLOYEE_ID, PERSON, Detection


class Directory:
    """Exact matcher over the organisation's people (names, emails, employee ids)."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self.scanner = Scanner(entries)
        self.size = self.scanner.size

    @classmethod
    def from_people(cls, people: Iterable[tuple[str, str, str]]) -> Directory:
        """Build from ``(name, email, employee_id)`` tuples; empty fields are skipped."""
        entries: list[tuple[str, str]] = []
        for name, email, employee_id in people:
            if name:
                entries.append((PERSON, name))
            if email:
                entries.append((EMAIL, email))
            if employee_id:
                entries.append((EMPLOYEE_ID, employee_id))
        return cls(entries)

    @classmethod
    def from_csv(cls, path: Path) -> Directory:
        """Read an org CSV with columns for name, email and employee id (header names vary)."""
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        people: list[tuple[str, str, str]] = []
        for row in rows:
            lower = {k.strip().lower().replace("_", ""): (v or "").strip() for k, v in row.items()}
            name = lower.get("displayname") or lower.get("name") or ""
            email = lower.get("email", "")
            emp = lower.get("employeeid") or lower.get("id") or ""
            people.append((name, email, emp))
        return cls.from_people(people)

    def find(self, text: str) -> Iterator[Detection]:
        if self.size:
            yield from self.scanner.scan(text).people
