"""Regular expressions of the built-in detectors, compiled once at import."""

from __future__ import annotations

import re
from typing import Final, NamedTuple


class Shape(NamedTuple):
    r"""A digit-shape pattern, and its re.ASCII twin for ASCII text.

    On ASCII text both match exactly the same: these patterns use \d, \w and \b, never
    \s or \S (the classes that differ there, at "\x1c" to "\x1f") and no IGNORECASE.
    The twin tests digits and word characters without a Unicode table lookup each.
    """

    unicode: re.Pattern[str]
    ascii: re.Pattern[str]

    def on(self, text: str) -> re.Pattern[str]:
        return self.ascii if text.isascii() else self.unicode


def shape(pattern: str) -> Shape:
    if "\\s" in pattern or "\\S" in pattern:
        raise ValueError(r"a Shape pattern must not use \s or \S: its ASCII twin would differ")
    return Shape(re.compile(pattern), re.compile(pattern, re.ASCII))


# Most patterns start with a character class and check the word boundary with a
# lookbehind *after* the first character: the regex engine can then skip ahead to
# candidate characters instead of trying every position (several times faster).
EMAIL_DOMAIN_RE: Final = re.compile(
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-])"
)
EMAIL_LOCAL_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}\Z")

# A phone candidate has either a leading + or separators between digit groups; a bare
# run of digits is only a phone when a word like "phone" or "tel" stands before it.
_PHONE_END = r"(?![\w-]|\.\d)"
# The first character is a class so the regex engine can skip to candidates; the
# alternative is chosen by what that character was.
PHONE: Final = shape(
    r"[+(\d](?<![\w+/.-][+(\d])"
    r"(?:(?<=\+)\d{1,3}(?:[ .-]?\(\d{1,5}\))?(?:[ .-]?\d{1,5}){1,6}"
    r"|(?<=\()\d{1,5}\)[ .-]?\d{1,5}(?:[ .-]\d{1,5}){0,5}"
    r"|(?<=\d)\d{0,4}(?:[ .-]\d{1,5}){1,5})" + _PHONE_END
)
# Trigger words: a context pattern can only match where one of its words starts. Every
# pattern behind PHONE_, SSN_, DOB_ and PERSON_WORDS and TITLES also needs the word to
# end there (scan.WHOLE_WORDS), so each form it accepts is listed ("tel", "telephone").
PHONE_WORDS: Final = ("phone", "tel", "telephone", "mobile", "cell", "call", "fax")
PHONE_CONTEXT_RE: Final = re.compile(
    r"(?i:\b(?:phone|tel|telephone|mobile|cell|call|fax)\b)\W{0,4}(\d{10,11})(?!\w)"
)

SSN: Final = shape(r"(\d(?<![\w-]\d)\d\d)([- ])(\d{2})\2(\d{4})(?![\w-])")
SSN_WORDS: Final = ("ssn", "social security")
SSN_CONTEXT_RE: Final = re.compile(
    r"(?i:\b(?:ssn|social security(?: number| no\.?)?)\b)\W{0,4}(\d{9})(?!\w)"
)

CARD: Final = shape(r"\d(?<![\w+-]\d)(?:[ -]?\d){12,18}(?![\w-])")

IBAN: Final = shape(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}")

# Octet ranges and boundaries are checked in code; the regex only finds the shape.
# The boundary before the address is checked here, after the first digit, so the regex
# engine skips to digits that start a number.
IPV4: Final = shape(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}")
# Two hex groups joined by a colon, or "::": without one there is no IPv6 address.
IPV6_HINT_RE: Final = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f:]|::")
# Groups "hex:" or ":", two to eight of them; the first group is spelled out so the
# pattern starts with a character class (see above) and checks the boundary after it.
IPV6: Final = shape(
    r"[0-9A-Fa-f:](?<![\w:.][0-9A-Fa-f:])(?:(?<=:)|(?<=[0-9A-Fa-f])[0-9A-Fa-f]{0,3}:)"
    r"(?:[0-9A-Fa-f]{1,4}:|:){1,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})"
)
DOB_WORDS: Final = ("date", "birth", "birthdate", "birthday", "dob", "d.o.b", "born")
DOB_RE: Final = re.compile(
    r"(?i:\b(?:date\s+of\s+birth|d\.o\.b\.?|dob|birth\s*date|birthday|born(?:\s+on)?)\b)"
    rf"\s*(?:is\s+)?[:=-]?\s*({_DATE})(?!\w)"
)

ACCOUNT_WORDS: Final = ("account", "acct", "a/c")
ACCOUNT_RE: Final = re.compile(
    r"(?i:\b(?:account|acct|a/c)(?:\s*(?:number|num|no\.?|#))?)\s*(?:is\s+)?[:#=]?\s*"
    r"(\d[\d-]{4,22}\d)(?![\w-])"
)

# One pass for every token shape. Each alternative starts with a literal so the regex
# engine can skip ahead; the word-boundary check follows the first character.
SECRET_RE: Final = re.compile(
    r"(?:s(?<![\w-]s)k-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"
    r"|A(?<!\wA)(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Za-z])"
    r"|A(?<!\wA)Iza[0-9A-Za-z_-]{35}"
    r"|g(?<!\wg)(?:h[pousr]_[A-Za-z0-9]{36,255}(?!\w)|ithub_pat_[A-Za-z0-9_]{22,255}"
    r"|lpat-[A-Za-z0-9_-]{20,})"
    r"|x(?<!\wx)ox[abposr]-[A-Za-z0-9-]{10,}"
    r"|e(?<!\we)yJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
# Literal prefixes of SECRET_RE: it can only match where one of these starts.
SECRET_PREFIXES: Final = (
    "sk-", "AKIA", "ASIA", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "xox", "eyJ",
)  # fmt: skip
PEM_MARKER: Final = "-----BEGIN"
PEM_RE: Final = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL
)

# "scheme://user:password@", in two parts around "://": the scheme is searched for
# between "://" and the 16 characters before it.
URL_SEPARATOR: Final = "://"
URL_SCHEME_RE: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}\Z")
URL_USERINFO_RE: Final = re.compile(r"([^\s:/@]+:[^\s/@]+)@")

_NAME = r"[A-Z][a-z'\u2019-]+"
TITLES: Final = ("Dr", "Mr", "Mrs", "Ms", "Mx", "Prof")
PERSON_TITLE_RE: Final = re.compile(
    r"(?:D(?<!\wD)r|M(?<!\wM)(?:rs|r|s|x)|P(?<!\wP)rof)\.?[ \t]+"
    rf"({_NAME}(?:[ \t]+{_NAME})?)"
)
PERSON_WORDS: Final = ("contact", "dear", "attn", "cc:", "ask")
PERSON_CONTEXT_RE: Final = re.compile(
    r"(?:[Cc](?<!\w[Cc])(?:ontact|c:)|[Dd](?<!\w[Dd])ear|[Aa](?<!\w[Aa])(?:ttn:?|sk))[ \t]+"
    rf"({_NAME}(?:[ \t]+{_NAME}){{0,2}})"
)
# Capitalised words that follow "contact"/"dear" without being anybody's name.
NOT_NAMES: Final = frozenset(
    [
        "Support",
        "Team",
        "Us",
        "Sales",
        "The",
        "Customer",
        "Service",
        "Sir",
        "Madam",
        "All",
        "Hr",
        "Admin",
        "Billing",
        "Help",
        "Desk",
        "Our",
        "Your",
        "Me",
        "Them",
        "Him",
        "Her",
        "It",
        "This",
        "That",
        "Someone",
        "Everyone",
        "Legal",
        "Finance",
        "IT",
    ]
)
