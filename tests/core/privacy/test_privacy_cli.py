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


def _refused(args: list[str], stdin: bytes | None = None) -> str:
    """The usage error of a refused invocation: exit code 2 and nothing on stdout."""
    result = CliRunner().invoke(privacy_app, args, input=stdin)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return " ".join(result.stderr.replace("│", " ").split())


def test_bad_input_is_refused_with_the_option_and_line_and_no_value(tmp_path: Path) -> None:
    # Line 1 is fine and carries PII; line 2 has a byte that is not UTF-8. Nothing is
    # printed for line 1 and the error names the line, never the text.
    error = _refused(["scan", "-"], b"mail ann@corp.example\nbad \xff byte\n")
    assert "Invalid value for 'SOURCE': not UTF-8 text (line 2)" in error
    assert "ann@corp.example" not in error
    assert "cannot read" in _refused(["scan", str(tmp_path / "missing.txt")])

    def refused(option: str, text: str) -> str:
        path = tmp_path / "option-file"
        path.write_text(text, "utf-8")
        return _refused(["scan", "-", option, str(path)], b"hi\n")

    assert "is not valid YAML (line 1, column 6)" in refused("--profile", "a: [b")
    assert "spec.privacy.mode: Input should be 'off'" in refused(
        "--profile", "spec: {privacy: {mode: loud}}"
    )
    assert "privacy.customPatterns[0].regex: not a valid regular expression" in refused(
        "--profile", "privacy: {customPatterns: [{name: EMP, regex: '('}]}"
    )
    assert "the document is not a mapping" in refused("--profile", "- a\n- b\n")

    assert "line 1: header: no name, email or employee id column" in refused(
        "--directory", "a,b\n1,2\n"
    )
    assert "line 2: row: malformed CSV" in refused(
        "--directory", 'name,email\n"Ann Lee,ann@corp.example\n'
    )


def test_a_byte_order_mark_is_no_text_and_a_lone_carriage_return_ends_a_line(
    tmp_path: Path,
) -> None:
    org = tmp_path / "org.csv"
    org.write_bytes(b"\xef\xbb\xbfName,Email\nAnn Lee,ann@corp.example\n")
    args = ["scan", "-", "--directory", str(org)]
    result = CliRunner().invoke(privacy_app, args, input="\ufeffcall Ann Lee\rnext\r\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(x) for x in result.stdout.splitlines()] == [
        {"line": 1, "detections": [{"type": "PERSON", "start": 5, "end": 12, "score": 1.0}]},
        {"line": 2, "detections": []},
    ]
