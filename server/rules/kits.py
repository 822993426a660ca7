"""Kits, as pure rules (docs/kits-and-issues.md): may this pick go into this kit, is the stock in another
kit already, and where to pick a line's remaining quantity from (FEFO).

Numbers are `KIT-0001`, …; a line's remaining is its quantity less what was picked, never below 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.errors import AlreadyKitted, Invalid, KitNotOpen, NotOnKit
from server.models import canon
from server.rules.quantities import Number

KIT_NUMBER = "KIT-{seq:04}"
OPEN, COMPLETED, CANCELLED = "open", "completed", "cancelled"
STATUSES = (OPEN, COMPLETED, CANCELLED)


def remaining(quantity: Number, picked: Number) -> Number:
    return canon(max(quantity - picked, 0))


def check_open(number: str, status: str, field: str = "kit") -> None:
    if status != OPEN:
        raise KitNotOpen(f"Kit {number} is {status}, not open", field=field, kit=number, kit_status=status)


def check_on_kit(number: str, part: str, line: tuple[Number, Number] | None, quantity: Number) -> None:
    """A pick of `quantity` of `part` into a kit whose line for it is (quantity, picked), or None."""
    if line is None:
        raise NotOnKit(f"Kit {number} has no line for {part}", field="part", kit=number)
    left = remaining(*line)
    if quantity > left:
        raise NotOnKit(
            f"Kit {number} needs {left} more of {part}, the pick is {quantity}", field="quantity", kit=number,
            remaining=left,
        )


def check_not_kitted(what: str, other_kit: str | None, field: str) -> None:
    """Stock in the tote of an open kit (`other_kit`: its number) is kitted already."""
    if other_kit is not None:
        raise AlreadyKitted(f"{what} is in kit {other_kit} already", field=field, kit=other_kit)


def check_lines(parts: Sequence[str]) -> None:
    """One line per part (a kit's lines are named by their part)."""
    if not parts:
        raise Invalid("lines: a kit needs at least one line", field="lines")
    seen: set[str] = set()
    for index, part in enumerate(parts):
        if part in seen:
            raise Invalid(f"lines[{index}].part: {part} is on an earlier line too", field=f"lines[{index}].part")
        seen.add(part)


def check_status_filter(status: str | None) -> list[str] | None:
    if status is None:
        return None
    wanted = [s.strip() for s in status.split(",") if s.strip()]
    for value in wanted:
        if value not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}, not {value!r}", field="status")
    return wanted


@dataclass(frozen=True, slots=True)
class Stock:
    """Available stock of a part somewhere: a candidate to pick from."""

    location: str
    quantity: Number
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None  # the lot's expiry, when known
    received: datetime | None = None  # when the row was made


def _order(stock: Stock) -> tuple[Any, ...]:
    """First expiring first (FEFO); without an expiry, after those, oldest first (FIFO)."""
    return (stock.expiry is None, stock.expiry or date.max, stock.received is None,
            stock.received or datetime.max, stock.location, stock.lot or "", stock.serial or "")


def suggest(candidates: Iterable[Stock], needed: Number, *, most: int = 5) -> list[Stock]:
    """Where to pick `needed` from: candidates in FEFO order until they cover it (at most `most`); each with
    the quantity to take there. Nothing when nothing is needed."""
    chosen: list[Stock] = []
    left = needed
    for stock in sorted(candidates, key=_order):
        if left <= 0 or len(chosen) >= most:
            break
        take = min(stock.quantity, left)
        if take <= 0:
            continue
        chosen.append(Stock(stock.location, canon(take), stock.lot, stock.serial, stock.expiry, stock.received))
        left -= take
    return chosen
