"""Engine throughput on one core, and Presidio on the same corpus for the speed ratio."""

from __future__ import annotations

import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "core" / "privacy"))

from pii_corpus import Corpus, generate  # noqa: E402

from orgtwin.core.privacy import Engine  # noqa: E402
from orgtwin.core.privacy.phones import phone_valid  # noqa: E402

SECRET = b"bench-masking-key-0123456789abcd"


def _cut(lines: list[str], size: int = 4096) -> list[str]:
    """``lines`` as ~``size``-byte messages."""
    chunks, current = [], ""
    for line in lines:
        current += line + "\n"
        if len(current.encode()) >= size:
            chunks.append(current)
            current = ""
    if current:
        chunks.append(current)
    return chunks


def labeled_corpus() -> Corpus:
    """The labeled + clean corpus of docs/privacy.md, the same in every run."""
    return generate(seed=7, lines=6000, clean_lines=6000)


def corpus_chunks(corpus: Corpus) -> tuple[list[str], Engine]:
    """The corpus's lines shuffled together and cut into ~4 KB messages.

    Half the lines carry PII (one to four values each): far denser than real chat,
    so this is a conservative throughput figure.
    """
    lines = [line.text for line in corpus.labeled] + corpus.clean
    # A fixed shuffle (str hash() is salted per process): every run masks the same chunks.
    lines.sort(key=lambda s: zlib.crc32(s.encode()))
    return _cut(lines), Engine(secret=SECRET, directory=corpus.directory())


def corpus_halves(corpus: Corpus) -> dict[str, float]:
    """Where the dense corpus's time goes: its PII lines and its clean lines, each alone.

    The PII lines carry a value every few dozen bytes, so their rate is set by what one
    detection costs (found, validated, replaced); the clean lines (code, versions,
    dates, amounts, order numbers) show what text without PII costs.
    """
    halves = {"pii_lines": [line.text for line in corpus.labeled], "clean_lines": corpus.clean}
    out: dict[str, float] = {}
    for name, lines in halves.items():
        chunks = _cut(lines)
        # A fresh engine that remembers no text, cold caches: one pass, every text scanned.
        engine = Engine(secret=SECRET, directory=corpus.directory(), memo_chars=0)
        phone_valid.cache_clear()
        start = time.process_time()
        found = sum(sum(engine.mask(c).counts.values()) for c in chunks)
        spent = time.process_time() - start
        size = sum(len(c.encode()) for c in chunks)
        out[f"engine_{name}_mb_per_s"] = size / spent / 1e6
        out[f"engine_{name}_bytes_per_detection"] = size / max(found, 1)
        if name == "pii_lines":
            out["engine_pii_lines_us_per_detection"] = spent / max(found, 1) * 1e6
    return out


def _rate(fn: Callable[[str], object], chunks: list[str]) -> float:
    """MB/s of CPU time in this process (one core), one pass: no value is seen twice."""
    start = time.process_time()
    for chunk in chunks:
        fn(chunk)
    spent = time.process_time() - start
    return sum(len(c.encode()) for c in chunks) / spent / 1e6


def engine_rate(chunks: list[str], engine: Engine) -> float:
    # Cold caches: the phone-validation cache would otherwise flatter repeated runs.
    phone_valid.cache_clear()
    return _rate(engine.mask, chunks)


def presidio_rate(chunks: list[str]) -> float | None:
    """Presidio analyzer + anonymizer with its pattern recognizers and a blank spaCy pipeline."""
    try:
        import spacy
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine
    except ImportError:
        return None

    class BlankSpacy(SpacyNlpEngine):  # type: ignore[misc]
        """No model download: a blank English pipeline (tokens only, no NER)."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    # Presidio's email recognizer asks tldextract, whose first call would try to download
    # the public suffix list (unreachable here: a logged traceback and a wait inside the
    # timed pass). Its bundled snapshot instead, as an offline deployment would use.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    nlp_engine = BlankSpacy(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp_engine.load()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    anonymizer = AnonymizerEngine()

    def mask(text: str) -> object:
        return anonymizer.anonymize(
            text=text, analyzer_results=analyzer.analyze(text, language="en")
        )

    return _rate(mask, chunks[: max(4, len(chunks) // 10)])
