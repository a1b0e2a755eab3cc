"""The built-in detectors that start at a word, a key prefix or "@", and custom patterns.

Context detectors ("phone: ...", "Dear Jane ...") and key prefixes are found by the
text's scan (see scan.py): each detector gets the offsets of its trigger words and
confirms them with its own regex there. Digit shapes are in shapes.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from orgtwin.core.errors import FieldProblem, InputValidationError
from orgtwin.core.privacy import patterns as p
from orgtwin.core.privacy import shapes
from orgtwin.core.privacy.checksums import ssn_valid
from orgtwin.core.privacy.phones import phone_valid
from orgtwin.core.privacy.scan import Scan, lowered
from orgtwin.core.privacy.types import (
    ACCOUNT_NUMBER,
    CREDIT_CARD,
    DATE_OF_BIRTH,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PERSON,
    PHONE,
    SECRET,
    URL_CREDENTIALS,
    US_SSN,
    Detection,
)

Finder = Callable[[str], Iterable[Detection]]
ScanFinder = Callable[[Scan], Iterable[Detection]]

# A local part starts its run: none of these may stand just before it. A "/" may: an
# address in a URL's path ("/contacts/jane.doe@acme.example") is still an address.
_LOCAL_BEFORE = frozenset("._%+-")
# What looks like an address but names an image at a pixel density: "icon@2x.png".
_DENSITY_SUFFIX = re.compile(r"\d+(?:\.\d+)?x\.[A-Za-z]+\Z")
# The regex engine cannot search backwards: the text before "@" is reversed instead.
_LOCAL_RUN_REVERSED = re.compile(r"[A-Za-z0-9._%+-]{0,64}")
_LOCAL_FIRST = re.compile(r"[A-Za-z0-9_]")


def find_emails(scan: Scan) -> Iterator[Detection]:
    # Anchored on "@": the domain is matched forwards, the local part backwards. The
    # local part starts at the first letter, digit or "_" of the run before "@".
    text = scan.text
    if "@" not in text:
        return
    for m in p.EMAIL_DOMAIN_RE.finditer(text):
        at = m.start()
        low = at - 64
        run = _LOCAL_RUN_REVERSED.match(text[at - 1 : low - 1 if low > 0 else None : -1])
        first = _LOCAL_FIRST.search(text, at - run.end(), at) if run and at else None
        if first is None:
            continue
        start = first.start()
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in _LOCAL_BEFORE):
            continue
        if _DENSITY_SUFFIX.match(m.group(1)):
            continue
        yield Detection(EMAIL, start, m.end(), 0.95, "email")


_PHONE_WORDS = lowered(p.PHONE_WORDS)
_SSN_WORDS = lowered(p.SSN_WORDS)
_DOB_WORDS = lowered(p.DOB_WORDS)
_ACCOUNT_WORDS = lowered(p.ACCOUNT_WORDS)
_PERSON_WORDS = lowered(p.PERSON_WORDS)
_TITLES = lowered(p.TITLES)
_SECRET_PREFIXES = lowered(p.SECRET_PREFIXES)
_URL_SEPARATOR = lowered((p.URL_SEPARATOR,))
_PEM_MARKER = lowered((p.PEM_MARKER,))


def _around(
    scan: Scan, words: frozenset[str], rx: re.Pattern[str], width: int = 96
) -> Iterator[re.Match[str]]:
    """Matches of a case-insensitive context pattern that starts with one of ``words``."""
    text = scan.text
    if not scan.exact_case_fold:
        # Offsets of the lower-cased text are not the text's: search the whole text.
        yield from rx.finditer(text)
        return
    seen_end = -1
    for i in scan.starts(words):
        if i < seen_end:
            continue
        m = rx.match(text, i, min(len(text), i + width))
        if m is not None:
            seen_end = m.end()
            yield m


def _anchored(scan: Scan, anchors: frozenset[str], rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """rx.finditer(text) for a pattern that can only match where one of ``anchors`` starts.

    The scan found the anchors case-insensitively; the regex confirms the exact case.
    """
    text = scan.text
    last = 0
    for i in scan.starts(anchors):
        if i < last:
            continue
        m = rx.match(text, i)
        if m is not None:
            last = m.end()
            yield m


def find_phone_context(scan: Scan) -> Iterator[Detection]:
    for m in _around(scan, _PHONE_WORDS, p.PHONE_CONTEXT_RE):
        if phone_valid(m.group(1)):
            yield Detection(PHONE, m.start(1), m.end(1), 0.8, "phone")


def find_ssn_context(scan: Scan) -> Iterator[Detection]:
    for m in _around(scan, _SSN_WORDS, p.SSN_CONTEXT_RE):
        digits = m.group(1)
        if ssn_valid(digits[:3], digits[3:5], digits[5:]):
            yield Detection(US_SSN, m.start(1), m.end(1), 0.85, "us_ssn")


def find_dates_of_birth(scan: Scan) -> Iterator[Detection]:
    for m in _around(scan, _DOB_WORDS, p.DOB_RE):
        yield Detection(DATE_OF_BIRTH, m.start(1), m.end(1), 0.85, "date_of_birth")


def find_account_numbers(scan: Scan) -> Iterator[Detection]:
    for m in _around(scan, _ACCOUNT_WORDS, p.ACCOUNT_RE):
        yield Detection(ACCOUNT_NUMBER, m.start(1), m.end(1), 0.8, "account_number")


def find_secrets(scan: Scan) -> Iterator[Detection]:
    for m in _anchored(scan, _SECRET_PREFIXES, p.SECRET_RE):
        yield Detection(SECRET, m.start(), m.end(), 0.95, "secret")
    if p.PEM_MARKER in scan.text:
        for m in p.PEM_RE.finditer(scan.text):
            yield Detection(SECRET, m.start(), m.end(), 0.95, "secret")


def find_url_credentials(scan: Scan) -> Iterator[Detection]:
    # Anchored on "://": the user info is matched forwards, the scheme backwards.
    text = scan.text
    last = 0
    for i in scan.starts(_URL_SEPARATOR):
        userinfo = p.URL_USERINFO_RE.match(text, i + 3)
        if userinfo is not None and p.URL_SCHEME_RE.search(text, max(last, i - 16), i):
            yield Detection(
                URL_CREDENTIALS, userinfo.start(1), userinfo.end(1), 0.95, "url_credentials"
            )
            last = userinfo.end()


def find_context_persons(scan: Scan) -> Iterator[Detection]:
    text = scan.text
    titled = _anchored(scan, _TITLES, p.PERSON_TITLE_RE)
    for m in itertools.chain(titled, _around(scan, _PERSON_WORDS, p.PERSON_CONTEXT_RE)):
        names = m.group(1).split()
        # Drop trailing non-names ("Contact Jane Support") and skip pure non-names.
        while names and names[-1] in p.NOT_NAMES:
            names.pop()
        if not names or names[0] in p.NOT_NAMES:
            continue
        start = m.start(1)
        end = text.index(names[-1], start) + len(names[-1])
        yield Detection(PERSON, start, end, 0.6, "person_context")


# Detectors whose values always contain a digit run: they only need to see the tokens
# around digits (see numeric.py), which is a small part of most text. Each comes with
# the fewest digits its values have, so a view with fewer is not searched at all.
NUMERIC_FINDERS: dict[str, tuple[int, Finder]] = {
    PHONE: (8, shapes.find_phone_shapes),
    US_SSN: (9, shapes.find_ssn_shapes),
    CREDIT_CARD: (13, shapes.find_cards),
    IBAN: (2, shapes.find_ibans),
    IP_ADDRESS: (1, shapes.find_ips),
}
# Detectors that start at a word or prefix the scan found, or at "@". Each comes with
# the trigger words one of which the scan must have found for it to find anything
# (None: the detector checks its text itself), so a text without them costs nothing.
SCAN_FINDERS: dict[str, tuple[frozenset[str] | None, ScanFinder]] = {
    EMAIL: (None, find_emails),
    PHONE: (_PHONE_WORDS, find_phone_context),
    US_SSN: (_SSN_WORDS, find_ssn_context),
    DATE_OF_BIRTH: (_DOB_WORDS, find_dates_of_birth),
    ACCOUNT_NUMBER: (_ACCOUNT_WORDS, find_account_numbers),
    SECRET: (_SECRET_PREFIXES | _PEM_MARKER, find_secrets),
    URL_CREDENTIALS: (_URL_SEPARATOR, find_url_credentials),
    PERSON: (_TITLES | _PERSON_WORDS, find_context_persons),
}


@dataclass(frozen=True)
class CustomFinder:
    """A profile's own pattern, reported under the profile's type name."""

    type: str
    regex: re.Pattern[str]

    def __call__(self, text: str) -> Iterator[Detection]:
        for m in self.regex.finditer(text):
            if m.end() > m.start():
                yield Detection(self.type, m.start(), m.end(), 0.9, "custom")


def compile_custom(name: str, regex: str, index: int) -> CustomFinder:
    """Compile a profile pattern; the error names the pattern's position, not its text."""
    try:
        return CustomFinder(name, re.compile(regex))
    except re.error as exc:
        field = f"privacy.customPatterns[{index}].regex"
        raise InputValidationError(
            "invalid custom pattern", [FieldProblem(field, "not a valid regular expression")]
        ) from exc
