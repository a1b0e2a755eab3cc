"""A create's answer is written without building a TaskRead: it must be the bytes GET
/v1/mesh/status writes for the same item (seq aside)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from orgtwin.api.models import Task
from orgtwin.api.repositories.mesh_create import NewTask
from orgtwin.api.services.mesh import _render_new, to_read

DATA: list[dict[str, Any]] = [
    {},
    {"amount": 1250.5, "tiny": 1e-7, "huge": 1e16, "neg": -0.0, "pi": 3.141592653589793},
    {"n": 42, "big": 2**63 - 1, "min": -(2**63), "ok": True, "none": None},
    {"nested": {"list": [1, "two", [3.5, {"k": "v"}]], "empty": [], "obj": {}}},
    {"text": 'quote " backslash \\ slash </script> tab \t nl \n ctl \x01 \x1f del \x7f'},
    {"unicode": "Zoë — 東京 🚀 \u2028 \u2029 \ufeff", "ключ": "значение"},
    {"beyond_64_bits": 2**64 + 1},
]


def _as_status_renders_it(new: NewTask) -> bytes:
    """The item as GET /v1/mesh/status renders a stored task, with seq 0."""
    fields = dataclasses.asdict(new)
    task = Task(**fields, seq=0, recipient_session=None, updated_at=new.created_at)
    return to_read(task, []).model_dump_json().encode()


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("microsecond", [0, 1, 123456])
def test_a_new_items_answer_is_the_bytes_status_writes_for_it(
    data: dict[str, Any], microsecond: int
) -> None:
    new = NewTask(
        id=uuid.uuid4(),
        kind="approval",
        type="expense",
        title='Trip to "Zürich" — 2 nights',
        body="Line one\nLine two [EMAIL_7K2Q9D]",
        data=data,
        status="pending",
        sender_session="finance-ada-1",
        sender_user="E1001",
        sender_role="finance",
        recipient_user="E1000",
        recipient_role=None,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        created_at=datetime(2026, 11, 22, 7, 1, 29, microsecond, tzinfo=UTC),
    )
    assert _render_new(new) == _as_status_renders_it(new)
