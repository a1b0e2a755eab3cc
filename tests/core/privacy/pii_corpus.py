"""A generated, labeled PII corpus and its span-level evaluation (precision, recall, F1 per type).

Every value is valid: Luhn-valid cards, mod-97-valid IBANs, SSNs in issued ranges,
phone numbers that ``phonenumbers`` accepts. Names, emails and ids also come from a
generated org directory. A clean corpus (code, versions, dates, amounts, order numbers,
prose) measures false positives per line. ``python pii_corpus.py`` prints the report.
"""

from __future__ import annotations

import ipaddress
import random
import string
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker

from orgtwin.core.privacy import Directory, Engine

STRUCTURED = ("EMAIL", "PHONE", "US_SSN", "CREDIT_CARD", "IBAN", "IP_ADDRESS")


@dataclass
class Line:
    text: str
    spans: list[tuple[str, int, int, bool]] = field(default_factory=list)  # type, start, end, dir


@dataclass
class Corpus:
    people: list[tuple[str, str, str]]
    labeled: list[Line]
    clean: list[str]

    def directory(self) -> Directory:
        return Directory.from_people(self.people)


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def card(self) -> str:
        prefix, length = self.rng.choice(
            [("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)]
        )
        body = prefix + self.digits(length - len(prefix) - 1)
        for check in string.digits:
            total = 0
            for i, ch in enumerate(reversed(body + check)):
                d = int(ch) * (2 if i % 2 else 1)
                total += d - 9 if d > 9 else d
            if total % 10 == 0:
                number = body + check
                break
        style = self.rng.random()
        if style < 0.4 and length == 16:
            return " ".join(number[i : i + 4] for i in range(0, 16, 4))
        if style < 0.6 and length == 16:
            return "-".join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def iban(self) -> str:
        country, bban = self.rng.choice(
            [
                ("DE", self.digits(18)),
                (
                    "GB",
                    "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
                    + self.digits(14),
                ),
                ("FR", self.digits(23)),
                ("NL", "ABNA" + self.digits(10)),
                ("ES", self.digits(20)),
            ]
        )
        number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
        iban = f"{country}{98 - number % 97:02d}{bban}"
        if self.rng.random() < 0.5:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def ssn(self) -> str:
        while True:
            area = self.rng.randint(1, 899)
            if area != 666:
                return f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"

    def phone(self) -> str:
        region = self.rng.choice(["US", "US", "GB", "DE", "FR", "IN", "AU", "NL"])
        meta_example = phonenumbers.example_number_for_type(
            region, phonenumbers.PhoneNumberType.MOBILE
        )
        assert meta_example is not None
        length = len(str(meta_example.national_number))
        while True:
            candidate = str(meta_example.national_number)[:3] + self.digits(length - 3)
            number = phonenumbers.parse(candidate, region)
            if phonenumbers.is_valid_number(number):
                break
        roll = self.rng.random()
        if region == "US" and roll < 0.4:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if roll < 0.55:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def ip(self) -> str:
        if self.rng.random() < 0.7:
            return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))
        return str(ipaddress.IPv6Address(self.rng.getrandbits(128)))

    def email(self) -> str:
        return f"{self.fake.user_name()}{self.rng.randint(1, 99)}@{self.fake.domain_name()}"

    def secret(self) -> str:
        alnum = string.ascii_letters + string.digits
        pick = self.rng.choice(["sk", "akia", "ghp", "xox"])
        if pick == "sk":
            return "sk-proj-" + "".join(self.rng.choice(alnum) for _ in range(32))
        if pick == "akia":
            return "AKIA" + "".join(
                self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)
            )
        if pick == "ghp":
            return "ghp_" + "".join(self.rng.choice(alnum) for _ in range(36))
        return "xoxb-" + self.digits(11) + "-" + "".join(self.rng.choice(alnum) for _ in range(24))


