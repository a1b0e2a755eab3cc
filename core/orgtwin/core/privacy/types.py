"""Value types of the PII engine: detections, entity types and their specificity."""

from __future__ import annotations

from typing import Final, NamedTuple

EMAIL: Final = "EMAIL"
PHONE: Final = "PHONE"
US_SSN: Final = "US_SSN"
CREDIT_CARD: Final = "CREDIT_CARD"
IBAN: Final = "IBAN"
IP_ADDRESS: Final = "IP_ADDRESS"
DATE_OF_BIRTH: Final = "DATE_OF_BIRTH"
ACCOUNT_NUMBER: Final = "ACCOUNT_NUMBER"
SECRET: Final = "SECRET"
URL_CREDENTIALS: Final = "URL_CREDENTIALS"
EMPLOYEE_ID: Final = "EMPLOYEE_ID"
PERSON: Final = "PERSON"

BUILTIN_TYPES: Final = (
    EMAIL,
    PHONE,
    US_SSN,
    CREDIT_CARD,
    IBAN,
    IP_ADDRESS,
    DATE_OF_BIRTH,
    ACCOUNT_NUMBER,
    SECRET,
    URL_CREDENTIALS,
    EMPLOYEE_ID,
    PERSON,
)

# How specific a detector is: when two detections overlap, the higher value wins, then
# the longer span. Exact org-directory hits and checksum-validated shapes outrank
# context-based guesses, because a checksum or a directory entry is evidence, a
# neighbouring word is only a hint.
SPECIFICITY: Final[dict[str, int]] = {
    "secret": 100,
    "url_credentials": 95,
    "directory": 90,
    "custom": 85,
    "email": 80,
    "iban": 75,
    "credit_card": 70,
    "us_ssn": 65,
    "ip_address": 60,
    "phone": 55,
    "date_of_birth": 40,
    "account_number": 35,
    "person_context": 30,
    "ner": 20,
}


class Detection(NamedTuple):
    """One PII span: ``text[start:end]`` (code points, end exclusive) is of ``type``.

    A named tuple: immutable like a frozen dataclass, at half the cost to create, and
    the engine creates one for every candidate it confirms.
    """

    type: str
    start: int
    end: int
    score: float
    detector: str
