"""Overlaps, placeholders (determinism, collisions), modes, remembered texts and tolerant
restoration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys

import pytest
from pii_corpus import generate

from orgtwin.core.crds.models import PrivacySpec
from orgtwin.core.privacy import Detection, Directory, Engine, RestoreMap, resolve
from orgtwin.core.privacy.placeholders import ALPHABET, Minter, PlaceholderMap

pytestmark = pytest.mark.unit

SECRET = b"tenant-secret-0123456789abcdef!!"


def test_overlaps_most_specific_then_longest_then_first() -> None:
    dets = [
        Detection("PERSON", 0, 20, 0.6, "person_context"),
        Detection("EMAIL", 5, 15, 0.9, "email"),
        Detection("PHONE", 30, 40, 0.9, "phone"),
        Detection("PHONE", 30, 44, 0.9, "phone"),
        Detection("ACCOUNT_NUMBER", 35, 50, 0.8, "account_number"),
    ]
    kept = resolve(dets)
    assert [(d.type, d.start, d.end) for d in kept] == [("EMAIL", 5, 15), ("PHONE", 30, 44)]


def test_nothing_is_masked_twice() -> None:
    text = "db postgres://bob:pw@db.example.com and card 4111111111111111 account 4111111111111111"
    masked = Engine(secret=SECRET).mask(text)
    assert "pw@" not in masked.text
    assert "4111" not in masked.text
    assert masked.counts == {"URL_CREDENTIALS": 1, "CREDIT_CARD": 2}
    # One value, one placeholder: the card appears twice but maps to a single entry.
    assert sorted(masked.mapping.values()) == ["4111111111111111", "bob:pw"]
    assert "]]" not in masked.text
    assert "[[" not in masked.text


def test_same_secret_same_placeholder_across_processes() -> None:
    code = (
        "from orgtwin.core.privacy import Engine;"
        f"print(Engine(secret={SECRET!r}).mask('mail a.b@c.example now').text)"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    here = Engine(secret=SECRET).mask("mail a.b@c.example now").text
    assert outs == {here}
    assert here.startswith("mail [EMAIL_")
    assert here.endswith("] now")
    other = Engine(secret=b"another-tenant-secret-0123456789").mask("mail a.b@c.example now").text
    assert other != here


def test_placeholder_shape_and_type() -> None:
    text = Engine(secret=SECRET).mask("ssn 123-45-6789").text
    assert text.startswith("ssn [US_SSN_")
    assert len(text) == len("ssn [US_SSN_XXXXXX]")


def test_placeholder_code_is_crockford_base32_of_the_hmac() -> None:
    # Sessions keep placeholders between requests and replicas: the code must not change
    # from one version to the next.
    digest = hmac.digest(SECRET, b"EMAIL\x1fa.b@c.example", hashlib.sha256)
    crockford = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
    code = base64.b32encode(digest[:10]).decode().translate(crockford)
    minter = Minter(SECRET)
    for length in (1, 2, 5, 6, 7, 8, 15, 16):
        assert minter.placeholder("EMAIL", "a.b@c.example", length) == f"[EMAIL_{code[:length]}]"


def test_collisions_within_a_request_get_distinct_placeholders() -> None:
    # One-character codes make collisions certain among 40 values.
    pmap = PlaceholderMap(Minter(SECRET, code_length=1))
    values = [f"user{i}@x.example" for i in range(40)]
    placeholders = [pmap.assign("EMAIL", v) for v in values]
    assert len(set(placeholders)) == len(values)
    assert pmap.collisions > 0
    assert all(pmap.mapping()[p] == v for p, v in zip(placeholders, values, strict=True))
    # The same value keeps its placeholder within the request.
    assert pmap.assign("EMAIL", values[3]) == placeholders[3]


def test_restoration_tolerates_case_and_lost_brackets() -> None:
    masked = Engine(secret=SECRET).mask("write to a.b@c.example")
    placeholder = next(iter(masked.mapping))
    core = placeholder[1:-1]
    rmap = RestoreMap(masked.mapping)
    for variant in (
        placeholder,
        placeholder.lower(),
        core,
        f"[{core}",
        f"{core}]",
        f"[{core.lower()}",
    ):
        assert rmap.restore(f"Sent to {variant}.") == "Sent to a.b@c.example."
    # Both alterations at once are not restored: see restore.py for why.
    assert rmap.restore(f"Sent to {core.lower()}.") == f"Sent to {core.lower()}."


def test_restoration_never_restores_foreign_placeholders() -> None:
    mine = Engine(secret=SECRET).mask("a.b@c.example")
    theirs = Engine(secret=SECRET).mask("x.y@z.example")
    rmap = RestoreMap(mine.mapping)
    foreign = next(iter(theirs.mapping))
    assert rmap.restore(f"see {foreign}") == f"see {foreign}"
    assert rmap.restore("see [EMAIL_ABCDEF] and fooEMAIL_ABCDEF") == (
        "see [EMAIL_ABCDEF] and fooEMAIL_ABCDEF"
    )


def test_json_escaped_restoration_keeps_json_valid() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    masked = Engine(secret=SECRET).mask(key)
    restored = RestoreMap(masked.mapping).restore(f'{{"k": "{masked.text}"}}', json_escape=True)
    import json

    assert json.loads(restored) == {"k": key}


@pytest.mark.parametrize(
    ("mode", "changed", "counted"),
    [("off", False, False), ("detect", False, True), ("mask", True, True), ("strict", True, True)],
)
def test_modes(mode: str, changed: bool, counted: bool) -> None:
    engine = Engine.from_policy(PrivacySpec(mode=mode), SECRET)  # type: ignore[arg-type]
    masked = engine.mask("mail a.b@c.example")
    assert (masked.text != "mail a.b@c.example") is changed
    assert (masked.counts == {"EMAIL": 1}) is counted


def test_from_policy_with_directory_is_the_api_entry_point() -> None:
    directory = Directory.from_people([("Ann Lee", "ann@corp.example", "E-1")])
    engine = Engine.from_policy(PrivacySpec(), SECRET, directory)
    masked = engine.mask("Ann Lee (E-1) wrote")
    assert masked.counts == {"PERSON": 1, "EMPLOYEE_ID": 1}
    assert RestoreMap(masked.mapping).restore(masked.text) == "Ann Lee (E-1) wrote"


def test_remembered_texts_mask_exactly_as_a_fresh_scan() -> None:
    # Each turn re-sends the history: the second time a text is seen its detections are
    # remembered, and what the request gets (text, counts, map) must not change.
    corpus = generate(seed=11, lines=300, clean_lines=100)
    texts = [line.text for line in corpus.labeled] + corpus.clean
    remembering = Engine(secret=SECRET, directory=corpus.directory())
    scanning = Engine(secret=SECRET, directory=corpus.directory(), memo_chars=0)
    for turn in range(2):
        for text in texts:
            assert remembering.mask(text) == scanning.mask(text), (turn, text)
    assert remembering.remembered_chars > 0
    assert scanning.remembered_chars == 0


def test_callers_cannot_change_what_is_remembered() -> None:
    engine = Engine(secret=SECRET)
    text = "mail a.b@c.example or call +44 20 7946 0958"
    first = engine.detect(text)
    first.clear()
    assert [d.type for d in engine.detect(text)] == ["EMAIL", "PHONE"]


def test_memory_of_texts_is_bounded() -> None:
    engine = Engine(secret=SECRET, memo_chars=1000)
    for i in range(200):
        engine.mask(f"message {i}: write to user{i}@x.example about the budget")
        assert engine.remembered_chars <= 1000
    # Forgetting drops only the older half: the memory never empties itself.
    assert engine.remembered_chars > 500
    # A text above half the budget is scanned but not kept.
    before = engine.remembered_chars
    assert engine.mask("x" * 600 + " user@x.example").counts == {"EMAIL": 1}
    assert engine.remembered_chars == before
