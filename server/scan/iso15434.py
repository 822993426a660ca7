"""ISO/IEC 15434 messages, format 06 (ANSI MH10.8.2 data identifiers as ECIA EIGP 114 uses them on
distributor and manufacturer labels: DigiKey, Mouser, reels and bags). Pure, no I/O.

    [)> RS 06 GS P<customer part> GS 1P<supplier part> GS Q<quantity> GS 1T<lot> ... RS EOT

Tolerated, because real scans look like this:
- the old Mouser header `>[)>06` (no RS), a header without RS, a missing or partial trailer;
- GS/RS/EOT spelled by a keyboard wedge or a tool (`{GS}`, `<RS>`, `^]`, `\\x1d`…, see `wedge.py`);
- a single plain character typed for GS and RS (`]`, `^`, `|` or `~`): the header fixes where the
  separators are, so the characters found there are the separators of this message;
- a lower-case data identifier letter (`]q4`), which some wedges produce;
- a leading AIM symbology identifier (`]d1`, `]Q1`).
Format 05 (GS1 element strings in the envelope) is handed to the GS1 parser.
Nothing raises: problems are listed in `errors`, tolerated deviations in `warnings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from server.scan import gs1
from server.scan.wedge import EOT, GS, RS, SINGLE_SUBSTITUTES, split_symbology_id, unspell

# Data identifiers: ANSI MH10.8.2 as profiled by ECIA EIGP 114 (and what DigiKey and Mouser print).
DATA_IDENTIFIERS: dict[str, str] = {
    "P": "customer part number",
    "1P": "supplier part number",
    "2P": "revision",
    "30P": "distributor part number",
    "33P": "bin code",
    "K": "customer purchase order",
    "1K": "supplier order number",
    "4K": "purchase order line",
    "10K": "invoice number",
    "11K": "packing list number",
    "14K": "purchase order line",
    "Q": "quantity",
    "7Q": "weight",
    "13Q": "package count",
    "1T": "lot code",
    "S": "serial number",
    "3S": "package id (intermediate)",
    "4S": "package id (logistic)",
    "5S": "package id (mixed)",
    "4L": "country of origin",
    "6D": "ship date",
    "9D": "date code (YYWW)",
    "10D": "date code (YYWW)",
    "14D": "expiry date",
    "16D": "production date",
    "1V": "manufacturer",
    "J": "license plate",
    "E": "compliance (RoHS)",
    "11Z": "user defined (11Z)",
    "12Z": "user defined (12Z)",
    "13Z": "user defined (13Z)",
    "20Z": "padding (20Z)",
}

_HEADER = re.compile(
    r"^(?P<mouser>>)?\[\)>(?P<rs>[\x1e" + re.escape(SINGLE_SUBSTITUTES) + r"]?)(?P<format>\d\d)"
    r"(?P<gs>[\x1d" + re.escape(SINGLE_SUBSTITUTES) + r"])"
)
_BARE_HEADER = re.compile(r"^>?\[\)>")
_FIELD = re.compile(r"^(\d{0,3})([A-Za-z])(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Field:
    di: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Message:
    format: str
    fields: tuple[Field, ...]
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    gs1: gs1.GS1Message | None = None  # format 05

    @property
    def ok(self) -> bool:
        return not self.errors

    def first(self, *dis: str) -> str | None:
        """The value of the first of the given data identifiers that the message has (non-empty)."""
        for di in dis:
            for item in self.fields:
                if item.di == di and item.value:
                    return item.value
        return None

    @property
    def quantity(self) -> int | None:
        value = self.first("Q")
        return int(value) if value and value.isascii() and value.isdigit() else None

    @property
    def expiry(self) -> date | None:
        return _yyyymmdd(self.first("14D"))


def _yyyymmdd(value: str | None) -> date | None:
    if not value or len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def looks_like(text: str) -> bool:
    """Whether the text starts like an ISO/IEC 15434 message (after a symbology identifier)."""
    return _BARE_HEADER.match(split_symbology_id(unspell(text))[1]) is not None


def parse(text: str, today: date | None = None) -> Message | None:
    """The message in `text`, or None when the text does not start with a `[)>` header."""
    data = split_symbology_id(unspell(text))[1]
    if not _BARE_HEADER.match(data):
        return None
    header = _HEADER.match(data)
    if header is None:
        return Message("", (), errors=("the [)> header is not followed by a format (06) and a group separator",))
    warnings: list[str] = []
    rs, fmt, gs = header.group("rs"), header.group("format"), header.group("gs")
    if header.group("mouser"):
        warnings.append("old Mouser header >[)>06")
    elif not rs:
        warnings.append("header without record separator")
    if gs != GS:
        warnings.append(f"group separator typed as {gs!r}")
    if rs and rs != RS:
        warnings.append(f"record separator typed as {rs!r}")
    body = data[header.end() :]
    body, trailer_found = _cut_trailer(body, rs or RS, gs)
    if not trailer_found:
        warnings.append("no trailer (RS EOT)")
    if fmt == "05":
        message = gs1.parse(GS + body.replace(gs, GS), today)
        errors = message.errors if message else ("no GS1 data in a format 05 message",)
        return Message(fmt, (), tuple(errors), tuple(warnings), message)
    if fmt != "06":
        return Message(fmt, (), (f"format {fmt} is not supported (only 05 and 06)",), tuple(warnings))
    fields, errors = _fields(body.split(gs), warnings)
    return Message(fmt, tuple(fields), tuple(errors), tuple(warnings))


def _cut_trailer(body: str, rs: str, gs: str) -> tuple[str, bool]:
    """The data before the trailer. RS ends the format envelope (what follows is EOT or another
    envelope); a lone EOT at the end is a trailer that lost its RS. When a wedge typed the same
    character for RS and GS, only a separator or EOT at the very end can be the trailer."""
    if rs == gs:
        stripped = body.removesuffix(EOT)
        return stripped.removesuffix(rs), stripped != body or stripped.endswith(rs)
    cut = body.find(rs)
    if cut < 0 and rs != RS:
        cut = body.find(RS)
    if cut >= 0:
        return body[:cut], True
    if body.endswith(EOT):
        return body[:-1], True
    return body, False


def _fields(parts: list[str], warnings: list[str]) -> tuple[list[Field], list[str]]:
    fields: list[Field] = []
    errors: list[str] = []
    for index, part in enumerate(parts):
        if not part:
            if index not in (0, len(parts) - 1):  # a doubled separator inside the message
                warnings.append("empty field")
            continue
        match = _FIELD.match(part)
        if match is None:
            errors.append(f"field {index + 1} has no data identifier: {part[:20]!r}")
            continue
        digits, letter, value = match.groups()
        if letter.islower():
            warnings.append(f"lower-case data identifier {digits + letter!r}")
        di = digits + letter.upper()
        if any(ord(c) < 0x20 for c in value):
            errors.append(f"{di} contains a control character")
            continue
        name = DATA_IDENTIFIERS.get(di) or (f"user defined ({di})" if letter in "Zz" else "unknown data identifier")
        fields.append(Field(di, name, value))
    if not fields and not errors:
        errors.append("no data fields")
    return fields, errors
