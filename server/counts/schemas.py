"""Wire shapes of /api/counts, as msgspec Structs (the one validation scheme)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from server.ops.args import Amount, Code

Name = Annotated[str, Meta(min_length=1, max_length=128)]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]


class CountIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Plan a count: a location (and everything below it) or a part (in every location)."""

    kind: Literal["location", "part"]
    location: Code | None = None
    part: Code | None = None
    blind: bool = False
    closes_locations: bool = False
    due: date | None = None
    name: Name | None = None
    note: Note | None = None


class CountOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    kind: str
    status: str
    location: str | None
    part: str | None
    blind: bool
    closes_locations: bool
    due: date | None
    overdue: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    started_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    note: str | None
    locations: list[str]  # the locations it covers (open counts: as when started)
    summary: dict[str, Any] | None = None  # at close: lines, accuracy, value, major discrepancies


class CountsPage(msgspec.Struct, kw_only=True):
    items: list[CountOut]
    total: int
    limit: int
    offset: int


class SheetLine(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):  # no cycles: not tracked by the GC
    location: str
    part: str
    revision: str
    description: str
    unit: str
    tracking: str
    lot: str | None = None
    serial: str | None = None
    expected: Amount | None = None  # left out on a blind count's sheet
    isolated: int | None = None


class SheetOut(msgspec.Struct, kw_only=True):
    count: CountOut
    blind: bool
    lines: list[SheetLine]
    total: int


class Decision(msgspec.Struct, kw_only=True, gc=False):
    action: str
    op_id: UUID | None
    op_type: str | None
    delta: Amount
    to_location: str | None
    actor: str
    at: datetime
    note: str | None
    causes: list[dict[str, Any]] | None = None  # the likely causes shown when it was decided
    value: str | None = None  # an adjustment's value as booked: −its usage record's cost, or +its found layer's


class ReviewLine(msgspec.Struct, kw_only=True, gc=False):
    line_id: str | None  # the latest count line of the item (what a decision names); none if not counted
    location: str
    part: str
    revision: str
    description: str
    unit: str
    tracking: str
    lot: str | None
    serial: str | None
    expected: Amount  # what the server held when it was counted (not counted: holds now)
    counted: Amount | None
    difference: Amount | None
    unit_cost: str  # money as decimal strings (server/rules/money.py `money_text`)
    value_expected: str
    value_difference: str | None  # signed; a line adjusted: what its adjustment booked (its decision's `value`)
    state: str  # not_counted, match, short, over (a closed count's uncounted line: not_counted, decision not_counted)
    major: bool
    causes: list[dict[str, Any]]
    counted_by: str | None
    counted_at: str | None  # RFC 3339, UTC (server/counts/review.py `rfc3339`)
    recounts: list[dict[str, Any]]  # earlier lines of the same item, oldest first (the latest wins)
    decision: Decision | None


class ReviewOut(msgspec.Struct, kw_only=True):
    count: CountOut
    totals: dict[str, Any]
    thresholds: dict[str, str]  # value (money), percent
    lines: list[ReviewLine]  # the page asked for: `limit` lines from `offset`, of `total_lines`
    total_lines: int
    limit: int | None
    offset: int
    currency: str  # of every amount (GEMBA_CURRENCY)


class DecideIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Decide counted lines (by `line_id` from the review): `adjust` (an `adjust` op, or a `move` of a unit
    recorded elsewhere), `move` (the difference to — or back from — a count-discrepancy location), or
    `leave` (no change)."""

    lines: Annotated[list[UUID], Meta(min_length=1, max_length=1000)]
    action: Literal["adjust", "move", "leave"]
    to_location: Code | None = None
    note: Note | None = None


class DecisionResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    line_id: UUID
    status: Literal["decided", "refused"]
    action: str | None = None
    op_id: UUID | None = None
    op_type: str | None = None
    delta: Amount | None = None
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class DecideOut(msgspec.Struct, kw_only=True):
    results: list[DecisionResult]


class CloseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Close a count. Expected lines still uncounted refuse it (409 `count_incomplete`) unless `not_counted`
    is true — the supervisor's decision to close without them, recorded on each of them, with a `note`
    saying why."""

    note: Note | None = None
    not_counted: bool = False


class CloseOut(msgspec.Struct, kw_only=True):
    count: CountOut
    reopened: list[str]  # locations this count closed and closing it opened again
    reevaluated: list[dict[str, Any]]  # the held operations on them, re-evaluated for a supervisor


class ScheduleItem(msgspec.Struct, kw_only=True):
    location: str
    kind: str
    value: str  # money held there
    moves: int
    cls: str
    why: str
    cadence_days: int
    cadence_source: str  # class, or set
    last_counted: date | None
    next_count: date
    state: str  # overdue, due, scheduled
    planned: dict[str, Any] | None  # a count already planned or open for it


class ScheduleOut(msgspec.Struct, kw_only=True):
    today: date
    window_days: int
    horizon_days: int
    cadences: dict[str, int]
    items: list[ScheduleItem]


class CadenceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    cadence_days: Annotated[int, Meta(ge=1, le=3650)] | None = None
    note: Note | None = None


class DueOut(msgspec.Struct, kw_only=True):
    today: date
    locations: list[ScheduleItem]
    counts: list[CountOut]


class AccuracyPoint(msgspec.Struct, kw_only=True):
    count_id: UUID
    name: str
    closed_at: datetime
    location: str | None
    lines_counted: int
    lines_accurate: int
    line_accuracy: float | None  # accurate / (counted + not counted)
    value_expected: str  # money as decimal strings
    value_difference: str
    value_accuracy: float | None
    lines_not_counted: int = 0
    value_not_counted: str = "0.00"


class LocationAccuracy(msgspec.Struct, kw_only=True):
    location: str
    lines_counted: int
    lines_accurate: int
    line_accuracy: float | None
    value_accuracy: float | None
    history: list[AccuracyPoint]
    lines_not_counted: int = 0


class AccuracyOut(msgspec.Struct, kw_only=True):
    overall: dict[str, Any]
    counts: list[AccuracyPoint]
    locations: list[LocationAccuracy]
