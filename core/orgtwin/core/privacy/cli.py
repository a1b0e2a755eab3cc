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
from pydantic import ValidationError

from orgtwin.core.crds.models import AgentProfileSpec, PrivacySpec
from orgtwin.core.errors import InputValidationError, validation_problems
from orgtwin.core.privacy.directory import Directory
from orgtwin.core.privacy.engine import Engine

privacy_app = typer.Typer(help="Detect and mask PII in text.", no_args_is_help=True)

KEY_ENV = "ORGTWIN_PROXY_MASKING_KEY"


def load_privacy(path: Path | None) -> PrivacySpec:
    """An AgentProfile object, a profile spec or a bare privacy section, from YAML."""
    if path is None:
        return PrivacySpec()
    try:
        doc: Any = yaml.safe_load(_read(path, "--profile")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise _bad("--profile", f"{path} is not valid YAML{where}") from None
    prefix = ""
    if isinstance(doc, dict) and "spec" in doc:
        doc, prefix = doc["spec"], "spec"
    if not isinstance(doc, dict):
        what = "expected an AgentProfile, its spec or a privacy section"
        raise _bad("--profile", f"{path}: {prefix or 'the document'} is not a mapping ({what})")
    try:
        if "role" in doc:
            return AgentProfileSpec.model_validate(doc).privacy
        if "privacy" in doc:
            doc, prefix = doc["privacy"], ".".join(filter(None, [prefix, "privacy"]))
        return PrivacySpec.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(map(str, validation_problems(exc, prefix)))
        raise _bad("--profile", f"{path}: {problems}") from None


def _engine(directory: Path | None, profile: Path | None, secret: bytes) -> Engine:
    """The engine for the options, or a usage error naming the option and what is wrong."""
    people = None
    if directory is not None:
        try:
            people = Directory.from_csv(_read(directory, "--directory"))
        except InputValidationError as exc:
            raise _bad("--directory", f"{directory}: {_problems(exc)}") from None
    privacy = load_privacy(profile)
    try:
        return Engine.from_policy(privacy, secret, people)
    except InputValidationError as exc:
        raise _bad("--profile", f"{profile}: {_problems(exc)}") from None


def _bad(option: str, message: str) -> typer.BadParameter:
    return typer.BadParameter(message, param_hint=f"'{option}'")


def _problems(exc: InputValidationError) -> str:
    return "; ".join(map(str, exc.problems)) or str(exc)


def _read(path: Path | None, option: str) -> str:
    """The file's text, or standard input's for None: UTF-8, a leading byte-order mark
    dropped (it would shift line 1's offsets)."""
    try:
        raw = sys.stdin.buffer.read() if path is None else path.read_bytes()
    except OSError as exc:
        raise _bad(option, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _bad(option, f"not UTF-8 text (line {line})") from None


def _source(source: str) -> str:
    return _read(None if source == "-" else Path(source), "SOURCE")


def _lines(text: str) -> list[str]:
    """Lines as text-mode reading splits them: at "\n", "\r\n" or a lone "\r"."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


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
    for record in scan_lines(engine, _source(source)):
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
    masked = engine.mask(_source(source))
    sys.stdout.write(masked.text)
    counts = ", ".join(f"{k}={v}" for k, v in sorted(masked.counts.items()))
    typer.echo(f"masked: {counts or 'nothing'}", err=True)
