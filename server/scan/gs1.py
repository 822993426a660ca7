"""GS1 element strings (GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar) and GTINs. Pure, no I/O.

Input forms: the raw data a scanner sends (`]C1`, `]d2`, `]Q3`, `]e0` or `]J1` identifier optional,
FNC1 as GS between a variable-length field and the next one), a leading GS/FNC1, wedge spellings of
GS (see `wedge.py`), and the human-readable form with parentheses, `(01)09506000134352(17)201225`.
Fixed-length fields need no separator; a separator after one is tolerated.

Values are checked: numeric fields are digits, GTIN/SSCC/GLN check digits are valid, dates are real
dates (YYMMDD; day 00 means the last day of the month; the century is the one that puts the year
within -49..+50 years of today, GS1 General Specifications 7.12), decimals take the number of places
from the AI's last digit (310n…). Nothing raises: problems are listed in `errors`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from server.scan.wedge import GS, GS1_SYMBOLOGY_IDS, split_symbology_id, unspell


@dataclass(frozen=True, slots=True)
class AI:
    code: str
    title: str
    kind: str  # gtin sscc gln date n an count dec cur-dec iso-an
    fixed: int | None = None  # length of the data when fixed
    max: int = 0  # maximum length of the data when variable


def _table() -> dict[str, AI]:
    ais = [
        AI("00", "SSCC", "sscc", fixed=18),
        AI("01", "GTIN", "gtin", fixed=14),
        AI("02", "CONTENT", "gtin", fixed=14),
        AI("10", "BATCH/LOT", "an", max=20),
        AI("11", "PROD DATE", "date", fixed=6),
        AI("12", "DUE DATE", "date", fixed=6),
        AI("13", "PACK DATE", "date", fixed=6),
        AI("15", "BEST BEFORE", "date", fixed=6),
        AI("16", "SELL BY", "date", fixed=6),
        AI("17", "USE BY OR EXPIRY", "date", fixed=6),
        AI("20", "VARIANT", "n", fixed=2),
        AI("21", "SERIAL", "an", max=20),
        AI("22", "CPV", "an", max=20),
        AI("235", "TPX", "an", max=28),
        AI("240", "ADDITIONAL ID", "an", max=30),
        AI("241", "CUST. PART No.", "an", max=30),
        AI("242", "MTO VARIANT", "n", max=6),
        AI("243", "PCN", "an", max=20),
        AI("250", "SECONDARY SERIAL", "an", max=30),
        AI("251", "REF. TO SOURCE", "an", max=30),
        AI("253", "GDTI", "an", max=30),
        AI("254", "GLN EXTENSION COMPONENT", "an", max=20),
        AI("255", "GCN", "n", max=25),
        AI("30", "VAR. COUNT", "count", max=8),
        AI("37", "COUNT", "count", max=8),
        AI("400", "ORDER NUMBER", "an", max=30),
        AI("401", "GINC", "an", max=30),
        AI("402", "GSIN", "n", fixed=17),
        AI("403", "ROUTE", "an", max=30),
        AI("420", "SHIP TO POST", "an", max=20),
        AI("421", "SHIP TO POST", "iso-an", max=12),
        AI("422", "ORIGIN", "n", fixed=3),
        AI("423", "COUNTRY - INITIAL PROCESS.", "n", max=15),
        AI("424", "COUNTRY - PROCESS.", "n", fixed=3),
        AI("425", "COUNTRY - DISASSEMBLY", "n", max=15),
        AI("426", "COUNTRY - FULL PROCESS", "n", fixed=3),
        AI("7003", "EXPIRY TIME", "n", fixed=10),
        AI("8003", "GRAI", "an", max=30),
        AI("8004", "GIAI", "an", max=30),
        AI("8006", "ITIP", "n", fixed=18),
        AI("8020", "REF No.", "an", max=25),
        AI("90", "INTERNAL", "an", max=30),
    ]
    ais += [AI(str(code), "INTERNAL", "an", max=90) for code in range(91, 100)]
    ais += [AI(f"41{n}", title, "gln", fixed=13) for n, title in enumerate(
        ["SHIP TO LOC", "BILL TO", "PURCHASE FROM", "SHIP FOR LOC", "LOC No.", "PAY TO", "PROD/SERV LOC", "PARTY"]
    )]
    measures = {
        "310": "NET WEIGHT (kg)", "311": "LENGTH (m)", "312": "WIDTH (m)", "313": "HEIGHT (m)",
        "314": "AREA (m2)", "315": "NET VOLUME (l)", "316": "NET VOLUME (m3)", "320": "NET WEIGHT (lb)",
        "330": "GROSS WEIGHT (kg)", "331": "LENGTH (m), log", "332": "WIDTH (m), log", "333": "HEIGHT (m), log",
        "334": "AREA (m2), log", "335": "VOLUME (l), log", "336": "VOLUME (m3), log",
    }
    for family, title in measures.items():
        ais += [AI(f"{family}{n}", title, "dec", fixed=6) for n in range(6)]
    for family, title, kind, length in (
        ("390", "AMOUNT", "dec", 15), ("391", "AMOUNT", "cur-dec", 18),
        ("392", "PRICE", "dec", 15), ("393", "PRICE", "cur-dec", 18),
    ):
        ais += [AI(f"{family}{n}", title, kind, max=length) for n in range(10)]
    return {ai.code: ai for ai in ais}


AIS = _table()

# The length of an AI from its first two digits (GS1 General Specifications, 3.2); unassigned → None.
_AI_LENGTH = {
    **{f"{p:02d}": 2 for p in (*range(0, 5), *range(10, 23), 30, 37, *range(90, 100))},
    **{f"{p:02d}": 3 for p in (23, 24, 25, 40, 41, 42)},
    **{f"{p:02d}": 4 for p in (*range(31, 37), 39, 43, 70, 71, 72, 80, 81, 82)},
}
# Element strings with these two-digit starts have a predefined length and never need a separator.
_PREDEFINED = {"00", "01", "02", "03", "04", *(f"{p}" for p in range(11, 21)), "31", "32", "33", "34", "35", "36", "41"}
# What an implicit message (no identifier, no FNC1, no parentheses) must start with to be read as GS1.
_IMPLICIT_FIRST = {"00", "01", "02"}


@dataclass(frozen=True, slots=True)
class Element:
    ai: str
    title: str
    raw: str
    value: Any  # str, int, Decimal, date or, for a value that failed its check, None


@dataclass(frozen=True, slots=True)
class GS1Message:
    elements: tuple[Element, ...]
    errors: tuple[str, ...] = ()
    symbology: str | None = None
    explicit: bool = True  # marked as GS1 by an identifier, FNC1 or parentheses
    values: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for element in self.elements:
            self.values.setdefault(element.ai, element.value)

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, ai: str) -> Any:
        return self.values.get(ai)

    def hri(self) -> str:
        """The human-readable interpretation: `(01)09506000134352(10)ABC`."""
        return "".join(f"({e.ai}){e.raw}" for e in self.elements)

    @property
    def gtin(self) -> str | None:
        return self.get("01") or self.get("02")

    @property
    def quantity(self) -> int | None:
        return self.get("30") if self.get("30") is not None else self.get("37")


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for the digits that precede it (GTIN, SSCC, GLN alike)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def valid_check_digit(digits: str) -> bool:
    return len(digits) >= 2 and digits.isascii() and digits.isdigit() and check_digit(digits[:-1]) == int(digits[-1])


def parse_gtin(text: str) -> str | None:
    """A bare EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a valid check digit, else None."""
    return text if len(text) in (8, 12, 13, 14) and valid_check_digit(text) else None


def gtin_forms(gtin: str) -> list[str]:
    """The same GTIN as it may be written: as given, and without the leading zeros of GTIN-14 padding."""
    forms = [gtin]
    for length in (13, 12, 8):
        if len(gtin) > length and gtin[: len(gtin) - length].strip("0") == "":
            forms.append(gtin[-length:])
    return forms


def gs1_date(raw: str, today: date | None = None) -> date | None:
    if len(raw) != 6 or not raw.isdigit():
        return None
    yy, month, day = int(raw[:2]), int(raw[2:4]), int(raw[4:])
    current = (today or date.today()).year
    diff = yy - current % 100
    century = current // 100 + (-1 if diff >= 51 else 1 if diff <= -50 else 0)
    year = century * 100 + yy
    if not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last
    return date(year, month, day) if day <= last else None


def _value(ai: AI, raw: str, today: date | None) -> tuple[Any, str | None]:
    """The typed value of one element, or (None, why it is wrong)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None, f"({ai.code}) contains a control character"
    if ai.kind == "an":
        return raw, None
    if ai.kind == "iso-an":
        return (raw, None) if len(raw) > 3 and raw[:3].isdigit() else (None, f"({ai.code}) must start with a country code")
    if not (raw.isascii() and raw.isdigit()) or (ai.kind == "cur-dec" and len(raw) < 4):
        return None, f"({ai.code}) must be digits, got {raw!r}"
    if ai.kind in ("gtin", "sscc", "gln"):
        return (raw, None) if valid_check_digit(raw) else (None, f"({ai.code}) {raw} has a wrong check digit")
    if ai.kind == "date":
        value = gs1_date(raw, today)
        return (value, None) if value else (None, f"({ai.code}) {raw} is not a date (YYMMDD)")
    if ai.kind == "count":
        return int(raw), None
    if ai.kind in ("dec", "cur-dec"):
        digits = raw[3:] if ai.kind == "cur-dec" else raw
        amount = Decimal(int(digits)).scaleb(-int(ai.code[3]))
        return (amount if ai.kind == "dec" else (raw[:3], amount)), None
    return raw, None


