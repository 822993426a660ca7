"""What every operation needs inside its transaction: find parts, locations and stock by the natural
keys operators scan, move quantities between buckets, and write the ledger and the movement log.

A "bucket" is the one lot/untracked row for (part, lot, location, parent unit, scrapped, isolated); the
database's unique index `uq_inventory_bucket` guarantees there is never a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InsufficientQuantity, LocationLocked, NotFound
from server.models import Action, Counter, InventoryRow, LedgerEntry, Location, Movement, Part, Role, Supplier

CLOCK = "clock"


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    device_id: UUID | None = None

    def at_least(self, role: Role) -> bool:
        order = [Role.operator, Role.supervisor, Role.admin]
        return order.index(self.role) >= order.index(role)


async def bump_counter(session: AsyncSession, key: str) -> int:
    """Next value of a named counter. The row lock held until commit serialises concurrent writers."""
    stmt = update(Counter).where(Counter.key == key).values(value=Counter.value + 1).returning(Counter.value)
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is not None:
        return value
    dialect_insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(dialect_insert(Counter).values(key=key, value=0).on_conflict_do_nothing())
    return (await session.execute(stmt)).scalar_one()


async def next_version(session: AsyncSession) -> int:
    """The change clock: one value per write transaction, taken first and held until commit, so that
    version order is commit order (the sync pull cursor relies on it)."""
    return await bump_counter(session, CLOCK)


@dataclass
class OpContext:
    """One operation being applied in one transaction."""

    session: AsyncSession
    op_id: UUID
    op_type: str
    actor: Actor
    version: int
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    unlocked: set[UUID] = field(default_factory=set)  # closed locations this op may touch (its count's own)
    _locations: dict[UUID, Location] = field(default_factory=dict)

    # ---- lookups by natural key -------------------------------------------------------------
    async def part(self, part_number: str) -> Part:
        part = (await self.session.execute(select(Part).where(Part.part_number == part_number))).scalar_one_or_none()
        if part is None:
            raise NotFound(f"No part {part_number}", field="part")
        return part

    async def location(self, code: str, *, field_name: str = "location", writable: bool = True) -> Location:
        location = (await self.session.execute(select(Location).where(Location.code == code))).scalar_one_or_none()
        if location is None:
            raise NotFound(f"No location {code}", field=field_name)
        self._locations[location.id] = location
        if writable and location.id not in self.unlocked:
            check_unlocked(location, field_name)
        return location

    async def location_by_id(self, location_id: UUID) -> Location:
        if location_id not in self._locations:
            self._locations[location_id] = await self.session.get_one(Location, location_id)
        return self._locations[location_id]

    async def unit(self, serial: str, *, field_name: str = "serial") -> InventoryRow:
        row = (
            await self.session.execute(select(InventoryRow).where(InventoryRow.serial == serial))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No unit with serial {serial}", field=field_name)
        return row

    async def supplier(self, name: str) -> Supplier:
        """Suppliers are picked by autocomplete or created on the fly, as on a receiving screen."""
        found = (
            await self.session.execute(select(Supplier).where(func.lower(Supplier.name) == name.lower()))
        ).scalar_one_or_none()
        if found is None:
            found = Supplier(name=name)
            self.session.add(found)
            await self.session.flush()
        return found

    # ---- buckets ------------------------------------------------------------------------------
    async def bucket(
        self,
        part: Part,
        lot: str | None,
        location: Location,
        *,
        installed_in: InventoryRow | None = None,
        isolated: bool = False,
        scrapped: bool = False,
    ) -> InventoryRow | None:
        place = installed_in.id if installed_in is not None else location.id
        stmt = select(InventoryRow).where(
            # The expressions of `uq_inventory_bucket`, spelled as in the index so that SQLite (which keeps
            # no statistics) uses it instead of walking every serial-less row through the serial index.
            func.coalesce(InventoryRow.lot, literal_column("''")) == (lot or ""),
            func.coalesce(InventoryRow.installed_in_id, InventoryRow.location_id) == place,
            InventoryRow.part_id == part.id,
            InventoryRow.serial.is_(None),
            InventoryRow.lot.is_(None) if lot is None else InventoryRow.lot == lot,
            InventoryRow.location_id == location.id,
            InventoryRow.installed_in_id.is_(None)
            if installed_in is None
            else InventoryRow.installed_in_id == installed_in.id,
            InventoryRow.isolated == isolated,
            InventoryRow.scrapped == scrapped,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def take(
        self, part: Part, lot: str | None, location: Location, quantity: int, **where: object
    ) -> InventoryRow:
        """Remove `quantity` from a bucket, or refuse with how much is there."""
        row = await self.bucket(part, lot, location, **where)  # type: ignore[arg-type]
        have = row.quantity if row else 0
        if row is None or have < quantity:
            what = f"{part.part_number}" + (f" lot {lot}" if lot else "")
            raise InsufficientQuantity(
                f"{location.code} holds {have} {part.unit} of {what}, the operation takes {quantity}",
                field="quantity",
                available=have,
            )
        row.quantity -= quantity
        row.version = self.version
        return row

    async def put(
        self,
        part: Part,
        lot: str | None,
        location: Location,
        quantity: int,
        *,
        tracking: str,
        unit_cost: float | None = None,
        like: InventoryRow | None = None,
        installed_in: InventoryRow | None = None,
        isolated: bool = False,
        scrapped: bool = False,
        isolation_reason: str | None = None,
    ) -> InventoryRow:
        """Add `quantity` to a bucket, creating it if needed; unit cost becomes the weighted average."""
        if like is not None:
            unit_cost = like.unit_cost if unit_cost is None else unit_cost
        row = await self.bucket(
            part, lot, location, installed_in=installed_in, isolated=isolated, scrapped=scrapped
        )
        if row is None:
            row = InventoryRow(
                part_id=part.id,
                location_id=location.id,
                quantity=quantity,
                lot=lot,
                tracking=tracking,
                unit_cost=unit_cost,
                supplier_id=like.supplier_id if like else None,
                installed_in_id=installed_in.id if installed_in else None,
                isolated=isolated,
                scrapped=scrapped,
                isolation_reason=isolation_reason,
                version=self.version,
            )
            self.session.add(row)
            await self.session.flush()
            return row
        row.unit_cost = weighted_cost(row.quantity, row.unit_cost, quantity, unit_cost)
        row.quantity += quantity
        row.version = self.version
        if isolation_reason:
            row.isolation_reason = isolation_reason
        return row

    # ---- trail --------------------------------------------------------------------------------
    def ledger(self, part: Part, location_id: UUID, lot: str | None, delta: int, reason: str | None = None) -> None:
        if delta:
            self.session.add(
                LedgerEntry(
                    op_id=self.op_id, part_id=part.id, location_id=location_id, lot=lot, delta=delta, reason=reason
                )
            )

    def log(
        self,
        action: Action,
        part: Part,
        row: InventoryRow | None,
        quantity: int,
        *,
        lot: str | None = None,
        from_location: Location | None = None,
        to_location: Location | None = None,
        parent_serial: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.session.add(
            Movement(
                op_id=self.op_id,
                op_type=self.op_type,
                action=action.value,
                actor=self.actor.username,
                device_id=self.actor.device_id,
                reason=reason,
                part_id=part.id,
                inventory_id=row.id if row else None,
                serial=row.serial if row else None,
                lot=lot if lot is not None else (row.lot if row else None),
                quantity=quantity,
                from_location_id=from_location.id if from_location else None,
                to_location_id=to_location.id if to_location else None,
                parent_serial=parent_serial,
            )
        )


def check_unlocked(location: Location, field_name: str = "location") -> None:
    if location.count_locked:
        raise LocationLocked(f"{location.code} is closed for a cycle count", field=field_name)


def weighted_cost(q1: int, c1: float | None, q2: int, c2: float | None) -> float | None:
    if c1 is None or q1 <= 0:
        return c2 if c2 is not None else c1
    if c2 is None or q2 <= 0:
        return c1
    return round((q1 * c1 + q2 * c2) / (q1 + q2), 6)


async def relocate_assembly(ctx: OpContext, unit: InventoryRow, location: Location) -> None:
    """Move a unit and everything installed in it (at any depth) to `location`."""
    unit.location_id = location.id
    unit.version = ctx.version
    tree = select(InventoryRow.id).where(InventoryRow.installed_in_id == unit.id).cte("tree", recursive=True)
    tree = tree.union_all(select(InventoryRow.id).where(InventoryRow.installed_in_id == tree.c.id))
    await ctx.session.execute(
        update(InventoryRow)
        .where(InventoryRow.id.in_(select(tree.c.id)))
        .values(location_id=location.id, version=ctx.version)
        .execution_options(synchronize_session=False)
    )


async def ancestors(ctx: OpContext, unit: InventoryRow) -> list[UUID]:
    """Ids of the unit and every assembly it sits in, innermost first."""
    chain = [unit.id]
    parent_id = unit.installed_in_id
    while parent_id is not None and parent_id not in chain:
        chain.append(parent_id)
        parent_id = (
            await ctx.session.execute(select(InventoryRow.installed_in_id).where(InventoryRow.id == parent_id))
        ).scalar_one()
    return chain
