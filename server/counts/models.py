"""Cycle counts' tables (on the same metadata as server/models.py).

- `counts`: one count — location-based (a location and everything below it) or part-based (one part in
  every location) — with its life cycle planned → open → review → closed, and at close its summary
  (lines counted and accurate, value expected and value of the differences, major discrepancies).
- `count_locations`: the locations an open location count covers (the subtree when it was started), and
  whether this count closed (locked) each one, so that closing the count reopens exactly those.
- `count_decisions`: a supervisor's decision on one counted line (the latest line of its item): an
  adjustment, a move to a count-discrepancy location, or leave as is; with the op it applied and the
  likely causes as the review showed them when deciding (what the decision was made on).
- `count_results`: at close, every line as reviewed (expected, counted, difference and its value, major,
  causes in full, decision) — lines left uncounted too (counted null, decision `not_counted`: the
  supervisor closed the count without them): the record of discrepancies, the closed count's review (it
  never changes after), and the source of accuracy figures.
- `count_schedules`: a location's cadence set by hand (else the proposed one applies).

- `count_lines`: what was counted (`CountLine`), a line per `count` op (server/counts/lines.py).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from server.models import Money, Number, QuantityType


class CountKind(StrEnum):
    location = "location"
    part = "part"


class CountStatus(StrEnum):
    planned = "planned"
    open = "open"  # counting
    review = "review"  # counting finished; a supervisor decides (recounts are still taken)
    closed = "closed"


ACTIVE = (CountStatus.open.value, CountStatus.review.value)  # counts that take count lines and decisions


class DecisionAction(StrEnum):
    adjust = "adjust"
    move = "move"  # the difference to (or back from) a count-discrepancy location
    leave = "leave"  # no change: the record was right, or it was fixed another way


class Count(UUIDv7AuditBase):
    __tablename__ = "counts"
    __table_args__ = (
        CheckConstraint("kind IN ('location', 'part')", name="ck_counts_kind_valid"),
        CheckConstraint("status IN ('planned', 'open', 'review', 'closed')", name="ck_counts_status_valid"),
        CheckConstraint(
            "(kind = 'location' AND location_id IS NOT NULL AND part_id IS NULL)"
            " OR (kind = 'part' AND part_id IS NOT NULL AND location_id IS NULL)",
            name="ck_counts_scope",
        ),
        CheckConstraint("NOT (closes_locations AND kind = 'part')", name="ck_counts_part_counts_close_nothing"),
        Index("ix_counts_status_due_date", "status", "due_date"),
    )

    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CountStatus.planned.value)
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    part_id: Mapped[UUID | None] = mapped_column(ForeignKey("parts.id"), index=True)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_locations: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    started_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # the summary written at close (null before)
    lines_expected: Mapped[int | None] = mapped_column(Integer)
    lines_counted: Mapped[int | None] = mapped_column(Integer)
    lines_accurate: Mapped[int | None] = mapped_column(Integer)
    value_expected: Mapped[Decimal | None] = mapped_column(Money)
    value_difference: Mapped[Decimal | None] = mapped_column(Money)  # sum of |difference × unit cost|
    major_discrepancies: Mapped[int | None] = mapped_column(Integer)
    lines_not_counted: Mapped[int | None] = mapped_column(Integer)  # expected lines closed without a count
    value_not_counted: Mapped[Decimal | None] = mapped_column(Money)  # their value expected
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # the change clock: sync pull


class CountLocation(UUIDv7AuditBase):
    __tablename__ = "count_locations"
    __table_args__ = (UniqueConstraint("count_id", "location_id", name="uq_count_locations_count_id_location_id"),)

    count_id: Mapped[UUID] = mapped_column(ForeignKey("counts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    locked_by_count: Mapped[bool] = mapped_column(Boolean, default=False)


class CountDecision(UUIDv7AuditBase):
    __tablename__ = "count_decisions"
    __table_args__ = (CheckConstraint("action IN ('adjust', 'move', 'leave')", name="ck_count_decisions_action_valid"),)

    count_id: Mapped[UUID] = mapped_column(ForeignKey("counts.id"), index=True)
    count_line_id: Mapped[UUID] = mapped_column(ForeignKey("count_lines.id"), unique=True)
    action: Mapped[str] = mapped_column(String(16))
    op_id: Mapped[UUID | None] = mapped_column()  # the adjust or move applied (none for `leave`)
    op_type: Mapped[str | None] = mapped_column(String(32))
    delta: Mapped[Number] = mapped_column(QuantityType)  # the difference decided on (counted - expected)
    to_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    causes: Mapped[list[Any] | None] = mapped_column(JsonB)  # as shown when decided (null: decided before kept)


class CountResult(UUIDv7AuditBase):
    __tablename__ = "count_results"
    __table_args__ = (Index("ix_count_results_count_id_location_id", "count_id", "location_id"),)

    count_id: Mapped[UUID] = mapped_column(ForeignKey("counts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    count_line_id: Mapped[UUID | None] = mapped_column(ForeignKey("count_lines.id"))  # null: not counted
    tracking: Mapped[str | None] = mapped_column(String(16))
    lot: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[str | None] = mapped_column(String(128))
    expected: Mapped[Number] = mapped_column(QuantityType)
    counted: Mapped[Number | None] = mapped_column(QuantityType)  # null: not counted
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    value_expected: Mapped[Decimal] = mapped_column(Money)
    value_difference: Mapped[Decimal] = mapped_column(Money)  # (counted - expected) × unit cost, signed
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    causes: Mapped[list[Any]] = mapped_column(JsonB, default=list)  # {code, text, fix, evidence} (codes before 0009)
    decision: Mapped[str | None] = mapped_column(String(16))  # adjust, move, leave, not_counted
    op_id: Mapped[UUID | None] = mapped_column()


class CountSchedule(UUIDv7AuditBase):
    __tablename__ = "count_schedules"
    __table_args__ = (CheckConstraint("cadence_days IS NULL OR cadence_days > 0", name="ck_count_schedules_cadence"),)

    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), unique=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer)  # null: the proposed cadence of its class
    note: Mapped[str | None] = mapped_column(Text)


class CountLine(UUIDv7AuditBase):
    """One line of a cycle count (the `count` op): what was counted at a location, next to what the
    server held there when the op was applied. It adjusts nothing by itself; a supervisor turns a
    discrepancy into an adjustment (`adjust` with the line's `count_id`). Of several lines of one item in
    one count, the one with the highest `version` (the change clock, i.e. commit order) is the count."""

    __tablename__ = "count_lines"
    __table_args__ = (
        CheckConstraint("counted_quantity >= 0", name="ck_count_lines_counted_non_negative"),
        Index("ix_count_lines_location_id_part_id", "location_id", "part_id"),
        Index("ix_count_lines_count_id_location_id_part_id", "count_id", "location_id", "part_id"),  # the item in its count
    )

    op_id: Mapped[UUID] = mapped_column(unique=True)
    count_id: Mapped[UUID | None] = mapped_column(ForeignKey("counts.id"), index=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    tracking: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str | None] = mapped_column(String(128))
    lot: Mapped[str | None] = mapped_column(String(128))
    counted_quantity: Mapped[Number] = mapped_column(QuantityType)
    expected_quantity: Mapped[Number] = mapped_column(QuantityType)  # on hand there (free + isolated), not installed
    actor: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # the change clock: latest line wins
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)  # of the stock there when counted (a unit: its own)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)  # a later line of the item in its count