# Templates: {T} is a slot of type T; a trailing "!" marks a directory value.
TEMPLATES = [
    "Please send the invoice to {EMAIL} by Friday.",
    "cc {EMAIL}, thanks",
    "Call me at {PHONE} after 5pm.",
    "Her mobile is {PHONE} (personal).",
    "My SSN is {US_SSN}, please keep it safe.",
    "Charge card {CREDIT_CARD} for the renewal.",
    "Payment: {CREDIT_CARD}; expiry 09/28.",
    "Wire the refund to IBAN {IBAN} today.",
    "Beneficiary account: {IBAN}",
    "Login attempts from {IP_ADDRESS} were blocked.",
    "ssh admin@{IP_ADDRESS} -p 22",
    "Date of birth: {DATE_OF_BIRTH}",
    "Account number {ACCOUNT_NUMBER} is overdrawn.",
    "The key {SECRET} was committed by mistake.",
    "DATABASE_URL=postgres://{URL_CREDENTIALS}@db.internal:5432/prod",
    "Meeting with Dr. {PERSON} at 3pm.",
    "Please contact {PERSON!} about the budget.",
    "{PERSON!} approved the expense report.",
    "Forward this to {EMAIL!} and {PERSON!}.",
    "Employee {EMPLOYEE_ID!} requested leave.",
    "Ticket opened by {PERSON!} ({EMAIL!}, {EMPLOYEE_ID!}) from {IP_ADDRESS}.",
    "Reach {PERSON!} at {PHONE} or {EMAIL}.",
    "Refund {CREDIT_CARD} and notify {EMAIL!}; SSN on file {US_SSN}.",
    'Customer said: "my number is {PHONE}, email {EMAIL}"',
    "(card: {CREDIT_CARD}) (iban: {IBAN}) (ip: {IP_ADDRESS})",
    '"name": "{PERSON!}", "email": "{EMAIL!}", "phone": "{PHONE}"',
    "spoke to {PERSON!} yesterday; {PERSON!} agreed.",
    "SSN:{US_SSN}/card:{CREDIT_CARD}",
    "<{EMAIL}>; <{EMAIL!}>",
    "Server {IP_ADDRESS}:8443 and peer [{IP_ADDRESS}]",
]

CLEAN = [
    "def total(items): return sum(i.price * i.qty for i in items)",
    "const url = `${base}/api/v2/orders/${id}`;",
    "for (let i = 0; i < 10; i++) { console.log(i); }",
    "SELECT id, amount FROM orders WHERE created_at > '2024-01-01';",
    'if err != nil { return fmt.Errorf("read: %w", err) }',
    "Upgraded numpy from 1.26.4 to 2.1.0 and pandas to 2.2.3.",
    "Release v3.14.2 ships on 2025-03-15 with 42 fixes.",
    "The meeting moved to March 3, 2025 at 10:30.",
    "Invoice total: $1,234.56 (tax 19%: $197.53).",
    "Order ORD-2024-118822 shipped; tracking 1Z999AA10123456784.",
    "Build #48213 failed after 12m 31s on runner 7.",
    "Commit 3f5c9d2 fixes JIRA-4521 and PROJ-88.",
    "UUID 123e4567-e89b-12d3-a456-426614174000 is reserved.",
    "Revenue grew 12.5% to EUR 4.2m in Q3 2024.",
    "Use port 8080 and timeout 30s; retry 3 times.",
    "The ratio was 3:2 and the score 98/100.",
    "Python 3.11.9, Node 20.11.1, Go 1.22.5.",
    "Between 2019 and 2023 we hired 140 people in 6 offices.",
    "ISBN 978-3-16-148410-0 is cited on page 212.",
    "Temperature 21.5C, humidity 40%, wind 12 km/h.",
    "Chrome 120.0.6099.109 on Windows 10.0.19045.",
    "Tracking number 9400 1000 0000 0000 0000 00 was created.",
    "Timestamp 2024-03-15T12:30:45.123Z, offset +02:00.",
    "Ticket 20240315-0042 and batch 1200-3400-5600.",
    "SHA256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Call the function with (415, 555, 2671) as arguments.",
    "Line 1234567890 of the log shows the error.",
    "Coordinates 48.8566, 2.3522 and altitude 35 m.",
    "The range 10-20-30 and ratio 1:2:3 are fixed.",
    "Contact Support or ask the Team lead for access.",
]


def _fill(gen: _Gen, template: str, people: list[tuple[str, str, str]]) -> Line:
    line = Line("")
    person = gen.rng.choice(people)
    rest = template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        line.text += head
        directory = slot.endswith("!")
        kind = slot.rstrip("!")
        value = _value(gen, kind, directory, person)
        start = len(line.text)
        line.text += value
        line.spans.append((kind, start, start + len(value), directory))
    line.text += rest
    return line


