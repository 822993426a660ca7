"""Quality issues' tables (on the same metadata as server/models.py; the migration is 0016_kits_issues).

- `quality_issues`: a problem logged against a unit (`serial`), a lot (`part` + `lot`) or a row (`part` +
  `location`, and `lot` if given), numbered `ISSUE-0001`, …; opened by the `open_issue` op (`op_id`), online
  or from an offline phone; open → closed, by a supervisor, with a disposition and a note.
- `quality_issue_stock`: the stock an issue isolated when it was opened (`isolate`): the inventory row set
  aside (a unit, or the isolated bucket the quantity went to) and how much — what closing it releases,
  scraps or returns.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Number, QuantityType


class IssueStatus(StrEnum):
    open = "open"
    closed = "closed"


class Disposition(StrEnum):
    use_as_is = "use_as_is"
    rework = "rework"
    scrap = "scrap"
    return_to_supplier = "return_to_supplier"


class Issue(UUIDv7AuditBase):
    __tablename__ = "quality_issues"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="ck_quality_issues_status_valid"),
        CheckConstraint(
            "disposition IS NULL OR disposition IN ('use_as_is', 'rework', 'scrap', 'return_to_supplier')",
            name="ck_quality_issues_disposition_valid",
        ),
        Index("ix_quality_issues_part_id_lot", "part_id", "lot"),
        Index("ix_quality_issues_status_created_at", "status", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(64), unique=True)
    op_id: Mapped[UUID] = mapped_column(unique=True)  # the `open_issue` op that opened it
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))  # a unit's part too
    serial: Mapped[str | None] = mapped_column(String(128), index=True)
    lot: Mapped[str | None] = mapped_column(String(128))
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"))
    isolate: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=IssueStatus.open.value)
    disposition: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(64))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class IssueStock(UUIDv7AuditBase):
    """Stock an issue isolated when it was opened."""

    __tablename__ = "quality_issue_stock"

    issue_id: Mapped[UUID] = mapped_column(ForeignKey("quality_issues.id"), index=True)
    inventory_id: Mapped[UUID] = mapped_column(ForeignKey("inventory.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)
