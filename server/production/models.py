"""Production's tables (on the same metadata as server/models.py; the migration is 0015_production.py).

- `boms` / `bom_lines`: the build requirements of a part revision — each line a component part, its quantity
  per assembly, and whether it is Made on Assembly (built into the parent during the parent's run, not taken
  from stock).
- `runs`: a production run (work order) of a part: planned → open → completed | failed | cancelled; how many
  it is to make and has made, where the built units go (`location_id`) and its own work-in-progress location
  (`wip_location_id`, made when it starts: what is issued to the run sits there, status WIP).
- `run_lines`: the run's requirements, copied from the BOM when the run is planned, with what was issued.
- `run_items`: append-only, what a run touched — each component issued, each unit or lot it produced and each
  component consumed into them (the op, the row, serial or lot, quantity): the run history of units and lots.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Number, QuantityType


class RunState(StrEnum):
    planned = "planned"
    open = "open"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class ItemKind(StrEnum):
    issued = "issued"  # a component put on the run (op `issue`)
    produced = "produced"  # a unit or lot the run built (op `complete_run`)
    consumed = "consumed"  # a component installed into what the run built
    returned = "returned"  # left over when the run closed: back to the run's location


def _one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{column}_valid")


class Bom(UUIDv7AuditBase):
    __tablename__ = "boms"
    __table_args__ = (UniqueConstraint("part_id", "revision", name="uq_boms_part_id_revision"),)

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    revision: Mapped[str] = mapped_column(String(32), default="")
    updated_by: Mapped[str] = mapped_column(String(64))


class BomLine(UUIDv7AuditBase):
    __tablename__ = "bom_lines"
    __table_args__ = (
        UniqueConstraint("bom_id", "part_id", name="uq_bom_lines_bom_id_part_id"),
        CheckConstraint("quantity > 0", name="ck_bom_lines_quantity_positive"),
    )

    bom_id: Mapped[UUID] = mapped_column(ForeignKey("boms.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)  # per assembly
    made_on_assembly: Mapped[bool] = mapped_column(Boolean, default=False)


class Run(UUIDv7AuditBase):
    __tablename__ = "runs"
    __table_args__ = (_one_of("state", RunState), Index("ix_runs_state_created_at", "state", "created_at"))

    number: Mapped[str] = mapped_column(String(64), unique=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"), index=True)
    revision: Mapped[str] = mapped_column(String(32), default="")
    quantity: Mapped[Number] = mapped_column(QuantityType)
    produced: Mapped[Number] = mapped_column(QuantityType, default=0)
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    wip_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"))
    state: Mapped[str] = mapped_column(String(16), default=RunState.planned.value)
    serials: Mapped[list[Any] | None] = mapped_column(JsonB)  # the serials it is to build, when known
    lot: Mapped[str | None] = mapped_column(String(128))  # the lot it builds (default: named from the run)
    created_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))


class RunLine(UUIDv7AuditBase):
    __tablename__ = "run_lines"
    __table_args__ = (UniqueConstraint("run_id", "part_id", name="uq_run_lines_run_id_part_id"),)

    run_id: Mapped[UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    per_unit: Mapped[Number] = mapped_column(QuantityType)
    required: Mapped[Number] = mapped_column(QuantityType)
    issued: Mapped[Number] = mapped_column(QuantityType, default=0)
    consumed: Mapped[Number] = mapped_column(QuantityType, default=0)
    made_on_assembly: Mapped[bool] = mapped_column(Boolean, default=False)


class RunItem(UUIDv7AuditBase):
    __tablename__ = "run_items"
    __table_args__ = (
        _one_of("kind", ItemKind),
        Index("ix_run_items_serial", "serial"),
        Index("ix_run_items_part_id_lot", "part_id", "lot"),
    )

    run_id: Mapped[UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    op_id: Mapped[UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    inventory_id: Mapped[UUID | None] = mapped_column(ForeignKey("inventory.id"))
    serial: Mapped[str | None] = mapped_column(String(128))
    lot: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    into_serial: Mapped[str | None] = mapped_column(String(128))  # consumed: the unit it was built into
