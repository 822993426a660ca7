"""What every operation needs inside its transaction: find parts, locations and stock by the natural
keys operators scan, move quantities between buckets, and write the ledger and the movement log.

A "bucket" is the one lot/untracked row for (part, lot, location, parent unit, scrapped, isolated); the
database's unique index `uq_inventory_bucket` guarantees there is never a second one.

The ledger and movement-log lines of an op are collected as rows (`Trail`) and inserted in bulk at the end
of the write transaction that applies it (server/ops/batch.py). What ops look up is remembered for the whole transaction (`Lookups`): parts and
locations (no op changes them, and whoever does takes the change clock first, so they cannot change
while a writer holds it), units by serial, free buckets and the components of assemblies (stock rows
held and written by the transaction itself, server/ops/rows.py; forgotten when a SAVEPOINT rolls back).
Rows an op makes get their ids here (`new_id`), so that ops go on with them before they are written, in
one statement for many ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from sqlalchemy import Table, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from server.actor import Actor
from server.db.bulk import insert_rows
from server.errors import NotFound
from server.models import Action, LedgerEntry, Location, Movement, Part, Supplier
from server.ops.holdings import hand_over
from server.ops.rows import INVENTORY, SELECT_ROWS, Stock, StockRows
from server.rules.quantities import Number, canon, check_room
from server.rules.stock import check_available, check_unlocked, weighted_cost

if TYPE_CHECKING:
    from server.ops.batch import WriteBatch

# A new unit's columns other than those an op gives (id, part, location, serial, version).
UNIT: dict[str, Any] = {
    "quantity": 1, "tracking": "serial", "lot": None, "unit_cost": None, "supplier_id": None, "installed_in_id": None,
    "scrapped": False, "removed": False, "isolated": False, "isolation_reason": None, "package_ref": None,
    "po_line": None, "expiry": None,
}

class BucketKey(NamedTuple):
    """A bucket not installed in a unit: the part, lot, location, and whether isolated and scrapped."""

    part_id: UUID
    lot: str | None
    location_id: UUID
    isolated: bool
    scrapped: bool


@dataclass
class Lookups:
    """What ops of one write transaction found: parts and locations by natural key (and locations by id),
    suppliers by name, units by serial, and buckets not installed in a unit (None: known not to exist).
    `complete`: the (part, location) pairs all of whose buckets are in `buckets` (prefetched, server/ops/batch.py).
    `absent`: serials not in the database when prefetched (a unit made since is in `units`).

    `components`: for rows whose whole tree of components is known here (prefetched, or made in this
    transaction), the rows installed directly in them, so that moving an assembly updates the rows held
    here instead of searching the database for them (`relocate_assembly`).

    `rows`: the stock rows themselves, held and written by the transaction (server/ops/rows.py)."""

    parts: dict[str, Part] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    locations_by_id: dict[UUID, Location] = field(default_factory=dict)
    units: dict[str, Stock] = field(default_factory=dict)
    buckets: dict[BucketKey, Stock | None] = field(default_factory=dict)
    complete: set[tuple[UUID, UUID]] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    components: dict[UUID, list[Stock]] = field(default_factory=dict)
    rows: StockRows = field(default_factory=StockRows)
    suppliers: dict[str, Supplier] = field(default_factory=dict)  # by the name ops gave (made on the fly too)
    # each part's max per constrained location (server/purchasing/limits.py): read once per transaction
    maxima: dict[UUID, dict[UUID, Any]] = field(default_factory=dict)
    # purchase order lines received against, by name, with their On-order rows (server/purchasing/receiving.py)
    po_lines: dict[str, Any] = field(default_factory=dict)
    # each assembly part's BOM lines, {component part id: quantity per assembly} (server/production/bom.py)
    boms: dict[UUID, Any] = field(default_factory=dict)
    # each part's average price and what its open layers hold, as this transaction left them (server/ops/costs.py)
    costs: dict[UUID, Any] = field(default_factory=dict)

    def forget_stock(self) -> None:
        """After a rollback to a SAVEPOINT: the stock rows held may hold what it undid, or be gone."""
        self.rows.forget()
        self.units.clear()
        self.buckets.clear()
        self.complete.clear()
        self.absent.clear()  # a unit made before the SAVEPOINT is no longer in `units` to say it exists
        self.components.clear()
        self.suppliers.clear()  # one made on the fly inside it is gone
        self.po_lines.clear()  # their rows are among the stock rows, and what it undid of them is undone
        self.costs.clear()  # the layers it added or used are undone

    def serial_taken(self, serial: str) -> bool | None:
        """Whether a unit has this serial: True or False when known here, None when the database must say."""
        if serial in self.units:
            return True
        return False if serial in self.absent else None

    def row_made(self, row: Stock) -> None:
        """A row made in this transaction: it has no components yet (and, if a unit, exists now)."""
        self.components[row.id] = []
        if row.serial is not None:
            self.units[row.serial] = row

    def installed(self, parent_id: UUID, row: Stock) -> None:
        if (known := self.components.get(parent_id)) is not None and row not in known:
            known.append(row)

    def uninstalled(self, parent_id: UUID, row: Stock) -> None:
        if (known := self.components.get(parent_id)) is not None and row in known:
            known.remove(row)

    def installed_bucket(self, parent_id: UUID, key: BucketKey) -> Stock | None | bool:
        """The bucket of `key` installed in the unit: the row, None if there is none, False if not known."""
        known = self.components.get(parent_id)
        if known is None:
            return False
        for row in known:
            if (row.serial is None and row.part_id == key.part_id and row.lot == key.lot
                    and row.isolated == key.isolated and row.scrapped == key.scrapped):
                return row
        return None


@dataclass
class Trail:
    """The ledger and movement-log rows of ops, waiting to be inserted in bulk; and rows of packages above
    the operations that refer to stock rows (`records`: purchasing's receipts), inserted after them."""

    ledger: list[dict[str, object]] = field(default_factory=list)
    movements: list[dict[str, object]] = field(default_factory=list)
    records: list[tuple[Table, dict[str, object]]] = field(default_factory=list)

    def extend(self, other: Trail) -> None:
        self.ledger += other.ledger
        self.movements += other.movements
        self.records += other.records

    def truncate(self, marks: tuple[int, int, int]) -> None:
        del self.ledger[marks[0] :], self.movements[marks[1] :], self.records[marks[2] :]

    def marks(self) -> tuple[int, int, int]:
        return len(self.ledger), len(self.movements), len(self.records)

    async def write(self, session: AsyncSession) -> None:
        """One INSERT (executemany) per table (server/db/bulk.py)."""
        await insert_rows(session, LedgerEntry.__table__, self.ledger)
        await insert_rows(session, Movement.__table__, self.movements)
        tables: dict[Table, list[dict[str, object]]] = {}
        for table, row in self.records:
            tables.setdefault(table, []).append(row)
        for table, rows in tables.items():
            await insert_rows(session, table, rows)
        self.ledger, self.movements, self.records = [], [], []


@dataclass
class OpContext:
    """One operation being applied in a write batch (server/ops/batch.py): the batch's session and lookups,
    the op's own trail rows (handed to the batch when the op is done)."""

    batch: WriteBatch
    op_id: UUID
    op_type: str
    actor: Actor
    version: int
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    unlocked: set[UUID] = field(default_factory=set)  # closed locations this op may touch (its count's own)
    approved: bool = False  # a supervisor approves this held op: a receipt its PO line did not expect is accepted
    trail: Trail = field(default_factory=Trail)

    @property
    def session(self) -> AsyncSession:
        return self.batch.session

    @property
    def lookups(self) -> Lookups:
        return self.batch.lookups

    # ---- lookups by natural key -------------------------------------------------------------
    async def part(self, part_number: str) -> Part:
        part = self.lookups.parts.get(part_number)
        if part is None:
            part = (await self.session.execute(select(Part).where(Part.part_number == part_number))).scalar_one_or_none()
            if part is None:
                raise NotFound(f"No part {part_number}", field="part")
            self.lookups.parts[part_number] = part
        return part

    async def location(self, code: str, *, field_name: str = "location", writable: bool = True) -> Location:
        location = self.lookups.locations.get(code)
        if location is None:
            location = (await self.session.execute(select(Location).where(Location.code == code))).scalar_one_or_none()
            if location is None:
                raise NotFound(f"No location {code}", field=field_name)
            self.lookups.locations[code] = self.lookups.locations_by_id[location.id] = location
        if writable and location.id not in self.unlocked:
            check_unlocked(location, field_name)
        return location

    async def location_by_id(self, location_id: UUID) -> Location:
        location = self.lookups.locations_by_id.get(location_id)
        if location is None:
            location = await self.session.get_one(Location, location_id)
            self.lookups.locations[location.code] = self.lookups.locations_by_id[location_id] = location
        return location

    async def unit(self, serial: str, *, field_name: str = "serial") -> Stock:
        row = await self.find_unit(serial)
        if row is None:
            raise NotFound(f"No unit with serial {serial}", field=field_name)
        return row

    async def find_unit(self, serial: str) -> Stock | None:
        """The unit with this serial (written off or scrapped too), or None."""
        taken = self.lookups.serial_taken(serial)
        if taken is not None:
            return self.lookups.units.get(serial)
        found = await self.load(SELECT_ROWS.where(INVENTORY.c.serial == serial))
        if found:
            self.lookups.units[serial] = found[0]
        return found[0] if found else None

    def new_unit(self, part: Part, location: Location, serial: str, **values: Any) -> Stock:
        """A serialized unit made by this op (written with the transaction's stock rows)."""
        row = self.lookups.rows.make(**{**UNIT, "id": new_id(), "part_id": part.id, "location_id": location.id,
                                        "serial": serial, "version": self.version, **values})
        self.lookups.row_made(row)
        return row

    async def load(self, statement: Any, *, write: bool = True) -> list[Stock]:
        """Stock rows by a `SELECT_ROWS.where(...)` (server/ops/rows.py: what the ops wrote so far included;
        `write=False`: none of the rows it finds was changed in this transaction)."""
        return await self.lookups.rows.load(self.session, statement, write=write)

    async def row(self, row_id: UUID) -> Stock:
        return await self.lookups.rows.get(self.session, row_id)

    async def written(self) -> None:
        """Write the stock rows ops changed so far, before a query that reads `inventory` in SQL."""
        await self.lookups.rows.write(self.session)

    async def supplier(self, name: str) -> Supplier:
        """Suppliers are picked by autocomplete or created on the fly, as on a receiving screen."""
        found = self.lookups.suppliers.get(name)
        if found is None:
            found = (
                await self.session.execute(select(Supplier).where(Supplier.named(name)))
            ).scalar_one_or_none()
            if found is None:
                found = Supplier(name=name)
                self.session.add(found)
                await self.session.flush()
            self.lookups.suppliers[name] = found
        return found

    # ---- buckets ------------------------------------------------------------------------------
    async def bucket(
        self,
        part: Part,
        lot: str | None,
        location: Location,
        *,
        installed_in: Stock | None = None,
        isolated: bool = False,
        scrapped: bool = False,
    ) -> Stock | None:
        key = BucketKey(part.id, lot, location.id, isolated, scrapped)
        if installed_in is None:
            if key in self.lookups.buckets:
                return self.lookups.buckets[key]
            if (part.id, location.id) in self.lookups.complete:
                return None
        elif (found := self.lookups.installed_bucket(installed_in.id, key)) is not False:
            return found
        place = installed_in.id if installed_in is not None else location.id
        stmt = SELECT_ROWS.where(
            # The expressions of `uq_inventory_bucket`, spelled as in the index so that SQLite (which keeps
            # no statistics) uses it instead of walking every serial-less row through the serial index.
            func.coalesce(INVENTORY.c.lot, literal_column("''")) == (lot or ""),
            func.coalesce(INVENTORY.c.installed_in_id, INVENTORY.c.location_id) == place,
            INVENTORY.c.part_id == part.id,
            INVENTORY.c.serial.is_(None),
            INVENTORY.c.po_line_id.is_(None),  # the index's too: rows of a purchase order line are no bucket
            INVENTORY.c.lot.is_(None) if lot is None else INVENTORY.c.lot == lot,
            INVENTORY.c.location_id == location.id,
            INVENTORY.c.installed_in_id.is_(None)
            if installed_in is None
            else INVENTORY.c.installed_in_id == installed_in.id,
            INVENTORY.c.isolated == isolated,
            INVENTORY.c.scrapped == scrapped,
        )
        found = await self.load(stmt)
        row = found[0] if found else None
        if installed_in is None:
            self.lookups.buckets[key] = row
        return row

    async def take(
        self, part: Part, lot: str | None, location: Location, quantity: Number, **where: object
    ) -> Stock:
        """Remove `quantity` from a bucket, or refuse with how much is there."""
        row = await self.bucket(part, lot, location, **where)  # type: ignore[arg-type]
        have = row.quantity if row else None
        check_available(have, quantity, part.part_number + (f" lot {lot}" if lot else ""), location.code, part.unit)
        assert row is not None  # check_available refuses a bucket that does not exist
        row.quantity = canon(row.quantity - quantity)
        row.version = self.version
        return row

    async def put(
        self,
        part: Part,
        lot: str | None,
        location: Location,
        quantity: Number,
        *,
        tracking: str,
        unit_cost: Decimal | None = None,
        like: Stock | None = None,
        installed_in: Stock | None = None,
        isolated: bool = False,
        scrapped: bool = False,
        isolation_reason: str | None = None,
        field_name: str = "quantity",
        carry: bool = True,
    ) -> Stock:
        """Add `quantity` to a bucket, creating it if needed; unit cost becomes the weighted average. A bucket
        holds at most MAX_QUANTITY (`field_name`: the argument refused if it would hold more). Stock taken from
        the row `like` carries its oldest cost layers here (server/ops/holdings.py) unless `carry` is False
        (the caller has consumed them)."""
        if like is not None:
            unit_cost = like.unit_cost if unit_cost is None else unit_cost
        row = await self.bucket(
            part, lot, location, installed_in=installed_in, isolated=isolated, scrapped=scrapped
        )
        check_room(row.quantity if row else 0, quantity, lambda: bucket_name(part, lot, location), field_name)
        if row is None:
            row = self.lookups.rows.make(
                id=new_id(),
                part_id=part.id,
                location_id=location.id,
                quantity=quantity,
                serial=None,
                lot=lot,
                tracking=tracking,
                unit_cost=unit_cost,
                supplier_id=like.supplier_id if like else None,
                installed_in_id=installed_in.id if installed_in else None,
                isolated=isolated,
                scrapped=scrapped,
                removed=False,
                isolation_reason=isolation_reason,
                package_ref=like.package_ref if like else None,
                po_line=None,
                expiry=like.expiry if like else None,  # a lot keeps its expiry wherever it goes
                version=self.version,
            )
            self.lookups.row_made(row)
            if installed_in is None:
                self.lookups.buckets[BucketKey(part.id, lot, location.id, isolated, scrapped)] = row
            else:
                self.lookups.installed(installed_in.id, row)
        else:
            self._grow(row, quantity, unit_cost, like, isolation_reason)
        if like is not None and carry:
            await hand_over(await self.session.connection(), like.id, row.id, quantity)
        return row

    def _grow(self, row: Stock, quantity: Number, unit_cost: Decimal | None, like: Stock | None,
              isolation_reason: str | None) -> None:
        row.unit_cost = weighted_cost(row.quantity, row.unit_cost, quantity, unit_cost)
        if like is not None and like.expiry is not None and (row.expiry is None or like.expiry < row.expiry):
            row.expiry = like.expiry  # the earliest expiry of what the bucket holds
        row.quantity = canon(row.quantity + quantity)
        row.version = self.version
        if isolation_reason:
            row.isolation_reason = isolation_reason

    # ---- trail --------------------------------------------------------------------------------
    def ledger(self, part: Part, location_id: UUID, lot: str | None, delta: Number, reason: str | None = None) -> None:
        if delta:
            self.trail.ledger.append(
                {"op_id": self.op_id, "part_id": part.id, "location_id": location_id, "lot": lot, "delta": delta,
                 "reason": reason}
            )

    def log(
        self,
        action: Action,
        part: Part,
        row: Stock | None,
        quantity: Number,
        *,
        lot: str | None = None,
        from_location: Location | None = None,
        to_location: Location | None = None,
        parent_serial: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.trail.movements.append(
            {
                "op_id": self.op_id,
                "op_type": self.op_type,
                "action": action.value,
                "actor": self.actor.username,
                "device_id": self.actor.device_id,
                "reason": reason,
                "part_id": part.id,
                "inventory_id": row.id if row else None,
                "serial": row.serial if row else None,
                "lot": lot if lot is not None else (row.lot if row else None),
                "quantity": quantity,
                "from_location_id": from_location.id if from_location else None,
                "to_location_id": to_location.id if to_location else None,
                "parent_serial": parent_serial,
            }
        )


def new_id() -> UUID:
    """A row's id, made here rather than at INSERT: the ops of a write transaction refer to rows they made
    (results, trail, components) before the session writes them, in one flush for many ops."""
    return uuid7()


def bucket_name(part: Part, lot: str | None, location: Location) -> str:
    return f"{location.code}'s bucket of {part.part_number}" + (f" lot {lot}" if lot else "") + f" ({part.unit})"
