"""Read a Dockerfile as (INSTRUCTION, arguments) pairs, for the image tests of agent and deploy."""

from __future__ import annotations

import re
from pathlib import Path


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """The instructions of the last build stage: what the running image is made of."""
    steps = instructions(dockerfile)
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]