def _ai_at(data: str, pos: int) -> tuple[AI | None, str]:
    """The AI that starts at `pos` (None if unknown) and its digits as far as they can be told."""
    length = _AI_LENGTH.get(data[pos : pos + 2]) if data[pos : pos + 2].isdigit() else None
    code = data[pos : pos + (length or 2)]
    if length is None or len(code) < length or not code.isdigit():
        return None, code
    return AIS.get(code), code


def _parse_raw(data: str, today: date | None) -> tuple[list[Element], list[str]]:
    elements: list[Element] = []
    errors: list[str] = []
    pos = 0
    while pos < len(data):
        if data[pos] == GS:
            pos += 1
            continue
        ai, code = _ai_at(data, pos)
        if ai is None:
            errors.append(f"unknown application identifier {code!r} at position {pos}")
            break
        start = pos + len(code)
        if ai.fixed is not None:
            raw = data[start : start + ai.fixed]
            if len(raw) < ai.fixed or GS in raw:
                errors.append(f"({code}) needs {ai.fixed} characters, got {raw.split(GS)[0]!r} (truncated?)")
                break
            pos = start + ai.fixed
        else:
            end = data.find(GS, start)
            end = len(data) if end < 0 else end
            raw, pos = data[start:end], end
            if not raw:
                errors.append(f"({code}) is empty")
                break
            if len(raw) > ai.max:
                errors.append(f"({code}) is longer than {ai.max} characters (a missing separator?)")
                break
        value, error = _value(ai, raw, today)
        elements.append(Element(code, ai.title, raw, value))
        if error:
            errors.append(error)
    return elements, errors


