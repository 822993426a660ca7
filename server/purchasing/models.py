"""Purchasing's tables (on the same metadata as server/models.py; the migration is written separately).

- `purchase_orders`: one PO to one supplier, numbered from a pattern, with its life cycle draft → open →
  (received | cancelled), who moved it on and when, and the installation's currency when it was made.
- `po_lines`: its lines 1, 2, …, named `NUMBER/LINE` everywhere: part, quantity ordered and received,
  unit price (money: NUMERIC), the serials or lot expected, where it will be received, and the line's
  status open → (received | closed_short | cancelled). `version` is the change clock of the line's last
  change: phones pull open lines as the `po_line` entity.
- `po_receipts`: what was received against a line: the op that received it, the inventory row it went to
  (a unit, or the lot or untracked bucket it joined), the quantity and its unit cost (money: NUMERIC), who
  received it and when (`created_at`).
- `stock_constraints`: min/max stock of a part in a location and everything below it.

Opening a PO makes its On-order inventory rows: `inventory.po_line_id` names the line a row was made for
and `inventory.po_state` whether it is still on order (`open`), its line is done (`received`) or it will
not come (`cancelled`). A row with a `po_state` is not stock: no operation takes from it, counts and phones
do not see it. A serialized unit that is received becomes stock (`po_state` NULL) and keeps its
`po_line_id`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint, and_, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models import InventoryRow, Money, Number, QuantityType


class PoStatus(StrEnum):
    draft = "draft"
    open = "open"
    received = "received"  # nothing is expected any more: every line received in full or closed short
    cancelled = "cancelled"


class LineStatus(StrEnum):
    open = "open"
    received = "received"
    closed_short = "closed_short"
    cancelled = "cancelled"


def _one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{column}_valid")


class PurchaseOrder(UUIDv7AuditBase):
    __tablename__ = "purchase_orders"
    __table_args__ = (_one_of("status", PoStatus), Index("ix_purchase_orders_status_created_at", "status", "created_at"))

    number: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[UUID] = mapped_column(ForeignKey("suppliers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PoStatus.draft.value)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    opened_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))  # received or cancelled
    closed_by: Mapped[str | None] = mapped_column(String(64))


class PoLine(UUIDv7AuditBase):
    __tablename__ = "po_lines"
    __table_args__ = (
        UniqueConstraint("po_id", "line_no", name="uq_po_lines_po_id_line_no"),
        _one_of("status", LineStatus),
        CheckConstraint("quantity > 0 AND received >= 0", name="ck_po_lines_quantities"),
        Index("ix_po_lines_part_id_status", "part_id", "status"),
    )

    po_id: Mapped[UUID] = mapped_column(ForeignKey("purchase_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)  # ordered (grows when a supervisor accepts an over-delivery)
    received: Mapped[Number] = mapped_column(QuantityType, default=0)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    serials: Mapped[list[str] | None] = mapped_column(JsonB)  # the units expected, when the line lists them
    lot: Mapped[str | None] = mapped_column(String(128))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), index=True)  # where it will be received
    expected_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=LineStatus.open.value)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # the change clock: sync pull


class PoReceipt(UUIDv7AuditBase):
    """One receipt against a PO line (the `receive` op with `po_line`, server/purchasing/receiving.py)."""

    __tablename__ = "po_receipts"

    line_id: Mapped[UUID] = mapped_column(ForeignKey("po_lines.id"), index=True)
    op_id: Mapped[UUID] = mapped_column(index=True)
    inventory_id: Mapped[UUID] = mapped_column(ForeignKey("inventory.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    received_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # how a supervisor's approval changed the line, if it did


class StockConstraint(UUIDv7AuditBase):
    """Min and max stock of a part in a location and its subtree (a site, an area, a shelf)."""

    __tablename__ = "stock_constraints"
    __table_args__ = (
        UniqueConstraint("part_id", "location_id", name="uq_stock_constraints_part_id_location_id"),
        CheckConstraint(
            "(min_quantity IS NOT NULL OR max_quantity IS NOT NULL) AND (min_quantity IS NULL OR min_quantity >= 0)"
            " AND (max_quantity IS NULL OR max_quantity >= 0)"
            " AND (min_quantity IS NULL OR max_quantity IS NULL OR min_quantity <= max_quantity)",
            name="ck_stock_constraints_min_max",
        ),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    min_quantity: Mapped[Number | None] = mapped_column(QuantityType)
    max_quantity: Mapped[Number | None] = mapped_column(QuantityType)
    updated_by: Mapped[str] = mapped_column(String(64))
    # What is Available (but for expiry) and On order of the part in the location's subtree: kept by the database's
    # triggers (server/levels.py), never written by the code.
    available: Mapped[Number] = mapped_column(QuantityType, server_default=text("0"))
    on_order: Mapped[Number] = mapped_column(QuantityType, server_default=text("0"))


# A part's newest stock received from a supplier (its last supplier when no PO line names one: the replenishment
# list, server/purchasing/replenishment.py): one step down this index per part. Partial: stock with a supplier.
SUPPLIED_STOCK = and_(InventoryRow.supplier_id.is_not(None), InventoryRow.po_state.is_(None))
Index("ix_inventory_part_id_supplied", InventoryRow.part_id, InventoryRow.created_at, InventoryRow.id,
      sqlite_where=SUPPLIED_STOCK, postgresql_where=SUPPLIED_STOCK)
