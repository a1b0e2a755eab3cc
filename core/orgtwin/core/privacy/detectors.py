"""The built-in detectors: regex candidates confirmed by checksums, ranges or context."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from orgtwin.core.errors import FieldProblem, InputValidationError
from orgtwin.core.privacy import patterns as p
from orgtwin.core.privacy.checksums import (
    IBAN_LENGTHS,
    card_prefix_valid,
    iban_valid,
    luhn_valid,
    ssn_valid,
)
from orgtwin.core.privacy.phones import phone_valid
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

_DIGIT = re.compile(r"\d")
_CARD_SEP = re.compile(r"[ -]")
_DIGIT_GROUP = re.compile(r"\d+")
_PHONE_GROUP = re.compile(r"\+?\(?\d+\)?")


def _count_digits(text: str) -> int:
    return len(_DIGIT.findall(text))


_LOCAL_BEFORE = frozenset("._%+-/")
# The regex engine cannot search backwards: the text before "@" is reversed instead.
_LOCAL_RUN_REVERSED = re.compile(r"[A-Za-z0-9._%+-]{0,64}")
_LOCAL_FIRST = re.compile(r"[A-Za-z0-9_]")


def find_emails(text: str) -> Iterator[Detection]:
    # Anchored on "@": the domain is matched forwards, the local part backwards. The
    # local part starts at the first letter, digit or "_" of the run before "@".
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
        yield Detection(EMAIL, start, m.end(), 0.95, "email")


_last_lower: tuple[str, str] = ("", "")


def _lower(text: str) -> str:
    """text.lower(), shared by the context detectors that run one after another on a text."""
    global _last_lower
    cached = _last_lower
    if cached[0] is text:
        return cached[1]
    low = text.lower()
    _last_lower = (text, low)
    return low


def _around(
    text: str, words: tuple[str, ...], rx: re.Pattern[str], width: int = 96
) -> Iterator[re.Match[str]]:
    """Matches of a context pattern, searched only next to its trigger words.

    Context patterns are case-insensitive and start with the trigger word, which the
    regex engine cannot skip to quickly; finding the words with str.find is far faster.
    """
    low = _lower(text)
    if len(low) != len(text):
        yield from rx.finditer(text)
        return
    starts: set[int] = set()
    for word in words:
        i = low.find(word)
        while i >= 0:
            starts.add(i)
            i = low.find(word, i + 1)
    seen_end = -1
    for i in sorted(starts):
        if i < seen_end:
            continue
        m = rx.match(text, i, min(len(text), i + width))
        if m is not None:
            seen_end = m.end()
            yield m


def find_phones(text: str) -> Iterator[Detection]:
    yield from find_phone_shapes(text)
    yield from find_phone_context(text)


def find_phone_shapes(text: str) -> Iterator[Detection]:
    for m in p.PHONE_RE.finditer(text):
        candidate = m.group()
        digits = _count_digits(candidate)
        if digits < 8:
            continue
        if phone_valid(candidate):
            yield Detection(PHONE, m.start(), m.end(), 0.9, "phone")
        elif digits > 11:
            # A number glued to the next one ("+44 20 7946 0958 42"): try sub-runs.
            for start, end in _sub_runs(candidate, _PHONE_GROUP, phone_valid):
                yield Detection(PHONE, m.start() + start, m.start() + end, 0.9, "phone")


def find_phone_context(text: str) -> Iterator[Detection]:
    for m in _around(text, ("phone", "tel", "mobile", "cell", "call", "fax"), p.PHONE_CONTEXT_RE):
        if phone_valid(m.group(1)):
            yield Detection(PHONE, m.start(1), m.end(1), 0.8, "phone")


def _sub_runs(
    run: str, group: re.Pattern[str], valid: Callable[[str], bool]
) -> Iterator[tuple[int, int]]:
    """Non-overlapping valid sub-runs that start and end on digit groups, longest first."""
    groups = [(g.start(), g.end()) for g in group.finditer(run)]
    if len(groups) < 2 or len(groups) > 12:
        return
    last = len(groups) - 1
    # Prefixes and suffixes only: a value is glued to a neighbour on one side or the other.
    spans = [(groups[0][0], groups[j][1]) for j in range(last)]
    spans += [(groups[i][0], groups[last][1]) for i in range(1, last + 1)]
    spans.sort(key=lambda s: (s[0] - s[1], s[0]))
    taken: list[tuple[int, int]] = []
    for start, end in spans:
        if any(a < end and start < b for a, b in taken):
            continue
        if valid(run[start:end]):
            taken.append((start, end))
            yield start, end


def find_ssns(text: str) -> Iterator[Detection]:
    yield from find_ssn_shapes(text)
    yield from find_ssn_context(text)


def find_ssn_shapes(text: str) -> Iterator[Detection]:
    for m in p.SSN_RE.finditer(text):
        if ssn_valid(m.group(1), m.group(3), m.group(4)):
            yield Detection(US_SSN, m.start(), m.end(), 0.9, "us_ssn")


def find_ssn_context(text: str) -> Iterator[Detection]:
    for m in _around(text, ("ssn", "social security"), p.SSN_CONTEXT_RE):
        digits = m.group(1)
        if ssn_valid(digits[:3], digits[3:5], digits[5:]):
            yield Detection(US_SSN, m.start(1), m.end(1), 0.85, "us_ssn")


# How card numbers are grouped when written with separators: 4-4-4-4(-3), Amex 4-6-5,
# Diners 4-6-4. Other groupings ("+49 1511 7737218") are phone numbers or references.
_CARD_GROUPINGS = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1)})


def _card_valid(candidate: str) -> bool:
    parts = _CARD_SEP.split(candidate)
    if len(parts) > 1 and tuple(map(len, parts)) not in _CARD_GROUPINGS:
        return False
    digits = "".join(parts)
    return 13 <= len(digits) <= 19 and card_prefix_valid(digits) and luhn_valid(digits)


def find_cards(text: str) -> Iterator[Detection]:
    for m in p.CARD_RE.finditer(text):
        if _card_valid(m.group()):
            yield Detection(CREDIT_CARD, m.start(), m.end(), 1.0, "credit_card")
            continue
        # The run may glue a card to a neighbouring number ("order 42 4111 ...").
        for start, end in _sub_runs(m.group(), _DIGIT_GROUP, _card_valid):
            yield Detection(CREDIT_CARD, m.start() + start, m.start() + end, 1.0, "credit_card")


def find_ibans(text: str) -> Iterator[Detection]:
    pos = 0
    while True:
        m = p.IBAN_RE.search(text, pos)
        if m is None:
            return
        pos = m.start() + 1
        raw = m.group()
        need = IBAN_LENGTHS.get(raw[:2])
        if need is None:
            continue
        # The regex is greedy over optional spaces; cut at the country's exact length so a
        # following upper-case word or a second IBAN is not swallowed.
        count = 0
        cut = 0
        for i, ch in enumerate(raw):
            if ch != " ":
                count += 1
                if count == need:
                    cut = i + 1
                    break
        end = m.start() + cut
        if not cut or (end < len(text) and text[end].isalnum()):
            continue
        if iban_valid(raw[:cut].replace(" ", "")):
            yield Detection(IBAN, m.start(), end, 1.0, "iban")
            pos = end


def _octets_valid(candidate: str) -> bool:
    return all(int(o) <= 255 and (o == "0" or o[0] != "0") for o in candidate.split("."))


def _ipv6_valid(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def find_ips(text: str) -> Iterator[Detection]:
    if "." in text:
        for m in p.IPV4_RE.finditer(text):
            start, end = m.start(), m.end()
            before = text[start - 1] if start else " "
            after = text[end : end + 2]
            if before.isalnum() or before in "._" or (after[:1].isalnum() or after[:1] == "_"):
                continue
            if after[:1] == "." and after[1:2].isdigit():
                continue
            if _octets_valid(m.group()):
                yield Detection(IP_ADDRESS, start, end, 0.9, "ip_address")
    if ":" in text and p.IPV6_HINT_RE.search(text):
        for m in p.IPV6_RE.finditer(text):
            candidate = m.group()
            # Real addresses carry digits; "a::b" and "dead::beef" are code, not hosts.
            if not any(ch.isdigit() for ch in candidate):
                continue
            end = m.end()
            if not _ipv6_valid(candidate):
                # "addr:port" written without brackets: the address without the port.
                candidate = candidate.rsplit(":", 1)[0]
                end = m.start() + len(candidate)
                if not _ipv6_valid(candidate):
                    continue
            yield Detection(IP_ADDRESS, m.start(), end, 0.9, "ip_address")


def find_dates_of_birth(text: str) -> Iterator[Detection]:
    for m in _around(text, ("date", "birth", "dob", "d.o.b", "born"), p.DOB_RE):
        yield Detection(DATE_OF_BIRTH, m.start(1), m.end(1), 0.85, "date_of_birth")


def find_account_numbers(text: str) -> Iterator[Detection]:
    for m in _around(text, ("account", "acct", "a/c"), p.ACCOUNT_RE):
        yield Detection(ACCOUNT_NUMBER, m.start(1), m.end(1), 0.8, "account_number")


def _anchored(text: str, anchors: tuple[str, ...], rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """rx.finditer(text) for a pattern that can only match where one of ``anchors`` starts.

    str.find skips to the few places worth trying; the regex engine would try every
    character of the pattern's first-character class.
    """
    starts: list[int] = []
    for anchor in anchors:
        i = text.find(anchor)
        while i >= 0:
            starts.append(i)
            i = text.find(anchor, i + 1)
    last = 0
    for i in sorted(starts):
        if i < last:
            continue
        m = rx.match(text, i)
        if m is not None:
            last = m.end()
            yield m


def find_secrets(text: str) -> Iterator[Detection]:
    for m in _anchored(text, p.SECRET_PREFIXES, p.SECRET_RE):
        yield Detection(SECRET, m.start(), m.end(), 0.95, "secret")
    if "-----BEGIN" in text:
        for m in p.PEM_RE.finditer(text):
            yield Detection(SECRET, m.start(), m.end(), 0.95, "secret")


def find_url_credentials(text: str) -> Iterator[Detection]:
    # Anchored on "://": the user info is matched forwards, the scheme backwards.
    last = 0
    i = text.find("://")
    while i >= 0:
        userinfo = p.URL_USERINFO_RE.match(text, i + 3)
        if userinfo is not None and p.URL_SCHEME_RE.search(text, max(last, i - 16), i):
            yield Detection(
                URL_CREDENTIALS, userinfo.start(1), userinfo.end(1), 0.95, "url_credentials"
            )
            last = userinfo.end()
        i = text.find("://", i + 1)


def find_context_persons(text: str) -> Iterator[Detection]:
    words = ("contact", "dear", "attn", "cc:", "ask")
    titled = _anchored(text, ("Dr", "Mr", "Ms", "Mx", "Prof"), p.PERSON_TITLE_RE)
    for m in itertools.chain(titled, _around(text, words, p.PERSON_CONTEXT_RE)):
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
# around digits (see numeric.py), which is a small part of most text.
NUMERIC_FINDERS: dict[str, Finder] = {
    PHONE: find_phone_shapes,
    US_SSN: find_ssn_shapes,
    CREDIT_CARD: find_cards,
    IBAN: find_ibans,
    IP_ADDRESS: find_ips,
}
# Detectors that need the whole text (context words, '@', key prefixes, names).
TEXT_FINDERS: dict[str, Finder] = {
    EMAIL: find_emails,
    PHONE: find_phone_context,
    US_SSN: find_ssn_context,
    DATE_OF_BIRTH: find_dates_of_birth,
    ACCOUNT_NUMBER: find_account_numbers,
    SECRET: find_secrets,
    URL_CREDENTIALS: find_url_credentials,
    PERSON: find_context_persons,
}
# Each type's whole detector, for direct use.
BUILTIN_FINDERS: dict[str, Finder] = {
    EMAIL: find_emails,
    PHONE: find_phones,
    US_SSN: find_ssns,
    CREDIT_CARD: find_cards,
    IBAN: find_ibans,
    IP_ADDRESS: find_ips,
    DATE_OF_BIRTH: find_dates_of_birth,
    ACCOUNT_NUMBER: find_account_numbers,
    SECRET: find_secrets,
    URL_CREDENTIALS: find_url_credentials,
    PERSON: find_context_persons,
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
