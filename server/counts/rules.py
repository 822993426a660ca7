"""The rules of cycle counting, as pure functions: no session, no HTTP.

Schedule (SOP: "base your schedule on two key attributes: the consumption rate of the inventory and the
value of the parts in each location"):
- Value class, ABC by cumulative value: locations sorted by the value they hold (on-hand quantity × unit
  cost); those that together make the first 80 % of the site's value are A, the next 15 % B, the rest C
  (a location holding nothing of value is C).
- Movement: a location with at least one movement-log line per 3 days on average over the window (default
  90 days: 30 moves) is fast-moving and goes up one class (C → B, B → A).
- Cadence: A every 30 days, B every 90, C every 180 — unless a supervisor set the location's own cadence.
- Next count: the last closed location count that covered it + the cadence; never counted: due today.
  Overdue when that date has passed; due when it falls within the horizon (default 7 days).

Review:
- A line is accurate when the count equals what was expected when it was counted.
- A discrepancy is major when its value (|difference| × unit cost) reaches the value threshold (default
  500) or its size reaches the percentage threshold (default 20 %) of the larger of expected and counted —
  so a serial missing or found, and anything the system did not expect at all, is 100 %: always major.
- Accuracy of a set of lines: lines accurate / lines reviewed, where the lines reviewed are those counted
  and those expected but not counted (a line nobody counted is not known to be right: it counts against
  accuracy, as a demanding inventory manager reads "accuracy"); value accuracy: 1 − (Σ|value of
  difference| + value not counted) / (Σ value expected of the counted lines + value not counted) (0 at
  worst; 1 when nothing of value was expected and nothing differed). A count cannot close with expected
  lines uncounted unless a supervisor decides so explicitly (server/counts/record.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from server.errors import Invalid
from server.rules.quantities import Number
from server.rules.money import EXACT

A_SHARE, B_SHARE = Decimal("0.80"), Decimal("0.95")
CADENCE_DAYS = {"A": 30, "B": 90, "C": 180}
CLASS_MEANING = {
    "A": "the locations holding the first 80 % of the site's value",
    "B": "the next 15 % of the value",
    "C": "the rest",
}
FAST_EVERY_DAYS = 3  # one movement per 3 days on average makes a location fast-moving
DEFAULT_WINDOW_DAYS = 90
DEFAULT_HORIZON_DAYS = 7


@dataclass(frozen=True, slots=True)
class LocationStats:
    key: Any
    code: str
    value: Decimal
    moves: int


@dataclass(frozen=True, slots=True)
class Classified:
    cls: str
    value_class: str
    fast: bool
    why: str


def fast_threshold(window_days: int) -> int:
    return max(1, -(-window_days // FAST_EVERY_DAYS))  # ceil(window / 3)


def promote(cls: str) -> str:
    return {"C": "B", "B": "A"}.get(cls, cls)


def classify(stats: Sequence[LocationStats], window_days: int = DEFAULT_WINDOW_DAYS) -> dict[Any, Classified]:
    """ABC class of each location by cumulative value, one class up when fast-moving."""
    total = sum((max(s.value, ZERO) for s in stats), ZERO)
    ordered = sorted(stats, key=lambda s: (-max(s.value, ZERO), -s.moves, s.code))
    fast_at = fast_threshold(window_days)
    found: dict[Any, Classified] = {}
    running = ZERO
    for s in ordered:
        share_before = running / total if total > 0 else Decimal(1)
        value = max(s.value, ZERO)
        if value > 0 and share_before < A_SHARE:
            value_class = "A"
        elif value > 0 and share_before < B_SHARE:
            value_class = "B"
        else:
            value_class = "C"
        running += value
        fast = s.moves >= fast_at
        cls = promote(value_class) if fast else value_class
        why = f"value class {value_class} ({CLASS_MEANING[value_class]})"
        if fast and cls != value_class:
            why += f"; fast-moving ({s.moves} moves in {window_days} days, {fast_at}+ is fast): one class up"
        elif fast:
            why += f"; fast-moving ({s.moves} moves in {window_days} days)"
        found[s.key] = Classified(cls, value_class, fast, why)
    return found


def next_count(last_counted: date | None, cadence_days: int, today: date) -> date:
    return today if last_counted is None else last_counted + timedelta(days=cadence_days)


def horizon_end(today: date, horizon_days: int) -> date:
    """The horizon's last day; a `today` whose horizon ends after 9999-12-31 is invalid."""
    try:
        return today + timedelta(days=horizon_days)
    except OverflowError:
        raise Invalid(f"today {today} + horizon_days {horizon_days} passes {date.max}", field="today") from None


def due_state(next_date: date, today: date, horizon_days: int = DEFAULT_HORIZON_DAYS) -> str:
    """overdue (the date has passed), due (within the horizon) or scheduled."""
    if next_date < today:
        return "overdue"
    if next_date <= horizon_end(today, horizon_days):
        return "due"
    return "scheduled"


# ---- review -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Thresholds:
    """What makes a discrepancy major (GEMBA_COUNT_MAJOR_VALUE, GEMBA_COUNT_MAJOR_PERCENT)."""

    value: Decimal = Decimal(500)
    percent: Decimal = Decimal(20)


def discrepancy_percent(expected: Number, counted: Number) -> Decimal:
    base = max(expected, counted)
    return Decimal(0) if base == 0 else EXACT.divide(EXACT.multiply(Decimal(abs(counted - expected)), Decimal(100)), Decimal(base))


def is_major(expected: Number, counted: Number, value: Decimal, thresholds: Thresholds) -> bool:
    """`value`: the difference's (|difference| × unit cost, or what its adjustment booked), not signed."""
    if counted == expected:
        return False
    size = EXACT.multiply(Decimal(abs(counted - expected)), Decimal(100))  # compared without dividing: exact
    return abs(value) >= thresholds.value or size >= EXACT.multiply(thresholds.percent, Decimal(max(expected, counted)))


ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Lines and money (Decimal, exact); the accuracies are fractions for showing (floats)."""

    lines_counted: int
    lines_accurate: int
    value_expected: Decimal  # of the lines counted
    value_difference: Decimal  # sum of |difference × unit cost|
    lines_not_counted: int = 0  # expected, closed without a count
    value_not_counted: Decimal = ZERO  # their value expected

    @property
    def line_accuracy(self) -> float | None:
        reviewed = self.lines_counted + self.lines_not_counted
        return None if reviewed == 0 else self.lines_accurate / reviewed

    @property
    def value_accuracy(self) -> float | None:
        if self.lines_counted + self.lines_not_counted == 0:
            return None
        whole = EXACT.add(self.value_expected, self.value_not_counted)
        off = EXACT.add(self.value_difference, self.value_not_counted)
        if whole <= 0:
            return 1.0 if off == 0 else 0.0
        return float(max(ZERO, 1 - off / whole))

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(
            self.lines_counted + other.lines_counted, self.lines_accurate + other.lines_accurate,
            EXACT.add(self.value_expected, other.value_expected), EXACT.add(self.value_difference, other.value_difference),
            self.lines_not_counted + other.lines_not_counted, EXACT.add(self.value_not_counted, other.value_not_counted),
        )


NO_LINES = Accuracy(0, 0, ZERO, ZERO)