_HRI = re.compile(r"\((\d{2,4})\)([^()]*)")


def _parse_hri(data: str, today: date | None) -> tuple[list[Element], list[str]]:
    elements: list[Element] = []
    errors: list[str] = []
    pos = 0
    for match in _HRI.finditer(data):
        if match.start() != pos:
            break
        pos = match.end()
        code, raw = match.groups()
        ai = AIS.get(code)
        if ai is None:
            errors.append(f"unknown application identifier ({code})")
            continue
        if (ai.fixed is not None and len(raw) != ai.fixed) or (ai.fixed is None and not 0 < len(raw) <= ai.max):
            errors.append(f"({code}) has a wrong length: {raw!r}")
            elements.append(Element(code, ai.title, raw, None))
            continue
        value, error = _value(ai, raw, today)
        elements.append(Element(code, ai.title, raw, value))
        if error:
            errors.append(error)
    if pos != len(data):
        errors.append(f"unreadable text at position {pos}: {data[pos:pos + 20]!r}")
    return elements, errors


def parse(text: str, today: date | None = None) -> GS1Message | None:
    """The GS1 message in `text`, or None when it is not a GS1 element string.

    Marked messages (a GS1 symbology identifier, a leading FNC1/GS, or the parenthesised form) are
    always answered, with `errors` when something is wrong. An unmarked string of digits is taken as
    GS1 only when it starts with (00), (01) or (02) and reads without any error, so that a plain
    number is not mistaken for one.
    """
    data = unspell(text)
    symbology, data = split_symbology_id(data)
    if symbology is not None and symbology not in GS1_SYMBOLOGY_IDS:
        return None
    explicit = symbology is not None
    if data.startswith(GS):
        explicit, data = True, data[1:]
    if data.startswith("(") and _HRI.match(data):
        elements, errors = _parse_hri(data, today)
        explicit = True
    elif explicit:
        elements, errors = _parse_raw(data, today)
    elif data[:2] in _IMPLICIT_FIRST and data[:1].isdigit():
        elements, errors = _parse_raw(data, today)
        if errors:
            return None
    else:
        return None
    if not elements and not errors:
        errors = ["no element strings"]
    return GS1Message(tuple(elements), tuple(errors), symbology, explicit)


def is_predefined_length(ai: str) -> bool:
    """Whether an element with this AI never needs a separator after it (used when rendering)."""
    return ai[:2] in _PREDEFINED


def render(elements: list[tuple[str, str]]) -> str:
    """The raw element string (without symbology identifier) for (ai, data) pairs, GS where needed."""
    out: list[str] = []
    for index, (ai, data) in enumerate(elements):
        out.append(ai + data)
        if index < len(elements) - 1 and not is_predefined_length(ai):
            out.append(GS)
    return "".join(out)
