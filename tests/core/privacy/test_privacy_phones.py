"""Phone validity agrees with phonenumbers' parse + is_valid_number on every shape we feed it."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from orgtwin.core.privacy.phones import phone_valid

pytestmark = pytest.mark.unit

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def reference(candidate: str) -> bool:
    """What the detectors accepted before the shortcut: phonenumbers itself."""
    digits = [ch for ch in candidate if ch.isdecimal()]
    if candidate.startswith("+"):
        if not 8 <= len(digits) <= 15:
            return False
    else:
        national = "".join(digits)
        if len(national) == 11 and national[0] == "1":
            national = national[1:]
        if len(national) != 10 or national[0] in "01" or national[3] in "01":
            return False
    try:
        number = phonenumbers.parse(candidate, None if candidate.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def candidates(seed: int, count: int) -> list[str]:
    """Real numbers of every region and type, mutated and written the ways text does."""
    rng = random.Random(seed)
    examples = [
        example
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    out: list[str] = []
    while len(out) < count:
        example = rng.choice(examples)
        nsn = phonenumbers.national_significant_number(example)
        keep = rng.randint(0, len(nsn))
        tail = len(nsn) - keep + rng.choice([-1, 0, 0, 1])
        national = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(tail))
        code = str(example.country_code)
        roll = rng.random()
        if roll < 0.4:
            text = f"+{code}{rng.choice(['', ' ', '-', ' (0) ', '.'])}{national}"
        elif roll < 0.6:
            text = f"{rng.choice(['', '1', '1 ', '0'])}{national}"
        elif roll < 0.8:
            try:
                number = phonenumbers.parse(f"+{code}{national}", None)
            except phonenumbers.NumberParseException:
                continue
            style = rng.choice([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL])
            text = phonenumbers.format_number(number, style)
        else:
            text = f"+{code} {national}" if rng.random() < 0.5 else national
            text = "".join(ch.translate(_ARABIC_INDIC) if rng.random() < 0.5 else ch for ch in text)
        out.append(text)
    return out


def test_agrees_with_phonenumbers() -> None:
    sample = candidates(seed=20240, count=3000)
    disagree = [c for c in sample if phone_valid(c) != reference(c)]
    assert disagree == []
    # The sample exercises both answers.
    assert 0.2 < sum(map(phone_valid, sample)) / len(sample) < 0.8


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("+44 20 7946 0958", True),
        ("+44 (0) 20 7946 0958", True),  # trunk prefix: phonenumbers strips it
        ("(415) 555-2671", True),
        ("1 415 555 2671", True),
        ("+1 268 464 1234", True),  # Antigua: a NANP region chosen by leading digits
        ("(555) 555-5555", False),  # no such area code
        ("+800 1234 5678", True),  # non-geographic calling code
        ("+0 123 456 789", False),
        ("٤١٥٥٥٥٢٦٧١", True),  # Arabic-Indic digits
    ],
)
def test_known_numbers(candidate: str, valid: bool) -> None:
    assert phone_valid(candidate) is valid
    assert reference(candidate) is valid
