"""The checksums agree with their textbook definitions on every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orgtwin.core.privacy.checksums import IBAN_LENGTHS, ascii_digits, iban_valid, luhn_valid


def _luhn_textbook(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_textbook(compact: str) -> bool:
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=19))
def test_luhn_is_the_textbook_luhn(digits: str) -> None:
    assert luhn_valid(digits) == _luhn_textbook(digits)


def test_luhn_accepts_real_card_numbers_and_rejects_one_digit_off() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


# Real IBANs and their one-character mutations: the check must catch the mutations.
_IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"]


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(_IBANS),
    st.integers(min_value=0, max_value=30),
    st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\u0663"),
)
def test_iban_check_is_the_textbook_mod_97(iban: str, at: int, ch: str) -> None:
    mutated = iban[: at % len(iban)] + ch + iban[at % len(iban) + 1 :]
    assert iban_valid(mutated) == _iban_textbook(mutated)
    assert iban_valid(iban)


def test_digits_of_any_script_become_ascii_digits() -> None:
    assert ascii_digits("\u0664\u0661\u0662") == "412"
    assert ascii_digits("0412") == "0412"