def _value(gen: _Gen, kind: str, directory: bool, person: tuple[str, str, str]) -> str:
    if directory:
        value = {"PERSON": person[0], "EMAIL": person[1], "EMPLOYEE_ID": person[2]}[kind]
        roll = gen.rng.random()
        if roll < 0.15:
            return value.lower()
        if roll < 0.25:
            return value.upper()
        if roll < 0.35 and kind == "PERSON":
            return value.replace(" ", "  ")
        return value
    makers: dict[str, Callable[[], str]] = {
        "EMAIL": gen.email,
        "PHONE": gen.phone,
        "US_SSN": gen.ssn,
        "CREDIT_CARD": gen.card,
        "IBAN": gen.iban,
        "IP_ADDRESS": gen.ip,
        "DATE_OF_BIRTH": lambda: gen.fake.date_of_birth().isoformat(),
        "ACCOUNT_NUMBER": lambda: gen.digits(gen.rng.randint(8, 14)),
        "SECRET": gen.secret,
        "URL_CREDENTIALS": lambda: (
            f"{gen.fake.user_name()}:{gen.fake.password(length=14, special_chars=False)}"
        ),
        "PERSON": lambda: f"{gen.fake.first_name()} {gen.fake.last_name()}",
    }
    return makers[kind]()


def generate(
    seed: int = 7, lines: int = 3000, clean_lines: int = 1000, people: int = 200
) -> Corpus:
    gen = _Gen(seed)
    org = []
    for i in range(people):
        first, last = gen.fake.first_name(), gen.fake.last_name()
        org.append(
            (f"{first} {last}", f"{first}.{last}{i}@acme-corp.example".lower(), f"EMP-{10000 + i}")
        )
    labeled = [_fill(gen, gen.rng.choice(TEMPLATES), org) for _ in range(lines)]
    clean = []
    for _ in range(clean_lines):
        if gen.rng.random() < 0.5:
            clean.append(gen.rng.choice(CLEAN))
        else:
            clean.append(gen.fake.paragraph(nb_sentences=3))
    return Corpus(org, labeled, clean)


@dataclass
class Report:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    directory_gold: int = 0
    directory_found: int = 0
    clean_lines: int = 0
    clean_lines_flagged: int = 0

    def precision(self, kind: str) -> float:
        found = self.tp[kind] + self.fp[kind]
        return self.tp[kind] / found if found else 1.0

    def recall(self, kind: str) -> float:
        gold = self.tp[kind] + self.fn[kind]
        return self.tp[kind] / gold if gold else 1.0

    def f1(self, kind: str) -> float:
        p, r = self.precision(kind), self.recall(kind)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def directory_recall(self) -> float:
        return self.directory_found / self.directory_gold if self.directory_gold else 1.0

    @property
    def clean_fp_rate(self) -> float:
        return self.clean_lines_flagged / self.clean_lines if self.clean_lines else 0.0

    def markdown(self) -> str:
        rows = ["| type | gold | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
        for kind in sorted(set(self.tp) | set(self.fn) | set(self.fp)):
            gold = self.tp[kind] + self.fn[kind]
            rows.append(
                f"| {kind} | {gold} | {self.precision(kind):.4f} | {self.recall(kind):.4f} "
                f"| {self.f1(kind):.4f} |"
            )
        rows.append("")
        rows.append(
            f"Directory values (names, emails, ids): recall {self.directory_recall:.4f} "
            f"({self.directory_found}/{self.directory_gold})."
        )
        rows.append(
            f"Clean lines with any detection: {self.clean_lines_flagged}/{self.clean_lines} "
            f"= {self.clean_fp_rate:.2%}."
        )
        return "\n".join(rows)


def evaluate(engine: Engine, corpus: Corpus) -> Report:
    report = Report()
    for line in corpus.labeled:
        gold = {(k, s, e) for k, s, e, _ in line.spans}
        found = {(d.type, d.start, d.end) for d in engine.detect(line.text)}
        for item in found & gold:
            report.tp[item[0]] += 1
        for item in found - gold:
            report.fp[item[0]] += 1
        for item in gold - found:
            report.fn[item[0]] += 1
        for kind, start, end, directory in line.spans:
            if directory:
                report.directory_gold += 1
                report.directory_found += (kind, start, end) in found
    for text in corpus.clean:
        report.clean_lines += 1
        report.clean_lines_flagged += bool(engine.detect(text))
    return report


def main() -> None:
    corpus = generate()
    engine = Engine(secret=b"quality", directory=corpus.directory())
    report = evaluate(engine, corpus)
    sys.stdout.write(report.markdown() + "\n")


if __name__ == "__main__":
    main()
