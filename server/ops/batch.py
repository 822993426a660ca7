"""One write transaction that applies a run of ops: a chunk of a sync push.

- The change clock is taken once, first (its lock, held until commit, serialises writers), and the ops
  get consecutive versions from it: op 1 the value taken, op 2 the next, … The clock row is set to the
  last value handed out before commit. No other writer can take a value in between (it waits for the
  lock), and the chunk commits all or nothing, so versions still become visible in version order: a
  change committing after a pull was answered has a version above that pull's cursor.
- What the ops name is looked up once per transaction (`Lookups`), and can be fetched ahead in a few
  queries (`prefetch`): parts, locations, units by serial with their trees of components, and the buckets
  of those parts there. A SAVEPOINT rolled back expires what it touched: `refresh` fetches it again.
- The ledger and movement-log rows of the ops are inserted in bulk when the batch finishes.
- `savepoint()`: each op runs in its own SAVEPOINT; rolling it back also drops the op's trail rows.

The batch registers itself in `session.info`, so `apply_op` (the one op path, also taken by online ops
and supervisors' decisions, which run without a batch) finds it without a change of signature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from itertools import product
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Counter, Location, Part
from server.ops.rows import INVENTORY, SELECT_ROWS
from server.ops.stock import BATCH, CLOCK, Lookups, Trail, bump_counter

IN_BATCH = 500  # ids per IN (...) list
SET_CLOCK = update(Counter).where(Counter.key == CLOCK).values(value=bindparam("clock"))


def _components_of() -> Any:
    """Every row installed in one of :roots, at any depth (a recursive CTE)."""
    inventory = INVENTORY
    tree = select(inventory.c.id).where(inventory.c.installed_in_id.in_(bindparam("roots", expanding=True)))
    tree = tree.cte("below", recursive=True)
    tree = tree.union_all(select(inventory.c.id).where(inventory.c.installed_in_id == tree.c.id))
    return SELECT_ROWS.where(inventory.c.id.in_(select(tree.c.id)))


# What a chunk's ops name, built once (the lists go in as expanding parameters)
PARTS_NAMED = select(Part).where(Part.part_number.in_(bindparam("names", expanding=True)))
LOCATIONS_NAMED = select(Location).where(Location.code.in_(bindparam("codes", expanding=True)))
UNITS_NAMED = SELECT_ROWS.where(INVENTORY.c.serial.in_(bindparam("serials", expanding=True)))
# every bucket of those parts there, not installed: by the (part, location) index, the units there left out
# row by row (not by `serial IS NULL`: SQLite, which keeps no statistics, would walk every serial-less row by
# the serial index instead; serials are never ''). Units are looked up by serial: loading them here made the
# chunk's fixed cost grow with the stock of its bins.
BUCKETS_AT = SELECT_ROWS.where(
    INVENTORY.c.part_id.in_(bindparam("parts", expanding=True)),
    INVENTORY.c.location_id.in_(bindparam("locations", expanding=True)),
    INVENTORY.c.installed_in_id.is_(None), func.coalesce(INVENTORY.c.serial, "") == "",
)
COMPONENTS_OF = _components_of()


class WriteBatch:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lookups = Lookups()
        self.trail = Trail()
        self.first_version = 0
        self.last_version = 0
        self.named: tuple[Collection[str], Collection[str], Collection[str], Collection[tuple[str, str]]] = ((), (), (), ())
        self.stale = False  # a SAVEPOINT was rolled back: `lookups` lost its stock rows (`refresh`)

    @classmethod
    def of(cls, session: AsyncSession) -> WriteBatch | None:
        return session.info.get(BATCH)

    @classmethod
    async def start(cls, session: AsyncSession) -> WriteBatch:
        """Take the change clock (first thing in the transaction) and register the batch."""
        batch = cls(session)
        batch.first_version = await bump_counter(session, CLOCK)
        batch.last_version = batch.first_version - 1
        session.info[BATCH] = batch
        return batch

    def next_version(self) -> int:
        self.last_version += 1
        return self.last_version

    async def prefetch(
        self, part_numbers: Collection[str], codes: Collection[str], serials: Collection[str],
        places: Collection[tuple[str, str]],
    ) -> None:
        """Load what a run of ops names, a query per kind: the parts, the locations, the units with these
        serials, and every bucket (not installed) of the parts named with a location (`places`: (part
        number, location code) pairs) at the locations named with a part."""
        self.named = (part_numbers, codes, serials, places)
        lookups, session = self.lookups, self.session
        if part_numbers:
            for part in (await session.execute(PARTS_NAMED, {"names": list(part_numbers)})).scalars():
                lookups.parts[part.part_number] = part
        if codes:
            for location in (await session.execute(LOCATIONS_NAMED, {"codes": list(codes)})).scalars():
                lookups.locations[location.code] = lookups.locations_by_id[location.id] = location
        if serials:
            found = set()
            for unit in await lookups.rows.load(session, UNITS_NAMED, {"serials": list(serials)}):
                lookups.units[unit.serial] = unit
                found.add(unit.id)
            lookups.absent.update(set(serials) - lookups.units.keys())
            await self._components(found - lookups.components.keys())
        pairs = {
            (lookups.parts[part].id, lookups.locations[code].id)
            for part, code in places
            if part in lookups.parts and code in lookups.locations
        }
        if pairs:
            part_ids, location_ids = {part for part, _ in pairs}, {location for _, location in pairs}
            places_named = {"parts": list(part_ids), "locations": list(location_ids)}
            rows = await lookups.rows.load(session, BUCKETS_AT, places_named)
            for row in rows:
                lookups.buckets[(row.part_id, row.lot, row.location_id, row.isolated, row.scrapped)] = row
            lookups.complete.update(product(part_ids, location_ids))

    async def _components(self, ids: set[UUID]) -> None:
        """The whole trees of components of these rows (`Lookups.components`), one recursive query per
        IN_BATCH roots."""
        components = self.lookups.components
        roots = list(ids)
        for row_id in roots:
            components[row_id] = []
        for start in range(0, len(roots), IN_BATCH):
            rows = await self.lookups.rows.load(self.session, COMPONENTS_OF, {"roots": roots[start : start + IN_BATCH]})
            for row in rows:
                components.setdefault(row.id, [])
            for row in rows:
                components[row.installed_in_id].append(row)  # type: ignore[index]

    async def refresh(self) -> None:
        """After a SAVEPOINT was rolled back (`savepoint()`): what the last `prefetch` loaded, loaded again."""
        if self.stale:
            self.stale = False
            await self.prefetch(*self.named)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """One op (or a run of ops): its writes (and its trail rows) are kept only if the block ends without
        an error. The stock rows changed before it are written before it begins, and those it changed when
        it ends, inside it (a constraint they break fails it)."""
        marks = self.trail.marks()
        rows = self.lookups.rows
        await rows.write(self.session)
        try:
            async with self.session.begin_nested():
                yield
                await rows.write(self.session)
        except BaseException:
            self.trail.truncate(marks)
            self.lookups.forget_stock()
            self.stale = True
            raise

    async def finish(self) -> None:
        """Write the stock rows and the trail, and move the clock to the last version handed out (still before
        commit)."""
        await self.lookups.rows.write(self.session)
        await self.trail.write(self.session)
        if self.last_version > self.first_version:
            connection = await self.session.connection()
            await connection.execute(SET_CLOCK, {"clock": self.last_version})
        del self.session.info[BATCH]
