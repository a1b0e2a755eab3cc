"""The org directory: every person's name, email and employee id, found exactly.

The entries live in the text scan's automaton (see scan.py), so finding them costs no
pass of its own; matching ignores case and whitespace and respects word boundaries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from orgtwin.core.errors import FieldProblem, InputValidationError
from orgtwin.core.privacy.scan import Scanner
from orgtwin.core.privacy.types import EMAIL, EMPLOYEE_ID, PERSON, Detection

# Header names (lower case, without "_") that hold a name, an email or an employee id.
_USABLE = frozenset({"displayname", "name", "email", "employeeid", "id"})


def _column(header: str) -> str:
    return header.strip().lower().replace("_", "")


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
    def from_csv(cls, text: str) -> Directory:
        """Read an org CSV with columns for name, email and employee id (header names vary).

        Raises InputValidationError naming the line of a malformed row, or the header
        when no column holds a name, an email or an employee id.
        """
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        people: list[tuple[str, str, str]] = []
        try:
            columns = {_column(h) for h in reader.fieldnames or ()}
            if not columns & _USABLE:
                raise InputValidationError(
                    "not an org directory",
                    [FieldProblem("header", "no name, email or employee id column", 1)],
                )
            for row in reader:
                lower = {_column(k): (v or "").strip() for k, v in row.items() if k is not None}
                name = lower.get("displayname") or lower.get("name") or ""
                email = lower.get("email", "")
                emp = lower.get("employeeid") or lower.get("id") or ""
                people.append((name, email, emp))
        except csv.Error as exc:
            raise InputValidationError(
                "not an org directory",
                [FieldProblem("row", "malformed CSV", reader.reader.line_num)],
            ) from exc
        return cls.from_people(people)

    def find(self, text: str) -> Iterator[Detection]:
        if self.size:
            yield from self.scanner.scan(text).people
