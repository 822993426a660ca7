"""Cycle counts' tables (on the same metadata as server/models.py; the migration is written separately).

- `counts`: one count — location-based (a location and everything below it) or part-based (one part in
  every location) — with its life cycle planned → open → review → closed, and at close its summary
  (lines counted and accurate, value expected and value of the differences, major discrepancies).
- `count_locations`: the locations an open location count covers (the subtree when it was started), and
  whether this count closed (locked) each one, so that closing the count reopens exactly those.
- `count_decisions`: a supervisor's decision on one counted line (the latest line of its item): an
  adjustment, a move to a count-discrepancy location, or leave as is; with the op it applied.
- `count_results`: at close, every counted line as reviewed (expected, counted, difference and its
  value, major, causes, decision): the record of discrepancies and the source of accuracy figures.
- `count_schedules`: a location's cadence set by hand (else the proposed one applies).

The count lines themselves are `server.models.CountLine` (`count_lines`), written by the `count` op.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


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
    value_expected: Mapped[float | None] = mapped_column(Float)
    value_difference: Mapped[float | None] = mapped_column(Float)  # sum of |difference × unit cost|
    major_discrepancies: Mapped[int | None] = mapped_column(Integer)
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
    delta: Mapped[int] = mapped_column(Integer)  # the difference decided on (counted - expected)
    to_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class CountResult(UUIDv7AuditBase):
    __tablename__ = "count_results"
    __table_args__ = (Index("ix_count_results_count_id_location_id", "count_id", "location_id"),)

    count_id: Mapped[UUID] = mapped_column(ForeignKey("counts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    count_line_id: Mapped[UUID] = mapped_column(ForeignKey("count_lines.id"))
    lot: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[str | None] = mapped_column(String(128))
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[float] = mapped_column(Float)
    value_expected: Mapped[float] = mapped_column(Float)
    value_difference: Mapped[float] = mapped_column(Float)  # (counted - expected) × unit cost, signed
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    causes: Mapped[list[Any]] = mapped_column(JsonB, default=list)
    decision: Mapped[str | None] = mapped_column(String(16))
    op_id: Mapped[UUID | None] = mapped_column()


class CountSchedule(UUIDv7AuditBase):
    __tablename__ = "count_schedules"
    __table_args__ = (CheckConstraint("cadence_days IS NULL OR cadence_days > 0", name="ck_count_schedules_cadence"),)

    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), unique=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer)  # null: the proposed cadence of its class
    note: Mapped[str | None] = mapped_column(Text)
