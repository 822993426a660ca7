"""Kits' tables (on the same metadata as server/models.py; the migration is 0016_kits_issues).

- `kits`: a kit of components picked for a run (`run`: the run's number as text — runs live on another
  branch) or for a location; numbered `KIT-0001`, …; open → (completed | cancelled). `location_id` is where it
  is staged; `tote_id` the kit's own location under it (code: the kit's number), where picked stock goes: it
  is Kitted while the kit is open (`locations.kit_id`).
- `kit_lines`: what the kit needs, one line per part: quantity and how much was picked. `version` is the
  change clock of the line's last change: phones pull the lines of open kits as the `kit_line` entity.
- `kit_picks`: each pick (the `kit` op): the op, the inventory row the stock went to in the tote, how much,
  who; a negative quantity when a supervisor moved a unit on to another kit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Number, QuantityType


class KitStatus(StrEnum):
    open = "open"
    completed = "completed"
    cancelled = "cancelled"


class Kit(UUIDv7AuditBase):
    __tablename__ = "kits"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'completed', 'cancelled')", name="ck_kits_status_valid"),
        Index("ix_kits_status_created_at", "status", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(64), unique=True)
    run: Mapped[str | None] = mapped_column(String(64), index=True)  # the run it is for (its number), if any
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))  # where it is staged
    tote_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), unique=True)  # the kit's own location
    status: Mapped[str] = mapped_column(String(16), default=KitStatus.open.value)
    created_by: Mapped[str] = mapped_column(String(64))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class KitLine(UUIDv7AuditBase):
    __tablename__ = "kit_lines"
    __table_args__ = (
        UniqueConstraint("kit_id", "line_no", name="uq_kit_lines_kit_id_line_no"),
        UniqueConstraint("kit_id", "part_id", name="uq_kit_lines_kit_id_part_id"),
        CheckConstraint("quantity > 0 AND picked >= 0", name="ck_kit_lines_quantities"),
    )

    kit_id: Mapped[UUID] = mapped_column(ForeignKey("kits.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    picked: Mapped[Number] = mapped_column(QuantityType, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # the change clock: sync pull


class KitPick(UUIDv7AuditBase):
    """One pick into a kit (the `kit` op, server/kits/picking.py)."""

    __tablename__ = "kit_picks"

    kit_id: Mapped[UUID] = mapped_column(ForeignKey("kits.id"), index=True)
    line_id: Mapped[UUID] = mapped_column(ForeignKey("kit_lines.id"))
    op_id: Mapped[UUID] = mapped_column(index=True)
    inventory_id: Mapped[UUID] = mapped_column(ForeignKey("inventory.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    picked_by: Mapped[str] = mapped_column(String(64))
