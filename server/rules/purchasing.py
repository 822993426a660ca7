"""Purchasing rules as pure functions: PO numbers and their pattern, what a line may list, which On-order
rows opening a line makes, the life cycle of POs and lines, and replenishment's suggested quantity."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_

from server.errors import Conflict, Invalid, OverReceipt, PoNotOpen, SerialNotOnLine, TrackingMismatch
from server.models import Tracking
from server.rules.patterns import FIELD, PatternError, expand, validate

NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NUMBER_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
NUMBER_FIELDS = {"yyyy", "yy", "mm", "dd", "seq"}
# Statuses (purchasing-and-costs.md; server/purchasing/models.py has them as enums)
DRAFT, OPEN, RECEIVED, CANCELLED, CLOSED_SHORT = "draft", "open", "received", "cancelled", "closed_short"


# ---- numbers --------------------------------------------------------------------------------------
def check_number(number: str, field: str = "number") -> None:
    """A PO number is part of URLs and of line names (`NUMBER/LINE`): no '/', no spaces."""
    if not NUMBER.fullmatch(number):
        raise Invalid(f"{field}: {number!r} is not a PO number: use {NUMBER_RULE}", field=field)


def check_number_pattern(pattern: str) -> None:
    """Raise PatternError unless `pattern` makes PO numbers: date fields and one {seq}, nothing of a part."""
    validate(pattern)
    for match in FIELD.finditer(pattern):
        if match.group(1) not in NUMBER_FIELDS:
            raise PatternError(f"{match.group(0)} means nothing for a PO: use {{yyyy}}, {{yy}}, {{mm}}, {{dd}}, {{seq}}")
    sample = expand(pattern, part="", revision="", now=datetime(2026, 1, 1)).render(1)
    if not NUMBER.fullmatch(sample):
        raise PatternError(f"it makes numbers like {sample!r}: a PO number is {NUMBER_RULE}")


def line_name(number: str, line_no: int) -> str:
    return f"{number}/{line_no}"


# ---- lines ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderedRow:
    """An On-order inventory row that opening a line makes. `tracking` is the row's: a unit (`serial`), a
    known lot (`lot`), or — serials or lot not known yet — `untracked`: not tracked yet."""

    tracking: str
    quantity: int
    serial: str | None = None
    lot: str | None = None


def check_line(tracking: str, quantity: int, serials: Sequence[str] | None, lot: str | None, field: str) -> None:
    """A line's serials and lot must fit its part's tracking type (`field`: the line's path, `lines[2]`)."""
    if serials is not None:
        if tracking != Tracking.serial:
            raise TrackingMismatch(f"{field}.serials: a {tracking} part has no serials", field=f"{field}.serials")
        if len(serials) != quantity:
            raise Invalid(
                f"{field}.serials: list one serial per unit ordered ({quantity}), or none", field=f"{field}.serials"
            )
        seen: set[str] = set()
        for index, serial in enumerate(serials):
            if serial in seen:
                raise Invalid(f"{field}.serials: {serial} is listed twice", field=f"{field}.serials[{index}]")
            seen.add(serial)
    if lot is not None and tracking == Tracking.untracked:
        raise TrackingMismatch(f"{field}.lot: an untracked part has no lots", field=f"{field}.lot")


def ordered_rows(tracking: str, quantity: int, serials: Sequence[str] | None, lot: str | None) -> list[OrderedRow]:
    """The On-order rows of a line: a unit per listed serial (with the line's lot, if any); else one row of
    the whole quantity — of the lot, when the part is lot-tracked and the lot is known, else not tracked
    yet (its serials or lot come with the delivery)."""
    if serials:
        return [OrderedRow(Tracking.serial, 1, serial=serial, lot=lot) for serial in serials]
    if tracking == Tracking.lot and lot is not None:
        return [OrderedRow(Tracking.lot, quantity, lot=lot)]
    return [OrderedRow(Tracking.untracked, quantity)]


def remaining(line_status: str, quantity: int, received: int) -> int:
    """What a line still expects: nothing once it is received, closed short or cancelled."""
    return max(quantity - received, 0) if line_status == OPEN else 0


def status_after_lines(line_statuses: Sequence[str]) -> str:
    """An open PO with no open line left is received (each line received in full or closed short)."""
    return OPEN if OPEN in line_statuses else RECEIVED


# ---- the life cycle -------------------------------------------------------------------------------
def check_can_open(number: str, status: str) -> None:
    if status != DRAFT:
        raise Conflict(f"{number} is {status}: only a draft can be opened", field="number", po_status=status)


def check_can_cancel(number: str, status: str) -> None:
    if status not in (DRAFT, OPEN):
        raise Conflict(f"{number} is {status}: only a draft or an open PO can be cancelled", field="number",
                       po_status=status)


def check_can_close_line(name: str, po_status: str, line_status: str) -> None:
    """Closing a line short: the PO must be open and the line still open."""
    if po_status != OPEN:
        raise PoNotOpen(f"{name}: the purchase order is {po_status}", field="line", po_status=po_status)
    if line_status != OPEN:
        raise PoNotOpen(f"{name} is {line_status.replace('_', ' ')}", field="line", line_status=line_status)


# ---- receiving against a line ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Receipt:
    """What a receipt does to its line: `grow` it by an over-delivery a supervisor accepted; `on_line`:
    recorded against it (False: a plain receipt, the line untouched — its PO is still a draft)."""

    grow: int = 0
    on_line: bool = True


def check_receipt(
    name: str, po_status: str, line_status: str, ordered: int, received: int, quantity: int,
    listed: Sequence[str] | None, serial: str | None, *, approved: bool,
) -> Receipt:
    """A receipt of `quantity` (of unit `serial`) against line `name`. Refused (held at sync: the goods are
    here) when the PO is a draft or cancelled or the line closed short or cancelled (`po_not_open`), when it
    is more than the line still expects (`over_receipt`; a line received in full expects nothing), or when
    the line lists its serials and not this one (`serial_not_on_line`). A supervisor's approval accepts each:
    what the receipt then does is docs/purchasing.md's "Approving a held receipt"."""
    closed = po_status in (DRAFT, CANCELLED) or line_status in (CLOSED_SHORT, CANCELLED)
    if closed:
        if not approved:
            what = f"the purchase order is {po_status}" if po_status in (DRAFT, CANCELLED) else \
                f"the line is {line_status.replace('_', ' ')}"
            raise PoNotOpen(f"{name}: {what}", field="po_line", po_status=po_status, line_status=line_status)
        return Receipt(on_line=po_status != DRAFT)
    still = max(ordered - received, 0) if line_status == OPEN else 0
    if quantity > still and not approved:
        raise OverReceipt(
            f"{name} expects {still} more, not {quantity} (ordered {ordered}, received {received})",
            field="quantity", ordered=ordered, received=received, remaining=still,
        )
    if listed and serial not in listed and not approved:
        which = f"{serial} is not" if serial else "name the serial: it must be"
        raise SerialNotOnLine(f"{name}: {which} one of the serials it lists", field="serial", serials=list(listed))
    return Receipt(grow=max(quantity - still, 0))


# ---- min/max and replenishment ----------------------------------------------------------------------
def check_min_max(minimum: int | None, maximum: int | None) -> None:
    if minimum is not None and maximum is not None and minimum > maximum:
        raise Invalid(f"max ({maximum}) is below min ({minimum})", field="max")


def below_min(available: int, minimum: int | None) -> bool:
    return minimum is not None and available < minimum


def below_min_sql(available: Any, minimum: Any) -> Any:
    """`below_min` over SQL expressions (the replenishment list filters its constraints in the database)."""
    return and_(minimum.is_not(None), available < minimum)


def above_max(available: int, maximum: int | None) -> bool:
    """After a receipt or move into a constrained subtree: does it hold more than its max?"""
    return maximum is not None and available > maximum


def suggested(available: int, on_order: int, minimum: int | None, maximum: int | None) -> int:
    """How much to order: up to max (else up to min) beyond what is available and on order, never below 0."""
    target = maximum if maximum is not None else minimum
    return max((target or 0) - available - on_order, 0)
