"""Checksums and range rules that separate real identifiers from look-alike digit runs."""

from __future__ import annotations

import string
from typing import Final

# Lengths of the IBAN per country (ISO 13616 registry, the countries in common use).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


# Byte tables for Luhn: a digit's value, and the digit sum of twice its value.
_VALUE: Final = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED: Final = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))


def count_digits(text: str) -> int:
    """How many characters of ``text`` the regex ``\\d`` matches: str.isdecimal is exactly that."""
    return sum(map(str.isdecimal, text))


def ascii_digits(digits: str) -> str:
    """Decimal digits of any script ("\u0664\u0661") as ASCII digits ("41")."""
    return digits if digits.isascii() else "".join(str(int(ch)) for ch in digits)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers, of ASCII digits."""
    raw = digits.encode()
    # From the right: every second digit counts doubled (minus 9 when that is over 9).
    total = sum(raw[-1::-2].translate(_VALUE)) + sum(raw[-2::-2].translate(_DOUBLED))
    return total % 10 == 0


def card_prefix_valid(digits: str) -> bool:
    """Issuer prefixes and lengths of the major card networks."""
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    two = int(digits[:2])
    four = int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return n in (16, 19)
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19
    if digits.startswith("62"):
        return 16 <= n <= 19
    return False


_LETTER_VALUES: Final = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})


def iban_valid(compact: str) -> bool:
    """Country length and the ISO 7064 mod-97 check of an IBAN without spaces."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    # Letters become numbers (A = 10 ... Z = 35); int() reads digits of any script.
    number = (compact[4:] + compact[:4]).translate(_LETTER_VALUES)
    return int(number) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: no 000, 666 or 9xx area, no 00 group, no 0000 serial."""
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )
