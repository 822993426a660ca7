"""Our own label format: the text inside every barcode Gemba prints. Pure functions, no I/O.

    U:<serial>            a serialized unit
    L:<part>/<lot>        a lot of a part (lots are scoped to their part)
    P:<part number>       a part
    B:<location code>     a location ("bin": any place in the location tree)

Values are percent-encoded over UTF-8: `%`, every byte outside printable ASCII (`!`..`~`, so also
space and control characters) and, in the part number of a lot, `/` become `%XX` with upper-case hex.
The first `/` of a lot code therefore always separates part from lot, and the text is plain ASCII
whatever the codes contain, so it fits Code 128 as well as QR and DataMatrix, and a keyboard-wedge
scanner types it faithfully. Typical codes need no escaping at all: `U:SN-24-00017`,
`L:RES-10K/LOT-2024-0001`, `B:PLANT-1/STORES/CAGE-A`.

The format cannot be mistaken for the others a scanner meets: GS1 element strings start with digits,
`(`, FNC1 or a `]` symbology identifier, ISO/IEC 15434 messages with `[)>`, EAN/UPC are digits only,
and none of them has a letter and a colon up front.

Parsing is strict: a text is ours only when it is exactly the rendering of what it parses to (upper
case prefix, upper-case hex, nothing escaped that need not be), so every entity has one text and
every text at most one entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLAIN = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"%"}
_ESCAPE = re.compile(r"%([0-9A-F]{2})")


@dataclass(frozen=True, slots=True)
class UnitCode:
    serial: str


@dataclass(frozen=True, slots=True)
class LotCode:
    part: str
    lot: str


@dataclass(frozen=True, slots=True)
class PartCode:
    part_number: str


@dataclass(frozen=True, slots=True)
class LocationCode:
    code: str


OwnCode = UnitCode | LotCode | PartCode | LocationCode

PREFIX: dict[type, str] = {UnitCode: "U", LotCode: "L", PartCode: "P", LocationCode: "B"}


def _escape(value: str, also: frozenset[str] = frozenset()) -> str:
    out = []
    for char in value:
        if char in _PLAIN and char not in also:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _unescape(text: str) -> str | None:
    """Percent-decoding; None when the text is not well-formed (stray `%`, bad hex, bad UTF-8)."""
    if "%" not in text:
        return text
    parts = _ESCAPE.split(text)  # [plain, hex, plain, hex, ..., plain]
    if any("%" in plain for plain in parts[::2]):
        return None
    data = bytearray()
    for index, part in enumerate(parts):
        data.extend(bytes.fromhex(part) if index % 2 else part.encode("ascii", "surrogateescape"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def render(code: OwnCode) -> str:
    """The text to put in the barcode. Raises ValueError for an empty value (no entity has one)."""
    match code:
        case UnitCode(serial):
            values = [serial]
            body = _escape(serial)
        case LotCode(part, lot):
            values = [part, lot]
            body = f"{_escape(part, frozenset('/'))}/{_escape(lot)}"
        case PartCode(part_number):
            values = [part_number]
            body = _escape(part_number)
        case LocationCode(location):
            values = [location]
            body = _escape(location)
        case _:
            raise TypeError(f"not one of our codes: {code!r}")
    if not all(values):
        raise ValueError("codes are never empty")
    return f"{PREFIX[type(code)]}:{body}"


def parse(text: str) -> OwnCode | None:
    """What one of our labels names, or None when the text is not one of our labels."""
    if len(text) < 3 or text[1] != ":" or not all(char in _PLAIN or char == "%" for char in text):
        return None
    kind, body = text[0], text[2:]
    code: OwnCode | None = None
    if kind == "L":
        part, slash, lot = body.partition("/")
        part_value, lot_value = _unescape(part), _unescape(lot)
        if slash and part_value and lot_value:
            code = LotCode(part_value, lot_value)
    elif kind in "UPB":
        value = _unescape(body)
        if value:
            code = {"U": UnitCode, "P": PartCode, "B": LocationCode}[kind](value)
    if code is None or render(code) != text:
        return None
    return code

