"""Every detector finds its positives and leaves look-alikes alone."""

from __future__ import annotations

import pytest

from orgtwin.core.crds.models import CustomPattern, PrivacySpec
from orgtwin.core.errors import InputValidationError
from orgtwin.core.privacy import Directory, Engine

pytestmark = pytest.mark.unit

SECRET = b"k" * 32


# 4111 1111 1111 1111 in Arabic-Indic digits.
ARABIC_CARD = " ".join(["\u0664" + "\u0661" * 3] + ["\u0661" * 4] * 3)


def found(text: str, engine: Engine | None = None) -> list[tuple[str, str]]:
    engine = engine or Engine(secret=SECRET)
    return [(d.type, text[d.start : d.end]) for d in engine.detect(text)]


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

POSITIVES = [
    ("write to jane.roe+x@mail.example.org today", "EMAIL", "jane.roe+x@mail.example.org"),
    # In a URL's path, as CRMs and wikis link a person's page.
    (
        "https://crm.example/contacts/jane.roe@mail.example.org",
        "EMAIL",
        "jane.roe@mail.example.org",
    ),
    ("call +44 20 7946 0958 please", "PHONE", "+44 20 7946 0958"),
    ("call (415) 555-2671 please", "PHONE", "(415) 555-2671"),
    ("call +4930901820 please", "PHONE", "+4930901820"),
    ("phone: 4155552671", "PHONE", "4155552671"),
    # Each form a context pattern accepts is a trigger word of its own.
    ("Telephone: 4155552671", "PHONE", "4155552671"),
    ("ssn 123-45-6789.", "US_SSN", "123-45-6789"),
    ("SSN: 123456789", "US_SSN", "123456789"),
    ("card 4111 1111 1111 1111 ok", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("amex 378282246310005", "CREDIT_CARD", "378282246310005"),
    # Arabic-Indic digits: the issuer prefix and Luhn read the digits' values.
    (f"card {ARABIC_CARD} ok", "CREDIT_CARD", ARABIC_CARD),
    # Glued to numbers on both sides (found by the proxy's leak property test).
    ("from 10.20.30.40 378282246310005 42 times", "CREDIT_CARD", "378282246310005"),
    ("iban DE89 3704 0044 0532 0130 00 EUR", "IBAN", "DE89 3704 0044 0532 0130 00"),
    ("iban GB82WEST12345698765432", "IBAN", "GB82WEST12345698765432"),
    ("host 192.168.10.4 down", "IP_ADDRESS", "192.168.10.4"),
    ("host 2001:db8:85a3::8a2e:370:7334 down", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    ("DOB: 1984-07-21", "DATE_OF_BIRTH", "1984-07-21"),
    ("born on March 3, 1979 in Lyon", "DATE_OF_BIRTH", "March 3, 1979"),
    ("Birthday: 1984-07-21", "DATE_OF_BIRTH", "1984-07-21"),
    ("birthdate 21/07/1984", "DATE_OF_BIRTH", "21/07/1984"),
    ("account number: 004512345678", "ACCOUNT_NUMBER", "004512345678"),
    ("key sk-proj-Abcdefghijklmnopqrstuvwx123", "SECRET", "sk-proj-Abcdefghijklmnopqrstuvwx123"),
    ("aws AKIAIOSFODNN7EXAMPLE", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("gh ghp_" + "a" * 36, "SECRET", "ghp_" + "a" * 36),
    ("slack xoxb-1234567890-abcdef", "SECRET", "xoxb-1234567890-abcdef"),
    (
        "jwt " + JWT,
        "SECRET",
        JWT,
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----",
        "SECRET",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----",
    ),
    ("db postgres://admin:s3cr3t@db.internal:5432/x", "URL_CREDENTIALS", "admin:s3cr3t"),
    ("ask Dr. Helena Marsh about it", "PERSON", "Helena Marsh"),
    ("the draft went to Mrs Helena Marsh", "PERSON", "Helena Marsh"),
    ("Attn: Priya Raman", "PERSON", "Priya Raman"),
    ("please contact Priya Raman today", "PERSON", "Priya Raman"),
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_detector_finds(text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(text)


NEGATIVES = [
    "no at sign here, just prose about emails",
    "release v1.2.3 and 10.0.19041 build",
    "order ORD-2024-118822 shipped on 2024-01-15",
    "invoice total 1,234,567.89 EUR",
    "ssn 000-12-3456 and 666-12-3456 and 912-12-3456 are invalid",
    "card 4111 1111 1111 1112 fails Luhn",
    "iban DE89 3704 0044 0532 0130 01 fails mod 97",
    "ip 999.1.1.1 is no address and 1.2.3 is a version",
    "the meeting is on 1984-07-21",
    "my account is fine, 12 items",
    "task-runner sk-short and AKIA-not",
    "std::vector<int> and a::b in code",
    "https://example.com/path@2x.png",
    "see logo@3x.webp and icon@1.5x.png",
    "contact Support for help",
    "call 555-1234 at noon",
    "timestamp 12:30:45 and ratio 3:2",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_detector_ignores(text: str) -> None:
    assert found(text) == []


def test_directory_matches_names_emails_and_ids_ignoring_case_and_whitespace() -> None:
    directory = Directory.from_people([("Ann Lee", "ann.lee@corp.example", "E-1001")])
    engine = Engine(secret=SECRET, directory=directory)
    text = "ANN   LEE\nwrote to Ann.Lee@corp.example about e-1001; Joann Leeds did not."
    assert found(text, engine) == [
        ("PERSON", "ANN   LEE"),
        ("EMAIL", "Ann.Lee@corp.example"),
        ("EMPLOYEE_ID", "e-1001"),
    ]


def test_directory_name_across_a_line_break() -> None:
    directory = Directory.from_people([("Ann Lee", "", "")])
    assert found("signed, Ann\n  Lee", Engine(secret=SECRET, directory=directory)) == [
        ("PERSON", "Ann\n  Lee")
    ]


def test_custom_patterns_report_their_own_type() -> None:
    spec = PrivacySpec(custom_patterns=[CustomPattern(name="EMPLOYEE_ID", regex=r"\bEMP\d{5}\b")])
    engine = Engine.from_policy(spec, SECRET)
    assert found("badge EMP12345 issued", engine) == [("EMPLOYEE_ID", "EMP12345")]


def test_invalid_custom_pattern_names_the_field_not_the_pattern() -> None:
    spec = PrivacySpec(custom_patterns=[CustomPattern(name="X", regex="(unclosed")])
    with pytest.raises(InputValidationError) as err:
        Engine.from_policy(spec, SECRET)
    assert "unclosed" not in str(err.value)
    assert err.value.problems[0].field == "privacy.customPatterns[0].regex"


def test_entities_limit_what_is_acted_on() -> None:
    engine = Engine.from_policy(PrivacySpec(entities=["EMAIL"]), SECRET)
    assert found("a@b.example and 123-45-6789", engine) == [("EMAIL", "a@b.example")]


class FakeNer:
    def find(self, text: str) -> list[object]:
        from orgtwin.core.privacy import Detection

        start = text.find("Zebulon")
        return [] if start < 0 else [Detection("PERSON", start, start + 7, 0.7, "ner")]


def test_ner_backend_is_optional_and_pluggable() -> None:
    text = "Zebulon signed it"
    assert found(text) == []
    assert found(text, Engine(secret=SECRET, ner=FakeNer())) == [("PERSON", "Zebulon")]  # type: ignore[arg-type]
