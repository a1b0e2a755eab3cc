"""Phone number validity: phonenumbers' own rules, checked without parsing.

``phonenumbers.parse`` plus ``is_valid_number`` costs tens of microseconds a number,
mostly Python overhead around a handful of regex matches. For the shapes the
detectors produce (digits and separators, with or without a leading "+") the parse
reduces to "split off the calling code", so validity is checked here directly against
phonenumbers' metadata patterns, in the order phonenumbers tries them. Anything
the shortcut does not cover exactly (a national trunk prefix, a leading zero, a
non-geographic calling code) still goes through phonenumbers itself.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

# phonenumbers' limits on a national significant number.
_MIN_NSN = 2
_MAX_NSN = 17
_NON_GEO = "001"
_NANP = 1


def _desc_pattern(desc: object, length: int) -> re.Pattern[str] | None:
    """The desc's pattern if a number of ``length`` digits may match it (phonenumbers' test)."""
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = getattr(desc, "possible_length", ())
    if lengths and length not in lengths:
        return None
    # The same strings phonenumbers compiles: re's cache shares the compiled patterns.
    return re.compile(pattern)


class _Region:
    """Validity for one region: the general pattern and at least one number type match."""

    def __init__(self, metadata: PhoneMetadata) -> None:
        self._metadata = metadata
        self._by_length: dict[int, tuple[re.Pattern[str], list[re.Pattern[str]]] | None] = {}
        leading = metadata.leading_digits
        self.leading = re.compile(leading) if leading else None

    def valid(self, nsn: str) -> bool:
        length = len(nsn)
        if length not in self._by_length:
            self._by_length[length] = self._patterns(length)
        patterns = self._by_length[length]
        if patterns is None or patterns[0].fullmatch(nsn) is None:
            return False
        return any(p.fullmatch(nsn) is not None for p in patterns[1])

    def _patterns(self, length: int) -> tuple[re.Pattern[str], list[re.Pattern[str]]] | None:
        md = self._metadata
        general = _desc_pattern(md.general_desc, length)
        # The types phonenumbers' number-type test tries, in its order; the mobile
        # pattern is only tried when it differs from the fixed-line one.
        descs = [
            md.premium_rate,
            md.toll_free,
            md.shared_cost,
            md.voip,
            md.personal_number,
            md.pager,
            md.uan,
            md.voicemail,
            md.fixed_line,
        ]
        if not md.same_mobile_and_fixed_line_pattern:
            descs.append(md.mobile)
        types = [p for p in (_desc_pattern(d, length) for d in descs) if p is not None]
        if general is None or not types:
            return None
        return general, types


@functools.cache
def _regions(calling_code: int) -> tuple[_Region, ...] | None:
    """The regions sharing a calling code, in phonenumbers' order; None when not covered."""
    names = COUNTRY_CODE_TO_REGION_CODE.get(calling_code)
    if not names or _NON_GEO in names:
        return None
    regions: list[_Region] = []
    for name in names:
        metadata = PhoneMetadata.metadata_for_region(name, None)
        if metadata is not None:
            regions.append(_Region(metadata))
    return tuple(regions)


@functools.cache
def _trunk_prefix(calling_code: int) -> re.Pattern[str] | None:
    """The national prefix phonenumbers strips after the calling code (its main region's)."""
    metadata = PhoneMetadata.metadata_for_region(COUNTRY_CODE_TO_REGION_CODE[calling_code][0], None)
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(prefix) if prefix else None


def _valid_nsn(calling_code: int, nsn: str, regions: tuple[_Region, ...]) -> bool:
    """phonenumbers.is_valid_number for a parsed number, without building one."""
    if len(COUNTRY_CODE_TO_REGION_CODE[calling_code]) == 1:
        return bool(regions) and regions[0].valid(nsn)
    # Several regions share the code: the first whose leading digits match decides;
    # regions without leading digits are tried by full validation, in order.
    for region in regions:
        if region.leading is None:
            if region.valid(nsn):
                return True
        elif region.leading.match(nsn):
            return region.valid(nsn)
    return False


def _parse_and_validate(candidate: str) -> bool:
    try:
        number = phonenumbers.parse(candidate, None if candidate.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _international(candidate: str, digits: str) -> bool:
    if digits[0] != "0":
        # The calling code is the shortest known prefix, as phonenumbers takes it.
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in COUNTRY_CODE_TO_REGION_CODE:
                nsn = digits[size:]
                regions = _regions(code)
                trunk = _trunk_prefix(code)
                if (
                    regions is None
                    or not _MIN_NSN <= len(nsn) <= _MAX_NSN
                    or nsn[0] == "0"
                    or (trunk is not None and trunk.match(nsn))
                ):
                    break
                return _valid_nsn(code, nsn, regions)
    return _parse_and_validate(candidate)


@functools.lru_cache(maxsize=16384)
def phone_valid(candidate: str) -> bool:
    """Whether phonenumbers accepts ``candidate``: with "+" any country, without it the US.

    Cached: every turn re-sends the conversation, so the same numbers come back.
    """
    digits = "".join(filter(str.isdecimal, candidate))
    if candidate.startswith("+"):
        if not 8 <= len(digits) <= 15:
            return False
        # Digits of other scripts are phonenumbers' to normalise.
        return (
            _international(candidate, digits)
            if digits.isascii()
            else _parse_and_validate(candidate)
        )
    # Without "+" only North American numbers are accepted: ten digits (after an
    # optional leading 1) whose area code and exchange start with 2-9. Such a number
    # parses to calling code 1 and those ten digits.
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return False
    if not digits.isascii():
        return _parse_and_validate(candidate)
    regions = _regions(_NANP)
    return regions is not None and _valid_nsn(_NANP, digits, regions)
