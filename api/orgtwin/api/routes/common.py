"""Shared route pieces: the problem responses every route may give."""

from __future__ import annotations

from typing import Any

from orgtwin.api.schemas.common import Problem

PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
AUTHED: dict[int | str, dict[str, Any]] = {
    401: PROBLEM,
    403: PROBLEM,
    404: PROBLEM,
    413: PROBLEM,
    422: PROBLEM,
    503: PROBLEM,
}
POSTED: dict[int | str, dict[str, Any]] = {**AUTHED, 409: PROBLEM}
