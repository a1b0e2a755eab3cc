"""Detectors of digit shapes, confirmed by checksums and ranges; they run on the numeric view.

Each value these detectors find always contains a digit run, so the engine runs them on
the numeric view of a text (see numeric.py) rather than on the whole text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

from orgtwin.core.privacy import patterns as p
from orgtwin.core.privacy.checksums import (
    IBAN_LENGTHS,
    ascii_digits,
    card_prefix_valid,
    count_digits,
    iban_valid,
    luhn_valid,
    ssn_valid,
)
from orgtwin.core.privacy.phones import phone_valid
from orgtwin.core.privacy.types import (
    CREDIT_CARD,
    IBAN,
    IP_ADDRESS,
    PHONE,
    US_SSN,
    Detection,
)

_CARD_SEP = re.compile(r"[ -]")
# Digit groups of a run, the digits themselves in group 1.
_DIGIT_GROUP = re.compile(r"(\d+)")
_PHONE_GROUP = re.compile(r"\+?\(?(\d+)\)?")


def find_phone_shapes(text: str) -> Iterator[Detection]:
    for m in p.PHONE.on(text).finditer(text):
        candidate = m.group()
        digits = count_digits(candidate)
        if digits < 8:
            continue
        # Without "+" only ten or eleven digits can be valid (see phone_valid): dates and
        # versions with other counts never reach the validator's cache.
        if (candidate[0] == "+" or 10 <= digits <= 11) and phone_valid(candidate):
            yield Detection(PHONE, m.start(), m.end(), 0.9, "phone")
        elif digits > 11:
            # A number glued to the next one ("+44 20 7946 0958 42"): try sub-runs, of
            # ten or eleven digits unless they start with "+".
            least, most = (8, 15) if candidate[0] == "+" else (10, 11)
            for start, end in _sub_runs(candidate, _PHONE_GROUP, phone_valid, least, most):
                yield Detection(PHONE, m.start() + start, m.start() + end, 0.9, "phone")


def _longest_valid(
    run: str, spans: list[tuple[int, int]], valid: Callable[[str], bool]
) -> Iterator[tuple[int, int]]:
    """The valid ``spans`` of ``run``, longest first, none overlapping one taken before."""
    spans.sort(key=lambda s: (s[0] - s[1], s[0]))
    taken: list[tuple[int, int]] = []
    for start, end in spans:
        if any(a < end and start < b for a, b in taken):
            continue
        if valid(run[start:end]):
            taken.append((start, end))
            yield start, end


def _sub_runs(
    run: str, group: re.Pattern[str], valid: Callable[[str], bool], least: int, most: int
) -> Iterator[tuple[int, int]]:
    """Non-overlapping valid sub-runs that start and end on digit groups, longest first.

    Only sub-runs of ``least`` to ``most`` digits are tried: ``valid`` rejects the rest.
    """
    groups = [(g.start(), g.end(), g.end(1) - g.start(1)) for g in group.finditer(run)]
    if len(groups) < 2 or len(groups) > 12:
        return
    last = len(groups) - 1
    # Prefixes and suffixes only: a value is glued to a neighbour on one side or the other.
    spans: list[tuple[int, int]] = []
    head = tail = 0
    for j in range(last):
        head += groups[j][2]
        if least <= head <= most:
            spans.append((groups[0][0], groups[j][1]))
        tail += groups[last - j][2]
        if least <= tail <= most:
            spans.append((groups[last - j][0], groups[last][1]))
    yield from _longest_valid(run, spans, valid)


def find_ssn_shapes(text: str) -> Iterator[Detection]:
    for m in p.SSN.on(text).finditer(text):
        if ssn_valid(m.group(1), m.group(3), m.group(4)):
            yield Detection(US_SSN, m.start(), m.end(), 0.9, "us_ssn")


# How card numbers are grouped when written with separators: 4-4-4-4(-3), Amex 4-6-5,
# Diners 4-6-4. Other groupings ("+49 1511 7737218") are phone numbers or references.
_CARD_GROUPINGS = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1)})


def _card_valid(candidate: str) -> bool:
    parts = _CARD_SEP.split(candidate)
    if len(parts) > 1 and tuple(map(len, parts)) not in _CARD_GROUPINGS:
        return False
    digits = ascii_digits("".join(parts))
    return 13 <= len(digits) <= 19 and card_prefix_valid(digits) and luhn_valid(digits)


def find_cards(text: str) -> Iterator[Detection]:
    for m in p.CARD.on(text).finditer(text):
        if _card_valid(m.group()):
            yield Detection(CREDIT_CARD, m.start(), m.end(), 1.0, "credit_card")
            continue
        # The run may glue a card to a neighbouring number ("order 42 4111 ...").
        found = False
        for start, end in _sub_runs(m.group(), _DIGIT_GROUP, _card_valid, 13, 19):
            found = True
            yield Detection(CREDIT_CARD, m.start() + start, m.start() + end, 1.0, "credit_card")
        if not found:
            # Or to numbers on both sides ("10.20.30.40 378282246310005 42").
            for start, end in _inner_runs(m.group(), _card_valid, 13, 19):
                yield Detection(CREDIT_CARD, m.start() + start, m.start() + end, 1.0, "credit_card")


def _inner_runs(
    run: str, valid: Callable[[str], bool], least: int, most: int
) -> Iterator[tuple[int, int]]:
    """Non-overlapping valid sub-runs that neither start nor end the run, longest first."""
    groups = [(g.start(), g.end(), g.end(1) - g.start(1)) for g in _DIGIT_GROUP.finditer(run)]
    spans: list[tuple[int, int]] = []
    for i in range(1, len(groups) - 1):
        digits = 0
        for j in range(i, len(groups) - 1):
            digits += groups[j][2]
            if digits > most:
                break
            if digits >= least:
                spans.append((groups[i][0], groups[j][1]))
    yield from _longest_valid(run, spans, valid)


def find_ibans(text: str) -> Iterator[Detection]:
    pos = 0
    iban = p.IBAN.on(text)
    while True:
        m = iban.search(text, pos)
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
    # Without "::" an address has eight groups (six and an IPv4 tail): fewer colons can
    # be rejected without the cost of an exception ("10:30:45").
    if "::" not in candidate and candidate.count(":") < 6:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def find_ips(text: str) -> Iterator[Detection]:
    if "." in text:
        for m in p.IPV4.on(text).finditer(text):
            # The regex checked the boundary before the address; this is the one after.
            start, end = m.start(), m.end()
            after = text[end : end + 2]
            if after[:1].isalnum() or after[:1] == "_":
                continue
            if after[:1] == "." and after[1:2].isdigit():
                continue
            if _octets_valid(m.group()):
                yield Detection(IP_ADDRESS, start, end, 0.9, "ip_address")
    if ":" in text and p.IPV6_HINT_RE.search(text):
        for m in p.IPV6.on(text).finditer(text):
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
