"""Deterministic placeholders: a keyed HMAC of type and value, e.g. ``[EMAIL_7K2Q9D]``.

The same tenant secret, type and value give the same placeholder on every replica and
in every request, so no replica needs shared state to restore what it masked. Within
one request two values that happen to share a code get longer codes until they differ.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

# Crockford base32: no I, L, O or U, so a model is unlikely to "correct" a code.
ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH: Final = 6
MAX_CODE_LENGTH: Final = 16


# Every pair of code characters, indexed by 10 bits: two characters per table lookup.
_PAIRS: Final = [a + b for a in ALPHABET for b in ALPHABET]


def _encode(digest: bytes, length: int) -> str:
    """Base32 of the digest's first 80 bits, cut to ``length`` (as b32encode would spell it)."""
    bits = int.from_bytes(digest[:10], "big")
    if length <= 6:
        # The usual code length: three lookups, no loop.
        code = _PAIRS[bits >> 70] + _PAIRS[(bits >> 60) & 1023] + _PAIRS[(bits >> 50) & 1023]
        return code[:length]
    shifts = range(70, 70 - 10 * ((length + 1) // 2), -10)
    return "".join([_PAIRS[(bits >> shift) & 1023] for shift in shifts])[:length]


class Minter:
    """Mints placeholders for one tenant secret."""

    def __init__(self, secret: bytes, code_length: int = CODE_LENGTH) -> None:
        if not secret:
            raise ValueError("masking secret must not be empty")
        # HMAC's keyed state, copied per value: cheaper than keying a new HMAC each time.
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)
        self.code_length = code_length
        # The same people and values recur in every request; an HMAC costs microseconds.
        self._cache: dict[tuple[str, str, int], str] = {}

    def placeholder(self, entity_type: str, value: str, length: int | None = None) -> str:
        key = (entity_type, value, length or self.code_length)
        found = self._cache.get(key)
        if found is not None:
            return found
        mac = self._keyed.copy()
        mac.update(f"{entity_type}\x1f{value}".encode())
        digest = mac.digest()
        placeholder = f"[{entity_type}_{_encode(digest, key[2])}]"
        if len(self._cache) >= 65536:
            self._cache.clear()
        self._cache[key] = placeholder
        return placeholder


class PlaceholderMap:
    """The placeholders one request (or one mesh payload) assigned, in both directions."""

    def __init__(self, minter: Minter) -> None:
        self._minter = minter
        self._forward: dict[tuple[str, str], str] = {}
        self.reverse: dict[str, str] = {}
        self.collisions = 0

    def assign(self, entity_type: str, value: str) -> str:
        key = (entity_type, value)
        found = self._forward.get(key)
        if found is not None:
            return found
        length = self._minter.code_length
        while True:
            candidate = self._minter.placeholder(entity_type, value, length)
            owner = self.reverse.get(candidate)
            if owner is None or length >= MAX_CODE_LENGTH:
                break
            # Two values share a code: lengthen this one's code, deterministically.
            self.collisions += 1
            length += 2
        self._forward[key] = candidate
        self.reverse[candidate] = value
        return candidate

    def mapping(self) -> Mapping[str, str]:
        return self.reverse
