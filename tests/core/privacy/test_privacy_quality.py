"""Quality targets on the generated labeled corpus (docs/privacy.md reports the numbers)."""

from __future__ import annotations

import pytest
from pii_corpus import STRUCTURED, Report, evaluate, generate

from orgtwin.core.privacy import Engine

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def report() -> Report:
    corpus = generate(seed=11, lines=2000, clean_lines=1000)
    return evaluate(Engine(secret=b"quality", directory=corpus.directory()), corpus)


@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_types_meet_targets(report: Report, kind: str) -> None:
    assert report.tp[kind] + report.fn[kind] > 50, "the corpus must exercise every type"
    assert report.recall(kind) >= 0.99
    assert report.precision(kind) >= 0.97


def test_directory_values_are_always_found(report: Report) -> None:
    assert report.directory_gold > 500
    assert report.directory_recall == 1.0


def test_clean_text_rarely_flagged(report: Report) -> None:
    assert report.clean_lines == 1000
    assert report.clean_fp_rate <= 0.02
