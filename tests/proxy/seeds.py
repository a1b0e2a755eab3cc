"""Seeded PII for leak tests: checksum-valid values of every type, and where each may travel."""

from __future__ import annotations

import random
from typing import Final

from conftest import PEOPLE

_rng = random.Random(20261121)


def _luhn_complete(prefix: str, length: int) -> str:
    digits = prefix + "".join(str(_rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        candidate = digits + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _iban(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


CARDS: Final = [_luhn_complete("4", 16), _luhn_complete("51", 16), _luhn_complete("37", 15)]
IBANS: Final = [_iban("DE", "370400440532013000"), _iban("GB", "WEST12345698765432")]
SEEDS: Final[list[str]] = [
    *(p[0] for p in PEOPLE),
    *(p[1] for p in PEOPLE),
    *(p[2] for p in PEOPLE),
    "priya.raman@globex.example",
    "+44 20 7946 0958",
    "+1 415-555-2671",
    "123-45-6789",
    "078-05-1120",
    *CARDS,
    *IBANS,
    "10.20.30.40",
    "2001:db8:85a3::8a2e:370:7334",
    "sk-proj-Q2x9LmN4vB7cD1eF6gH3jK8pR5tW0yZ",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "Zq8" * 12,
]
# Values that are PII only in context; the context travels with them.
CONTEXT_SEEDS: Final = {
    "1984-07-21": "DOB: {}",
    "004512345678": "account number {}",
    "hunter2pass": "postgres://admin:{}@db.internal/x",
}
ALL_SEEDS: Final = [*SEEDS, *CONTEXT_SEEDS]


def phrase(seed: str) -> str:
    """The seed in a sentence position where a person would write it."""
    return CONTEXT_SEEDS.get(seed, "{}").format(seed)
