"""``orgtwin privacy scan`` prints the stable JSON Lines format; ``mask`` prints masked text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orgtwin.core.privacy.cli import privacy_app

pytestmark = pytest.mark.unit

INPUT = "mail ann@corp.example\n\ncafé Dr. Helena Marsh, SSN 123-45-6789\r\nplain\n"


def test_scan_format_is_pinned(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text(INPUT, encoding="utf-8")
    result = CliRunner().invoke(privacy_app, ["scan", str(source)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        '{"line": 1, "detections": [{"type": "EMAIL", "start": 5, "end": 21, "score": 0.95}]}',
        '{"line": 2, "detections": []}',
        '{"line": 3, "detections": [{"type": "PERSON", "start": 9, "end": 21, "score": 0.6}, '
        '{"type": "US_SSN", "start": 27, "end": 38, "score": 0.9}]}',
        '{"line": 4, "detections": []}',
    ]


def test_scan_offsets_are_code_points_and_directory_and_profile_apply(tmp_path: Path) -> None:
    org = tmp_path / "org.csv"
    org.write_text("employeeId,displayName,email\nE-7,Zoë Ålund,zoe@corp.example\n", "utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "kind: AgentProfile\nspec:\n  role: finance\n  model: {provider: openai, name: m}\n"
        "  privacy:\n    entities: [PERSON, EMPLOYEE_ID]\n",
        "utf-8",
    )
    line = "— Zoë Ålund (E-7), zoe@corp.example"
    args = ["scan", "-", "--directory", str(org), "--profile", str(profile)]
    output = CliRunner().invoke(privacy_app, args, input=line + "\n").output
    records = [json.loads(x) for x in output.splitlines()]
    assert len(records) == 1
    spans = [(d["type"], line[d["start"] : d["end"]]) for d in records[0]["detections"]]
    # EMAIL is outside the profile's entities, so only the name and the id are reported.
    assert spans == [("PERSON", "Zoë Ålund"), ("EMPLOYEE_ID", "E-7")]


def test_mask_prints_masked_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGTWIN_PROXY_MASKING_KEY", "k" * 32)
    result = CliRunner().invoke(privacy_app, ["mask", "-"], input="mail ann@corp.example\n")
    assert result.exit_code == 0
    assert result.stdout.startswith("mail [EMAIL_")
    assert "ann@corp.example" not in result.stdout
