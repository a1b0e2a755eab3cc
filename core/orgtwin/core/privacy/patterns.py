"""Regular expressions of the built-in detectors, compiled once at import."""

from __future__ import annotations

import re
from typing import Final

EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+/-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![\w-])"
)

# A phone candidate has either a leading + or separators between digit groups; a bare
# run of digits is only a phone when a word like "phone" or "tel" stands before it.
PHONE_RE: Final = re.compile(
    r"(?<![\w+/.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){1,5}"
    r"(?![\w-]|\.\d)"
    r"|(?<![\w+])\+\d{7,15}(?!\w)"
)
PHONE_CONTEXT_RE: Final = re.compile(
    r"(?i:\b(?:phone|tel|telephone|mobile|cell|call|fax)\b)\W{0,4}(\d{10,11})(?!\w)"
)

SSN_RE: Final = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
SSN_CONTEXT_RE: Final = re.compile(
    r"(?i:\b(?:ssn|social security(?: number| no\.?)?)\b)\W{0,4}(\d{9})(?!\w)"
)

CARD_RE: Final = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")

IBAN_RE: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4_RE: Final = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
IPV6_RE: Final = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w:])"
)

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})"
)
DOB_RE: Final = re.compile(
    r"(?i:\b(?:date\s+of\s+birth|d\.o\.b\.?|dob|birth\s*date|birthday|born(?:\s+on)?)\b)"
    rf"\s*(?:is\s+)?[:=-]?\s*({_DATE})(?!\w)"
)

ACCOUNT_RE: Final = re.compile(
    r"(?i:\b(?:account|acct|a/c)(?:\s*(?:number|num|no\.?|#))?)\s*(?:is\s+)?[:#=]?\s*"
    r"(\d[\d-]{4,22}\d)(?![\w-])"
)

SECRET_RES: Final = (
    re.compile(r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(
        r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL
    ),
)

URL_CREDENTIALS_RE: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://([^\s:/@]+:[^\s/@]+)@")

_NAME = r"[A-Z][a-z'\u2019-]+"
PERSON_TITLE_RE: Final = re.compile(
    rf"\b(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?[ \t]+({_NAME}(?:[ \t]+{_NAME})?)"
)
PERSON_CONTEXT_RE: Final = re.compile(
    rf"\b(?:[Cc]ontact|[Dd]ear|[Aa]ttn:?|[Cc]c:|[Aa]sk)[ \t]+({_NAME}(?:[ \t]+{_NAME}){{0,2}})"
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
