"""What a scanned text says, before the database is asked: every reading of it and the fields a
receive screen pre-fills. Pure: the service (`service.py`) decides which reading wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.scan import codes, gs1, iso15434
from server.scan.wedge import EAN_SYMBOLOGY_IDS, split_symbology_id

FIELD_NAMES = (
    "part", "supplier_part", "manufacturer_part", "manufacturer", "quantity", "lot", "serial", "expiry",
    "po", "po_line", "date_code", "country", "gtin", "sscc", "location",
)


@dataclass(frozen=True, slots=True)
class Element:
    """One parsed element for display: a GS1 AI `(17)` or an ECIA data identifier `1P`."""

    id: str
    name: str
    value: str


@dataclass(slots=True)
class Reading:
    code: str
    text: str  # without a scanner's symbology identifier
    symbology: str | None
    own: codes.OwnCode | None = None
    message: iso15434.Message | None = None
    gs1: gs1.GS1Message | None = None
    gtin: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    part_candidates: list[str] = field(default_factory=list)  # texts that may be our part number, best first
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def structured(self) -> str | None:
        """The format of an unmistakable structured reading (ours, ISO 15434 or marked GS1)."""
        if self.own is not None:
            return "gemba"
        if self.message is not None:
            return "iso15434"
        if self.gs1 is not None and self.gs1.explicit:
            return "gs1"
        return None

    def _set(self, name: str, value: Any) -> None:
        if value not in (None, "") and self.fields.get(name) is None:
            self.fields[name] = value

    def _candidate(self, *values: str | None) -> None:
        for value in values:
            if value and value not in self.part_candidates:
                self.part_candidates.append(value)


def read(code: str, today: date | None = None) -> Reading:
    symbology, text = split_symbology_id(code)
    reading = Reading(code=code, text=text, symbology=symbology)
    reading.own = codes.parse(text)
    if reading.own is not None:
        _from_own(reading, reading.own)
        return reading
    reading.message = iso15434.parse(code, today)
    if reading.message is not None:
        _from_message(reading, reading.message)
        if reading.message.gs1 is not None:
            _from_gs1(reading, reading.message.gs1)
        return reading
    reading.gs1 = gs1.parse(code, today)
    if reading.gs1 is not None:
        _from_gs1(reading, reading.gs1)
    if reading.gs1 is None or not reading.gs1.explicit:
        if symbology in EAN_SYMBOLOGY_IDS or symbology is None:
            reading.gtin = gs1.parse_gtin(text)
        if reading.gtin:
            reading._set("gtin", reading.gtin)
            reading._candidate(*gs1.gtin_forms(reading.gtin))
    return reading


def _from_own(reading: Reading, own: codes.OwnCode) -> None:
    match own:
        case codes.UnitCode(serial):
            reading._set("serial", serial)
        case codes.LotCode(part, lot):
            reading._set("part", part)
            reading._set("lot", lot)
        case codes.PartCode(part_number):
            reading._set("part", part_number)
        case codes.LocationCode(location):
            reading._set("location", location)


def _from_message(reading: Reading, message: iso15434.Message) -> None:
    reading.errors += message.errors
    reading.warnings += message.warnings
    reading.elements += [Element(f.di, f.name, f.value) for f in message.fields]
    first = message.first
    reading._set("supplier_part", first("30P", "P"))
    reading._set("manufacturer_part", first("1P"))
    reading._set("manufacturer", first("1V"))
    reading._set("quantity", message.quantity)
    reading._set("lot", first("1T"))
    reading._set("serial", first("S"))
    reading._set("expiry", message.expiry)
    reading._set("po", first("K"))
    reading._set("po_line", first("14K", "4K"))
    reading._set("date_code", first("10D", "9D"))
    reading._set("country", first("4L"))
    # P is the customer's part number when the buyer gave one, else the distributor's (DigiKey).
    reading._candidate(first("P"), first("1P"), first("30P"))
    if first("Q") and message.quantity is None:
        reading.warnings.append(f"quantity {first('Q')!r} is not a whole number")


def _from_gs1(reading: Reading, message: gs1.GS1Message) -> None:
    reading.errors += message.errors
    reading.elements += [
        Element(f"({e.ai})", e.title, e.raw if e.value is None or isinstance(e.value, str) else _text(e.value))
        for e in message.elements
    ]
    reading._set("gtin", message.gtin)
    reading._set("sscc", message.get("00"))
    reading._set("lot", message.get("10"))
    reading._set("serial", message.get("21"))
    reading._set("expiry", message.get("17"))
    reading._set("quantity", message.quantity)
    reading._set("po", message.get("400"))
    reading._set("supplier_part", message.get("240"))
    reading._candidate(message.get("241"), message.get("240"))
    if message.gtin:
        reading._candidate(*gs1.gtin_forms(message.gtin))


def _text(value: Any) -> str:
    if isinstance(value, tuple):  # an amount with its ISO 4217 currency
        return f"{value[1]} ({value[0]})"
    return str(value)
