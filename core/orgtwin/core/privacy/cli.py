"""``orgtwin privacy scan|mask``: the engine on files, for users and for evaluation.

``scan`` prints JSON Lines, one object per input line, numbered from 1:
``{"line": N, "detections": [{"type": "EMAIL", "start": S, "end": E, "score": X}]}``
with code-point offsets within the line, end exclusive. This format is stable.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import typer
import yaml

from orgtwin.core.crds.models import AgentProfileSpec, PrivacySpec
from orgtwin.core.privacy.directory import Directory
from orgtwin.core.privacy.engine import Engine

privacy_app = typer.Typer(help="Detect and mask PII in text.", no_args_is_help=True)

KEY_ENV = "ORGTWIN_PROXY_MASKING_KEY"


def load_privacy(path: Path | None) -> PrivacySpec:
    """An AgentProfile object, a profile spec or a bare privacy section, from YAML."""
    if path is None:
        return PrivacySpec()
    doc: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(doc, dict) and "spec" in doc:
        doc = doc["spec"]
    if isinstance(doc, dict) and "role" in doc:
        return AgentProfileSpec.model_validate(doc).privacy
    if isinstance(doc, dict) and "privacy" in doc:
        doc = doc["privacy"]
    return PrivacySpec.model_validate(doc)


def _engine(directory: Path | None, profile: Path | None, secret: bytes) -> Engine:
    people = Directory.from_csv(directory) if directory is not None else None
    return Engine.from_policy(load_privacy(profile), secret, people)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def scan_lines(engine: Engine, text: str) -> list[dict[str, Any]]:
    """The scan records for ``text``, one per line."""
    out = []
    for number, line in enumerate(_lines(text), start=1):
        detections = [
            {"type": d.type, "start": d.start, "end": d.end, "score": round(d.score, 3)}
            for d in engine.detect(line)
        ]
        out.append({"line": number, "detections": detections})
    return out


@privacy_app.command("scan")
def scan(
    source: str = typer.Argument("-", help="File to scan, or - for standard input."),
    directory: Path | None = typer.Option(None, help="Org CSV: names, emails, employee ids."),
    profile: Path | None = typer.Option(None, help="AgentProfile YAML (its privacy section)."),
) -> None:
    """Print the detections of every input line as JSON Lines."""
    engine = _engine(directory, profile, b"scan-needs-no-placeholders")
    for record in scan_lines(engine, _read(source)):
        typer.echo(json.dumps(record, separators=(", ", ": ")))


@privacy_app.command("mask")
def mask(
    source: str = typer.Argument("-", help="File to mask, or - for standard input."),
    directory: Path | None = typer.Option(None, help="Org CSV: names, emails, employee ids."),
    profile: Path | None = typer.Option(None, help="AgentProfile YAML (its privacy section)."),
) -> None:
    """Print the text with PII replaced by placeholders (tenant key from the environment)."""
    key = os.environ.get(KEY_ENV, "").encode()
    if not key:
        # Without the tenant key the placeholders cannot match the proxy's; still useful
        # for a look at what would be masked.
        key = secrets.token_bytes(32)
        typer.echo(f"note: {KEY_ENV} is not set; placeholders use a one-off key", err=True)
    engine = _engine(directory, profile, key)
    masked = engine.mask(_read(source))
    sys.stdout.write(masked.text)
    counts = ", ".join(f"{k}={v}" for k, v in sorted(masked.counts.items()))
    typer.echo(f"masked: {counts or 'nothing'}", err=True)
