"""Tables. Rules that must hold whatever the code does are database constraints here.

Inventory rows are never deleted: a lot or untracked row that is emptied keeps quantity 0 (status
Unavailable) so that history, sync versions and row ids stay stable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column


class Role(StrEnum):
    operator = "operator"
    supervisor = "supervisor"
    admin = "admin"


class Tracking(StrEnum):
    serial = "serial"
    lot = "lot"
    untracked = "untracked"


class LocationKind(StrEnum):
    normal = "normal"
    incoming = "incoming"
    lineside = "lineside"
    quarantine = "quarantine"
    count_discrepancy = "count_discrepancy"


class Action(StrEnum):
    """Movement-log actions (domain.md), plus the inverse of Isolate and the lot re-labelling pair."""

    add = "Add"
    remove = "Remove"
    move = "Move"
    assemble = "Assemble"
    disassemble = "Disassemble"
    isolate = "Isolate"
    release = "Release"
    scrap = "Scrap"
    adjust = "Adjust"
    split = "Split"
    merge = "Merge"


def _enum_check(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{column}_valid")


class User(UUIDv7AuditBase):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", Role),)

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Device(UUIDv7AuditBase):
    """A phone or other client. Its id is chosen by the client; a token binds it to one user."""

    __tablename__ = "devices"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiToken(UUIDv7AuditBase):
    """Opaque bearer tokens, stored hashed so a database leak does not leak sessions."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[UUID | None] = mapped_column(ForeignKey("devices.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Part(UUIDv7AuditBase):
    __tablename__ = "parts"
    __table_args__ = (_enum_check("tracking", Tracking),)

    part_number: Mapped[str] = mapped_column(String(64), unique=True)
    revision: Mapped[str] = mapped_column(String(32), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(16), default="ea")
    tracking: Mapped[str] = mapped_column(String(16))
    serial_pattern: Mapped[str | None] = mapped_column(String(64))
    lot_pattern: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Location(UUIDv7AuditBase):
    __tablename__ = "locations"
    __table_args__ = (_enum_check("kind", LocationKind),)

    code: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), default=LocationKind.normal.value)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    count_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    # the version at which what its inventory rows show of it last changed (code, availability: a pull
    # sends its rows again after it), not a count lock or a rename of its name
    rows_version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Supplier(UUIDv7AuditBase):
    __tablename__ = "suppliers"

    name: Mapped[str] = mapped_column(String(128), unique=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)


class InventoryRow(UUIDv7AuditBase):
    """Stock of one part in one place: a serialized unit, a lot quantity or an untracked quantity.

    `location_id` is always set; an installed row carries its top assembly's location (kept in step
    when the assembly moves) and counts as installed, not on hand.
    """

    __tablename__ = "inventory"
    __table_args__ = (
        _enum_check("tracking", Tracking),
        CheckConstraint("quantity >= 0", name="ck_inventory_quantity_non_negative"),
        CheckConstraint(
            "(tracking = 'serial' AND serial IS NOT NULL AND quantity <= 1)"
            " OR (tracking = 'lot' AND serial IS NULL AND lot IS NOT NULL)"
            " OR (tracking = 'untracked' AND serial IS NULL AND lot IS NULL)",
            name="ck_inventory_tracking_shape",
        ),
        CheckConstraint("NOT (scrapped AND installed_in_id IS NOT NULL)", name="ck_inventory_scrapped_not_installed"),
        # Lists by location subtree and status, ordered by id: the status columns ride along so that the
        # filter and `total` are answered from the index, and per location the ids come out in order.
        Index(
            "ix_inventory_location_id_id_status",
            "location_id", "id", "scrapped", "installed_in_id", "isolated", "quantity",
        ),
        Index("ix_inventory_part_id_location_id", "part_id", "location_id"),
        Index("ix_inventory_part_id_lot", "part_id", "lot"),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str | None] = mapped_column(String(128), unique=True)
    lot: Mapped[str | None] = mapped_column(String(128))
    tracking: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[UUID | None] = mapped_column(ForeignKey("suppliers.id"))
    unit_cost: Mapped[float | None] = mapped_column(Float)
    installed_in_id: Mapped[UUID | None] = mapped_column(ForeignKey("inventory.id"))
    scrapped: Mapped[bool] = mapped_column(Boolean, default=False)
    isolated: Mapped[bool] = mapped_column(Boolean, default=False)
    isolation_reason: Mapped[str | None] = mapped_column(Text)
    package_ref: Mapped[str | None] = mapped_column(String(128))
    po_line: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


# Components of a unit. Partial, so that "installed_in_id IS NULL" (most rows) never looks selective to
# SQLite's planner, which would otherwise walk this index instead of the location index.
Index(
    "ix_inventory_installed_in_id",
    InventoryRow.installed_in_id,
    sqlite_where=InventoryRow.installed_in_id.is_not(None),
    postgresql_where=InventoryRow.installed_in_id.is_not(None),
)

# One lot/untracked row per part, lot and place, where "place" is the location for free, isolated and
# scrapped stock and the parent unit for installed stock. Serial rows are unique by serial instead.
Index(
    "uq_inventory_bucket",
    InventoryRow.part_id,
    func.coalesce(InventoryRow.lot, ""),
    InventoryRow.location_id,
    func.coalesce(InventoryRow.installed_in_id, InventoryRow.location_id),
    InventoryRow.scrapped,
    InventoryRow.isolated,
    unique=True,
    sqlite_where=InventoryRow.serial.is_(None),
    postgresql_where=InventoryRow.serial.is_(None),
)


class OpRecord(UUIDv7AuditBase):
    """Every operation the server accepted, with its outcome: the key to exactly-once."""

    __tablename__ = "ops"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_ops_device_seq"),)

    op_id: Mapped[UUID] = mapped_column(unique=True)
    device_id: Mapped[UUID | None] = mapped_column(ForeignKey("devices.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    client_time: Mapped[str | None] = mapped_column(String(64))
    body_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JsonB)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonB)


class Movement(UUIDv7AuditBase):
    """The append-only activity log: who did what to which stock, where, when and why."""

    __tablename__ = "movements"
    __table_args__ = (
        Index("ix_movements_serial", "serial"),
        Index("ix_movements_parent_serial", "parent_serial"),
        Index("ix_movements_part_id_lot", "part_id", "lot"),
        Index("ix_movements_op_id", "op_id"),
    )

    op_id: Mapped[UUID] = mapped_column()
    op_type: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[UUID | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    inventory_id: Mapped[UUID | None] = mapped_column(ForeignKey("inventory.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(128))
    lot: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    to_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    parent_serial: Mapped[str | None] = mapped_column(String(128))


class LedgerEntry(UUIDv7AuditBase):
    """Signed quantity deltas per part, location and lot. `bucket` leaves room for on_order and demand."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_part_id_location_id", "part_id", "location_id"),)

    op_id: Mapped[UUID] = mapped_column(index=True)
    bucket: Mapped[str] = mapped_column(String(16), default="on_hand")
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    lot: Mapped[str | None] = mapped_column(String(128))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)


class Counter(UUIDv7AuditBase):
    """Named monotonic counters: serial/lot sequences and the change clock used by sync."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(160), unique=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


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
    counted_quantity: Mapped[int] = mapped_column(Integer)
    expected_quantity: Mapped[int] = mapped_column(Integer)  # on hand there (free + isolated), not installed
    actor: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # the change clock: latest line wins
    unit_cost: Mapped[float | None] = mapped_column(Float)  # of the stock there when counted (a unit: its own)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)  # a later line of the item in its count


import server.counts.models  # noqa: E402, F401 - the `counts` table that count_lines.count_id refers to
