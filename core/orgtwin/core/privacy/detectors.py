"""The built-in detectors: regex candidates confirmed by checksums, ranges or context."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import phonenumbers

from orgtwin.core.errors import FieldProblem, InputValidationError
from orgtwin.core.privacy import patterns as p
from orgtwin.core.privacy.checksums import (
    IBAN_LENGTHS,
    card_prefix_valid,
    iban_valid,
    luhn_valid,
    ssn_valid,
)
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


def find_emails(text: str) -> Iterator[Detection]:
    if "@" not in text:
        return
    for m in p.EMAIL_RE.finditer(text):
        yield Detection(EMAIL, m.start(), m.end(), 0.95, "email")


def _phone_valid(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    national = not candidate.startswith("+")
    # Cheap shape checks first: phonenumbers is exact but slow, and dates, versions and
    # amounts produce many candidates.
    if national and not (digits == 10 or (digits == 11 and candidate.lstrip("(")[0] == "1")):
        return False
    if not national and not 8 <= digits <= 15:
        return False
    try:
        number = phonenumbers.parse(candidate, None if candidate.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def find_phones(text: str) -> Iterator[Detection]:
    for m in p.PHONE_RE.finditer(text):
        if _phone_valid(m.group()):
            yield Detection(PHONE, m.start(), m.end(), 0.9, "phone")
    for m in p.PHONE_CONTEXT_RE.finditer(text):
        if _phone_valid(m.group(1)):
            yield Detection(PHONE, m.start(1), m.end(1), 0.8, "phone")


def find_ssns(text: str) -> Iterator[Detection]:
    for m in p.SSN_RE.finditer(text):
        if ssn_valid(m.group(1), m.group(3), m.group(4)):
            yield Detection(US_SSN, m.start(), m.end(), 0.9, "us_ssn")
    for m in p.SSN_CONTEXT_RE.finditer(text):
        digits = m.group(1)
        if ssn_valid(digits[:3], digits[3:5], digits[5:]):
            yield Detection(US_SSN, m.start(1), m.end(1), 0.85, "us_ssn")


def find_cards(text: str) -> Iterator[Detection]:
    for m in p.CARD_RE.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if card_prefix_valid(digits) and luhn_valid(digits):
            yield Detection(CREDIT_CARD, m.start(), m.end(), 1.0, "credit_card")


def find_ibans(text: str) -> Iterator[Detection]:
    for m in p.IBAN_RE.finditer(text):
        raw = m.group()
        need = IBAN_LENGTHS.get(raw[:2])
        if need is None:
            continue
        # The regex is greedy over optional spaces; cut at the country's exact length so a
        # following upper-case word is not swallowed.
        count = 0
        cut = 0
        for i, ch in enumerate(raw):
            if ch != " ":
                count += 1
                if count == need:
                    cut = i + 1
                    break
        if not cut:
            continue
        end = m.start() + cut
        if end < len(text) and text[end].isalnum():
            continue
        if iban_valid(raw[:cut].replace(" ", "")):
            yield Detection(IBAN, m.start(), end, 1.0, "iban")


def find_ips(text: str) -> Iterator[Detection]:
    if "." in text:
        for m in p.IPV4_RE.finditer(text):
            yield Detection(IP_ADDRESS, m.start(), m.end(), 0.9, "ip_address")
    if ":" in text:
        for m in p.IPV6_RE.finditer(text):
            candidate = m.group()
            # Real addresses carry digits; "a::b" and "dead::beef" are code, not hosts.
            if not any(ch.isdigit() for ch in candidate):
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            yield Detection(IP_ADDRESS, m.start(), m.end(), 0.9, "ip_address")


def find_dates_of_birth(text: str) -> Iterator[Detection]:
    for m in p.DOB_RE.finditer(text):
        yield Detection(DATE_OF_BIRTH, m.start(1), m.end(1), 0.85, "date_of_birth")


def find_account_numbers(text: str) -> Iterator[Detection]:
    for m in p.ACCOUNT_RE.finditer(text):
        yield Detection(ACCOUNT_NUMBER, m.start(1), m.end(1), 0.8, "account_number")


def find_secrets(text: str) -> Iterator[Detection]:
    for rx in p.SECRET_RES:
        for m in rx.finditer(text):
            yield Detection(SECRET, m.start(), m.end(), 0.95, "secret")


def find_url_credentials(text: str) -> Iterator[Detection]:
    if "://" not in text:
        return
    for m in p.URL_CREDENTIALS_RE.finditer(text):
        yield Detection(URL_CREDENTIALS, m.start(1), m.end(1), 0.95, "url_credentials")


def find_context_persons(text: str) -> Iterator[Detection]:
    for rx in (p.PERSON_TITLE_RE, p.PERSON_CONTEXT_RE):
        for m in rx.finditer(text):
            words = m.group(1).split()
            # Drop trailing non-names ("Contact Jane Support") and skip pure non-names.
            while words and words[-1] in p.NOT_NAMES:
                words.pop()
            if not words or words[0] in p.NOT_NAMES:
                continue
            start = m.start(1)
            end = text.index(words[-1], start) + len(words[-1])
            yield Detection(PERSON, start, end, 0.6, "person_context")


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
