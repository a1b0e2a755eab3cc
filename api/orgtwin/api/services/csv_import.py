"""Parse and validate an org chart CSV completely before anything is written.

Every problem names its line (1 is the header) and column, never the value:
checks are encoding, header, row shape, each field, duplicate ids and emails
(case-insensitive), unknown managers, reporting cycles (named by employee id)
and unknown profiles.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from orgtwin.core import k8s
from orgtwin.core.crds.models import EMAIL_PATTERN, EMPLOYEE_ID_PATTERN, NAME_PATTERN
from orgtwin.core.errors import FieldProblem

COLUMNS = ("employee_id", "name", "email", "department", "title", "manager_id", "profile")
_ID = re.compile(EMPLOYEE_ID_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_PROFILE = re.compile(NAME_PATTERN)
_LIMITS = {"name": 200, "email": 254, "department": 200, "title": 200, "profile": 253}


@dataclass(frozen=True)
class Row:
    line: int
    employee_id: str
    name: str
    email: str
    department: str
    title: str
    manager_id: str
    profile: str


class TooManyRowsError(Exception):
    """More data rows than the configured cap."""


def decode(raw: bytes) -> tuple[str | None, list[FieldProblem]]:
    """UTF-8 (an optional BOM is dropped); a bad byte is reported with its line."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [FieldProblem("encoding", "not valid UTF-8", line)]


def parse(text: str, max_rows: int) -> tuple[list[Row], list[FieldProblem]]:
    """Header and per-row field checks."""
    problems: list[FieldProblem] = []
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [FieldProblem("encoding", "contains a NUL character", line)]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error:
        return [], [FieldProblem("header", "malformed CSV", 1)]
    if header is None:
        return [], [FieldProblem("header", "the file is empty", 1)]
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    dupes = sorted({h for h in names if names.count(h) > 1})
    for col in missing:
        problems.append(FieldProblem("header", f"missing column {col}", 1))
    for col in unknown:
        problems.append(FieldProblem("header", f"unknown column {col[:40]!r}", 1))
    for col in dupes:
        problems.append(FieldProblem("header", f"duplicate column {col}", 1))
    if problems:
        return [], problems
    index = {name: i for i, name in enumerate(names)}
    rows: list[Row] = []
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            if len(rows) >= max_rows:
                raise TooManyRowsError
            if len(record) != len(names):
                problems.append(
                    FieldProblem("row", f"has {len(record)} fields, expected {len(names)}", line)
                )
                continue
            values = {c: record[index[c]].strip() for c in COLUMNS}
            problems.extend(_check_fields(values, line))
            rows.append(Row(line=line, **values))
    except csv.Error:
        problems.append(FieldProblem("row", "malformed CSV (quoting)", line + 1))
    if not rows and not problems:
        problems.append(FieldProblem("row", "no data rows", 2))
    return rows, problems


def _check_fields(v: dict[str, str], line: int) -> list[FieldProblem]:
    out: list[FieldProblem] = []
    if not _ID.match(v["employee_id"]):
        out.append(FieldProblem("employee_id", "missing or not a valid employee id", line))
    if not v["name"]:
        out.append(FieldProblem("name", "is required", line))
    if not _EMAIL.match(v["email"]):
        out.append(FieldProblem("email", "not a valid email address", line))
    if v["manager_id"] and not _ID.match(v["manager_id"]):
        out.append(FieldProblem("manager_id", "not a valid employee id", line))
    if v["manager_id"] and v["manager_id"] == v["employee_id"]:
        out.append(FieldProblem("manager_id", "an employee cannot be their own manager", line))
    if v["profile"] and not _PROFILE.match(v["profile"]):
        out.append(FieldProblem("profile", "not a valid profile name", line))
    for column, limit in _LIMITS.items():
        if len(v[column]) > limit:
            out.append(FieldProblem(column, f"longer than {limit} characters", line))
    return out


def check_rows(rows: list[Row], profiles: set[str]) -> list[FieldProblem]:
    """Checks across rows: duplicates, managers, cycles and profiles."""
    problems: list[FieldProblem] = []
    first_id: dict[str, int] = {}
    first_object: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for row in rows:
        if row.employee_id in first_id:
            problems.append(
                FieldProblem(
                    "employee_id",
                    f"duplicate id (first on line {first_id[row.employee_id]})",
                    row.line,
                )
            )
        else:
            first_id[row.employee_id] = row.line
            obj = k8s.user_object_name(row.employee_id)
            if obj in first_object:
                problems.append(
                    FieldProblem(
                        "employee_id",
                        f"collides with the id on line {first_object[obj]} (same object name)",
                        row.line,
                    )
                )
            first_object.setdefault(obj, row.line)
        email = row.email.casefold()
        if email in first_email:
            problems.append(
                FieldProblem(
                    "email", f"duplicate email (first on line {first_email[email]})", row.line
                )
            )
        first_email.setdefault(email, row.line)
    ids = set(first_id)
    for row in rows:
        if row.manager_id and row.manager_id not in ids:
            problems.append(FieldProblem("manager_id", "unknown manager id", row.line))
        if row.profile and row.profile not in profiles:
            problems.append(FieldProblem("profile", "unknown profile", row.line))
    problems.extend(_cycles(rows, first_id))
    return problems


def _cycles(rows: list[Row], line_of: dict[str, int]) -> list[FieldProblem]:
    manager = {r.employee_id: r.manager_id for r in rows if r.manager_id}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    found: list[FieldProblem] = []
    for start in manager:
        path: list[str] = []
        node: str | None = start
        while node is not None and state.get(node, 0) == 0:
            state[node] = 1
            path.append(node)
            node = manager.get(node)
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            named = " -> ".join([*cycle, node])
            found.append(
                FieldProblem(
                    "manager_id", f"reporting cycle: {named}", min(line_of[c] for c in cycle)
                )
            )
        for visited in path:
            state[visited] = 2
    return found
