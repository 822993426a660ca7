"""Tables. Rules that must hold whatever the code does are database constraints here.

Inventory rows are never deleted: a lot or untracked row that is emptied keeps quantity 0 (status
Unavailable) so that history, sync versions and row ids stay stable.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    func,
    literal_column,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_QUANTUM = Decimal("0.000001")  # 6 decimal places, server/rules/money.py's PLACES
CENTS = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18, 6) on PostgreSQL; on SQLite, whose NUMERIC keeps 15 significant digits as a
    float, the decimal's text (sums of money are made in Python, in Decimal)."""

    impl = Numeric(18, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(MONEY_QUANTUM)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The amount with 2 to 6 decimal places, as the wire shows it ("12.50", "0.0125"), on both engines."""
        if value is None:
            return None
        amount = Decimal(value).quantize(MONEY_QUANTUM).normalize()
        return amount.quantize(CENTS) if amount.as_tuple().exponent > -2 else amount  # type: ignore[operator]


PLACES = 6  # the finest a quantity may be: millionths (server/rules/quantities.py)
SCALE = 10**PLACES
QUANTUM = Decimal(1).scaleb(-PLACES)
Number = int | Decimal


def canon(value: Number) -> Number:
    """A quantity in its one form: an int when whole, else a Decimal without trailing zeros or exponent."""
    if type(value) is int:
        return value
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def from_scaled(value: int) -> Number:
    """A quantity from its millionths (SQLite's stored form)."""
    whole, rest = divmod(value, SCALE)
    return whole if rest == 0 else Decimal(value).scaleb(-PLACES).normalize()


def to_scaled(value: Number) -> int:
    """A quantity's millionths; refuses a finer one (the rules refuse it first, naming the field)."""
    if type(value) is int:
        return value * SCALE
    scaled = Decimal(value).scaleb(PLACES)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is finer than {QUANTUM}")
    return int(scaled)


class QuantityType(TypeDecorator[Number]):
    """Exact quantities: NUMERIC(18, 6) on PostgreSQL; on SQLite, whose NUMERIC is a float, the millionths in
    an INTEGER, so that SUM, comparisons and CHECKs stay exact in SQL there too. Read back as `canon` gives
    them: an int when whole, a Decimal otherwise. Literals in SQL (a CHECK's bound, `quantity > 0`) go through
    the same conversion, so `quantity <= 1` is `quantity <= 1000000` on SQLite. A quantity multiplied in SQL
    by anything but a quantity must go through `quantity_number` (server/queries.py's valuations do)."""

    impl = Numeric(18, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(18, 6, asdecimal=True))

    def process_bind_param(self, value: Number | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_scaled(value)
        return value if type(value) is int else Decimal(value)

    def process_literal_param(self, value: Number | None, dialect: Dialect) -> str:
        return "NULL" if value is None else str(self.process_bind_param(value, dialect))

    def process_result_value(self, value: Any, dialect: Dialect) -> Number | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_scaled(value) if type(value) is int else canon(Decimal(str(value)) / SCALE)
        return canon(value) if isinstance(value, Decimal) else value


def quantity_number(column: Any, dialect_name: str) -> Any:
    """A quantity column as a plain number in SQL, to multiply by a price: SQLite holds millionths."""
    if dialect_name == "sqlite":
        return type_coerce(column, Integer()) / literal_column(f"{SCALE}.0")
    return column


def per_engine_check(sql: str, name: str) -> tuple[CheckConstraint, CheckConstraint]:
    """A CHECK whose quantities (`{one}`: one unit) are written as each engine stores them."""
    return (
        CheckConstraint(sql.format(one=SCALE), name=name).ddl_if(dialect="sqlite"),
        CheckConstraint(sql.format(one=1), name=name).ddl_if(dialect="postgresql"),
    )


class Role(StrEnum):
    operator = "operator"
    supervisor = "supervisor"
    admin = "admin"


class TokenKind(StrEnum):
    """What a token opens: the API (a bearer token) or the supervisor pages (a session cookie), never both."""

    api = "api"
    page = "page"


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
    kit = "Kit"  # picked into a kit (moved into its tote: Kitted)
    unkit = "Unkit"  # released from a kit when it completes or is cancelled (nothing moves)


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
    """A phone or other client. Its id is chosen by the client; a token binds it to one user. `secret_hash`
    is the SHA-256 of the secret the phone made at its first sign-in (NULL: registered without one)."""

    __tablename__ = "devices"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    secret_hash: Mapped[str | None] = mapped_column(String(64))


class ApiToken(UUIDv7AuditBase):
    """Opaque bearer tokens, stored hashed so a database leak does not leak sessions."""

    __tablename__ = "api_tokens"
    __table_args__ = (_enum_check("kind", TokenKind),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default=TokenKind.api.value)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[UUID | None] = mapped_column(ForeignKey("devices.id"), index=True)  # a device's users
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Part(UUIDv7AuditBase):
    __tablename__ = "parts"
    __table_args__ = (_enum_check("tracking", Tracking),)

    part_number: Mapped[str] = mapped_column(String(64), unique=True)
    revision: Mapped[str] = mapped_column(String(32), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(16), default="ea")
    # decimal places of its quantities when not its unit's (server/rules/quantities.py UNIT_PLACES)
    quantity_places: Mapped[int | None] = mapped_column(Integer)
    # the packs it is bought in: [{"name": "box", "quantity": "100"}] (a receipt of 3 boxes is 300 of the unit)
    packs: Mapped[list[Any] | None] = mapped_column(JsonB)
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
    # the open kit whose tote this location is (server/kits/): what is here is Kitted until the kit completes or is
    # cancelled, which clears it. No foreign key: SQLite adds one only by copying the table.
    kit_id: Mapped[UUID | None] = mapped_column()
    # the work-in-progress place of a production run while it is open or failed (server/production): what is
    # in it is WIP (server/rules/status.py)
    wip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Supplier(UUIDv7AuditBase):
    __tablename__ = "suppliers"

    name: Mapped[str] = mapped_column(String(128), unique=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)

    @classmethod
    def named(cls, name: str) -> ColumnElement[bool]:
        """The supplier of this name, in any case: both sides folded by the database (SQLite's lower()
        folds ASCII only; Python's str.lower() all of Unicode, so they disagree on `Ä`)."""
        return func.lower(cls.name) == func.lower(name)


class InventoryRow(UUIDv7AuditBase):
    """Stock of one part in one place: a serialized unit, a lot quantity or an untracked quantity.

    `location_id` is always set; an installed row carries its top assembly's location (kept in step
    when the assembly moves) and counts as installed, not on hand.
    """

    __tablename__ = "inventory"
    __table_args__ = (
        _enum_check("tracking", Tracking),
        CheckConstraint("quantity >= 0", name="ck_inventory_quantity_non_negative"),
        *per_engine_check(
            "(tracking = 'serial' AND serial IS NOT NULL AND quantity <= {one})"
            " OR (tracking = 'lot' AND serial IS NULL AND lot IS NOT NULL)"
            " OR (tracking = 'untracked' AND serial IS NULL AND lot IS NULL)",
            name="ck_inventory_tracking_shape",
        ),
        CheckConstraint("NOT (scrapped AND installed_in_id IS NOT NULL)", name="ck_inventory_scrapped_not_installed"),
        # a row made by a purchase order line (server/purchasing/models.py): on order, its line done, or cancelled
        CheckConstraint(
            "po_state IS NULL OR (po_line_id IS NOT NULL AND po_state IN ('open', 'received', 'cancelled'))",
            name="po_state",
        ),
        # Lists by location subtree and status, ordered by id: the status columns ride along so that the
        # filter and `total` are answered from the index, and per location the ids come out in order.
        Index(
            "ix_inventory_location_id_id_status",
            "location_id", "id", "scrapped", "installed_in_id", "isolated", "quantity", "po_state", "removed",
        ),
        Index("ix_inventory_part_id_location_id", "part_id", "location_id"),
        Index("ix_inventory_part_id_lot", "part_id", "lot"),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    serial: Mapped[str | None] = mapped_column(String(128), unique=True)
    lot: Mapped[str | None] = mapped_column(String(128))
    tracking: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[UUID | None] = mapped_column(ForeignKey("suppliers.id"))
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    installed_in_id: Mapped[UUID | None] = mapped_column(ForeignKey("inventory.id"))
    scrapped: Mapped[bool] = mapped_column(Boolean, default=False)
    # a unit that left inventory by the `remove` op (used): kept, with quantity 0, findable by its serial
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    isolated: Mapped[bool] = mapped_column(Boolean, default=False)
    isolation_reason: Mapped[str | None] = mapped_column(Text)
    package_ref: Mapped[str | None] = mapped_column(String(128))
    po_line: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    # The purchase order line the row was made for, and whether it is still on order (server/purchasing/): a
    # row with a `po_state` is not stock. No foreign key: SQLite adds one only by copying the table, which the
    # keys referring to `inventory` forbid on a database that has rows; lines are never deleted.
    po_line_id: Mapped[UUID | None] = mapped_column()
    po_state: Mapped[str | None] = mapped_column(String(16))
    # the lot's expiry date (a receipt's `expiry`, GS1 AI 17): expired stock is Unavailable from that day on
    expiry: Mapped[date | None] = mapped_column(Date)


# Components of a unit. Partial, so that "installed_in_id IS NULL" (most rows) never looks selective to
# SQLite's planner, which would otherwise walk this index instead of the location index.
Index(
    "ix_inventory_installed_in_id",
    InventoryRow.installed_in_id,
    sqlite_where=InventoryRow.installed_in_id.is_not(None),
    postgresql_where=InventoryRow.installed_in_id.is_not(None),
)

# One lot/untracked row per part, lot and place, where "place" is the location for free, isolated and
# scrapped stock and the parent unit for installed stock. Serial rows are unique by serial instead, and the
# rows of a purchase order line by their line.
BUCKET_ROWS = and_(InventoryRow.serial.is_(None), InventoryRow.po_line_id.is_(None))
Index(
    "uq_inventory_bucket",
    InventoryRow.part_id,
    func.coalesce(InventoryRow.lot, ""),
    InventoryRow.location_id,
    func.coalesce(InventoryRow.installed_in_id, InventoryRow.location_id),
    InventoryRow.scrapped,
    InventoryRow.isolated,
    unique=True,
    sqlite_where=BUCKET_ROWS,
    postgresql_where=BUCKET_ROWS,
)

# The rows of a purchase order line; its one row of a quantity (not a unit); the rows on order or cancelled.
# Partial: `po_line_id IS NULL` (stock) must never look selective to SQLite's planner.
ORDERED_ROWS = InventoryRow.po_line_id.is_not(None)
Index("ix_inventory_po_line_id", InventoryRow.po_line_id, sqlite_where=ORDERED_ROWS, postgresql_where=ORDERED_ROWS)
ORDERED_QUANTITY = and_(InventoryRow.serial.is_(None), InventoryRow.po_line_id.is_not(None))
Index(
    "uq_inventory_po_line_id", InventoryRow.po_line_id, unique=True,
    sqlite_where=ORDERED_QUANTITY, postgresql_where=ORDERED_QUANTITY,
)
NOT_STOCK = InventoryRow.po_state.is_not(None)
Index(
    "ix_inventory_po_state_id", InventoryRow.po_state, InventoryRow.id, sqlite_where=NOT_STOCK, postgresql_where=NOT_STOCK,
)


def is_stock(row: Any = InventoryRow) -> ColumnElement[bool]:
    """Rows that are stock: not made by a purchase order line and still on order (or cancelled, or the
    empty remainder of a received line). `row`: the table's columns or an alias of it."""
    return row.po_state.is_(None)


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
    quantity: Mapped[Number] = mapped_column(QuantityType)
    from_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    to_location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    parent_serial: Mapped[str | None] = mapped_column(String(128))


class MasterChange(UUIDv7AuditBase):
    """The append-only log of master-data changes: a part or a location created or edited (a tracking
    switch, a location made unavailable...), by whom, when, and each field from → to. The activity log
    (GET /api/activity) shows it next to the movements."""

    __tablename__ = "master_changes"
    __table_args__ = (
        CheckConstraint("(part_id IS NULL) <> (location_id IS NULL)", name="ck_master_changes_one_subject"),
    )

    op_type: Mapped[str] = mapped_column(String(32))  # part_create, part_update, location_create, location_update
    action: Mapped[str] = mapped_column(String(16))  # Create, Edit
    actor: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[UUID | None] = mapped_column()
    part_id: Mapped[UUID | None] = mapped_column(ForeignKey("parts.id"), index=True)
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("locations.id"), index=True)
    changes: Mapped[list[Any]] = mapped_column(JsonB)  # [{"field", "from", "to"}]
    reason: Mapped[str] = mapped_column(Text)  # the changes in words


class LedgerEntry(UUIDv7AuditBase):
    """Signed quantity deltas per part, location and lot. `bucket` leaves room for on_order and demand."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_part_id_location_id", "part_id", "location_id"),)

    op_id: Mapped[UUID] = mapped_column(index=True)
    bucket: Mapped[str] = mapped_column(String(16), default="on_hand")
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    lot: Mapped[str | None] = mapped_column(String(128))
    delta: Mapped[Number] = mapped_column(QuantityType)
    reason: Mapped[str | None] = mapped_column(Text)


class CostLayer(UUIDv7AuditBase):
    """What a receipt (or a found unit) added to a part's stock, at what unit cost, and how much of it is
    left: FIFO takes the oldest first (docs/costs.md). Where what is left of it is, is in `cost_holdings`. `version` is the
    version of the op that made it (its place in FIFO order; a late push chunk shifts it to the real one,
    server/ops/batch.py `stamped`); `average_price` the part's moving average price after it came."""

    __tablename__ = "cost_layers"
    __table_args__ = (
        Index("ix_cost_layers_part_id_version", "part_id", "version"),
        # what a part's open layers hold, summed from the index alone (a priced receipt reads it for the average)
        Index("ix_cost_layers_part_id_open", "part_id", "quantity_remaining",
              sqlite_where=text("quantity_remaining > 0"), postgresql_where=text("quantity_remaining > 0")),
        CheckConstraint("quantity_remaining >= 0", name="ck_cost_layers_remaining_non_negative"),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    op_id: Mapped[UUID] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # receipt, found (a positive adjustment), opening, produced, built_in, made
    package_ref: Mapped[str | None] = mapped_column(String(128))
    po_line: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    quantity_received: Mapped[Number] = mapped_column(QuantityType)
    quantity_remaining: Mapped[Number] = mapped_column(QuantityType)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    average_price: Mapped[Decimal] = mapped_column(Money)


class CostHolding(UUIDv7AuditBase):
    """How much of a cost layer a stock row holds (docs/costs.md, "Where a delivery is"): a receipt's layer is
    held by the row it made or grew; moving, splitting, merging, isolating or installing stock hands the
    quantity's oldest layers to the row it goes to; stock that leaves a row takes that row's oldest. A layer's
    holdings sum to what is left of it; a held row's holdings to its quantity. A row's holding is written in
    the op's transaction before the row itself may be (stock rows are written in bulk at the end of a write
    batch, server/ops/rows.py), so its foreign key to `inventory` is checked at commit."""

    __tablename__ = "cost_holdings"
    __table_args__ = (
        UniqueConstraint("layer_id", "inventory_id", name="uq_cost_holdings_layer_id_inventory_id"),
        CheckConstraint("quantity > 0", name="ck_cost_holdings_quantity_positive"),
    )

    layer_id: Mapped[UUID] = mapped_column(ForeignKey("cost_layers.id"))
    inventory_id: Mapped[UUID] = mapped_column(
        ForeignKey("inventory.id", deferrable=True, initially="DEFERRED"), index=True
    )
    quantity: Mapped[Number] = mapped_column(QuantityType)


class UsageRecord(UUIDv7AuditBase):
    """Stock that left inventory (`remove`, `scrap`, a negative `adjust`) and its FIFO cost: the layers it took."""

    __tablename__ = "usage"
    __table_args__ = (Index("ix_usage_part_id_used_at", "part_id", "used_at"),)

    op_id: Mapped[UUID] = mapped_column(index=True)
    op_type: Mapped[str] = mapped_column(String(32))
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("locations.id"))
    serial: Mapped[str | None] = mapped_column(String(128))
    lot: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[Number] = mapped_column(QuantityType)
    cost: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class Counter(UUIDv7AuditBase):
    """Named monotonic counters: serial/lot sequences and the change clock used by sync."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(160), unique=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
