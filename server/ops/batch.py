"""One write transaction that applies ops: a chunk of a sync push, an online op (a batch of one), a
supervisor's approval with the ops held behind it, a count decision. Callers hand the batch to `apply_op`
(server/ops/service.py) explicitly.

- The ops get consecutive versions from the change clock (`next_version`): op 1 the first value, op 2 the
  next, … Whoever takes the clock holds its row's lock until commit, so versions become visible in version
  order: a change committing after a pull was answered has a version above that pull's cursor. A batch takes
  it first (on PostgreSQL with the writers' lock exclusive: server/clock.py) — except a push chunk on
  PostgreSQL (`start(beside_others=True)`: `late`), which takes it last, so that chunks of pushes from many
  phones do their work side by side and queue only for the clock and the commit:
  - until then the ops get provisional versions (from PROVISIONAL, far below any real one, seen by no one
    else: the transaction has not committed), shifted to the real ones as the clock is taken, in the same
    statement (`finish`: an UPDATE per stamped table, each a data-modifying CTE), so that the clock's row is
    held for that statement and the commit only;
  - the stock rows it reads are locked (FOR UPDATE, in id order): two chunks that touch the same rows
    take turns on them, as they took turns on the clock before; rows of other kinds take turns by key
    (`take_turn`: a part's cost layers, a count's lines). When its first op asks for a turn, the chunk
    takes every turn its ops will take that the registry names (server/ops/registry.py `turns_named`),
    in one statement, in key order, so that two chunks never wait for each other's turns in opposite
    orders (a deadlock, which PostgreSQL breaks only after `deadlock_timeout`, failing one of them); a
    turn held is not asked for again (one taken in a SAVEPOINT rolled back was given back);
  - it holds the writers' lock shared (server/clock.py `writers_shared`): writers that change parts,
    locations or counts take the clock first and that lock exclusive, so they never run beside a chunk,
    and what a chunk read of parts and locations stays true until it commits.
- What the ops name is looked up once per transaction (`Lookups`), and can be fetched ahead in a few
  queries (`prefetch`): parts, locations, units by serial with their trees of components, the buckets
  of those parts there, and the purchase order lines receipts name (server/ops/ordering.py). A SAVEPOINT rolled back expires what it touched: `refresh` fetches it again.
- The ledger and movement-log rows of the ops are inserted in bulk when the batch finishes.
- `savepoint()`: an op (or a run of ops) in its own SAVEPOINT; rolling it back also drops its trail rows.
  `trial()`: the same, always rolled back (would the op apply now?).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from functools import cache
from datetime import UTC, datetime
from itertools import product
from typing import Any, NamedTuple, TypeGuard
from uuid import UUID

from sqlalchemy import BigInteger, ColumnElement, Select, Table, Update, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import CLOCK, bump_counter, next_version, writers_shared
from server.models import CostLayer, Counter, Location, Part
from server.ops.ordering import prefetch_lines, prefetch_maxima
from server.ops.rows import INVENTORY, SELECT_ROWS
from server.ops.registry import places_named, turns_named, units_named
from server.ops.stock import BucketKey, Lookups, Trail
from server.rules.text import NUL

IN_BATCH = 500  # ids per IN (...) list
SET_CLOCK = update(Counter).where(Counter.key == CLOCK).values(value=bindparam("clock"))
PROVISIONAL = -(2**62)  # a late batch's first provisional version (real versions are >= 0)


NOW = bindparam("shift_now", type_=Counter.__table__.c.updated_at.type)  # what `onupdate` sets (not in a CTE)
# A late batch takes the clock (moved on by :shift_by) and shifts its rows to real versions in one
# statement (`finish`): the clock's new value is that of its last op (:shift_high). Parameters of an UPDATE
# named as a column would set it: these are named apart.
CLOCK_TAKEN = (
    update(Counter).where(Counter.key == bindparam("shift_clock"))
    .values(value=Counter.value + bindparam("shift_by"), updated_at=NOW).returning(Counter.value).cte("clock")
)
OFFSET = select(CLOCK_TAKEN.c.value).scalar_subquery() - bindparam("shift_high")
CLOCK_FOUND = select(CLOCK_TAKEN.c.value).exists()  # (a database's first write makes the clock's row)


def shift(table: Table, *where: ColumnElement[bool], columns: tuple[str, ...] = ("version",)) -> Update:
    """The rows of `table` a late batch stamped with provisional versions (by its version index, and `where`),
    given their real ones in `columns` as it takes the clock (`finish`)."""
    audit = {"updated_at": NOW} if "updated_at" in table.c else {}
    return (
        update(table)
        .where(table.c.version.between(bindparam("shift_low"), bindparam("shift_high")), CLOCK_FOUND, *where)
        .values({**{name: table.c[name] + OFFSET for name in columns}, **audit})
    )


# The tables whose rows ops stamp with their version: stock rows, cost layers (server/ops/costs.py), and those
# of packages above that register theirs (`stamped`: server/counts' count lines)
SHIFTS: dict[Table, Update] = {INVENTORY: shift(INVENTORY), CostLayer.__table__: shift(CostLayer.__table__)}


def stamped(table: Table) -> None:
    """Rows of `table` get the version of the op that writes them: a late batch shifts them to real versions."""
    SHIFTS.setdefault(table, shift(table))


@cache
def _taking_clock(also: tuple[Update, ...]) -> Select[Any]:
    """The clock moved on and every stamped table's rows shifted, in one statement: its new value."""
    shifts = [statement.cte(f"shift_{index}") for index, statement in enumerate([*SHIFTS.values(), *also])]
    return select(CLOCK_TAKEN.c.value).add_cte(*shifts)


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
# the serial index instead; serials are never ''). Units are looked up by serial, so that a chunk's
# fixed cost does not grow with the stock of its bins.
BUCKETS_AT = SELECT_ROWS.where(
    INVENTORY.c.part_id.in_(bindparam("parts", expanding=True)),
    INVENTORY.c.location_id.in_(bindparam("locations", expanding=True)),
    INVENTORY.c.installed_in_id.is_(None), func.coalesce(INVENTORY.c.serial, "") == "",
    INVENTORY.c.po_line_id.is_(None),  # rows of a purchase order line are no bucket
)
COMPONENTS_OF = _components_of()
# turns (transaction-level advisory locks) in one statement, in the order of the (sorted) array
_KEYS = func.unnest(bindparam("keys", type_=ARRAY(BigInteger))).table_valued("key").render_derived()
TURNS = select(func.pg_advisory_xact_lock(_KEYS.c.key))


class Named(NamedTuple):
    """What a run of ops names: part numbers, location codes, serials, (part number, location code) pairs, the
    purchase order lines receipts name, and what they take turns on: the parts whose cost layers they change,
    other ids (as sent)."""

    parts: Collection[str] = ()
    codes: Collection[str] = ()
    serials: Collection[str] = ()
    places: Collection[tuple[str, str]] = ()
    po_lines: Collection[str] = ()
    costed: Collection[str] = ()
    turns: Collection[str] = ()


def named(ops: Iterable[tuple[str, Any]]) -> Named:
    """What ops (type, raw args as sent) name, to prefetch it. Not a text with a NUL (no database may be asked
    for it: its op is rejected)."""
    parts: set[str] = set()
    codes: set[str] = set()
    serials: set[str] = set()
    places: set[tuple[str, str]] = set()
    po_lines: set[str] = set()
    costed: set[str] = set()
    turns: set[str] = set()
    for op_type, args in ops:
        part = args.get("part") if isinstance(args, dict) else None
        if op_type == "receive" and named_text(line := args.get("po_line")):
            po_lines.add(line)
        if named_text(part):
            parts.add(part)
        for code in places_named(op_type, args):
            if named_text(code):
                codes.add(code)
                if named_text(part):
                    places.add((part, code))
        serials.update(serial for serial in units_named(op_type, args) if named_text(serial))
        costs, ids = turns_named(op_type, args)
        if named_text(costs):
            costed.add(costs)
        turns.update(ids)
    return Named(parts, codes, serials, places, po_lines, costed, turns)


def named_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and NUL not in value


class WriteBatch:
    def __init__(self, session: AsyncSession, *, late: bool = False) -> None:
        self.session = session
        self.late = late
        self.lookups = Lookups()
        self.trail = Trail()
        self.first_version = 0
        self.last_version = 0
        self.named = Named()
        self.stale = False  # a SAVEPOINT was rolled back: `lookups` lost its stock rows (`refresh`)
        self.turns: set[int] = set()  # the keys of the turns this late batch holds
        self.planned: set[int] = set()  # ... and of those its ops will take (`prefetch`)

    @classmethod
    async def start(cls, session: AsyncSession, *, beside_others: bool = False) -> WriteBatch:
        """Take the change clock, first thing in the transaction. `beside_others` (a push chunk): on PostgreSQL
        take the writers' lock shared instead, and the clock last (see the module's docstring)."""
        connection = await session.connection()
        batch = cls(session, late=beside_others and connection.dialect.name == "postgresql")
        if batch.late:
            await writers_shared(connection)
            batch.first_version = PROVISIONAL
            batch.lookups.rows.lock = True
        else:
            batch.first_version = await next_version(session)
        batch.last_version = batch.first_version - 1
        return batch

    def next_version(self) -> int:
        self.last_version += 1
        return self.last_version

    async def prefetch(self, what: Named) -> None:
        """Load what a run of ops names, a query per kind: the parts, the locations, the units with these
        serials, and every bucket (not installed) of the parts named with a location (`places`) at the
        locations named with a part."""
        self.named = what
        part_numbers, codes, serials, places, po_lines, costed, turns = what
        lookups, session = self.lookups, self.session
        if part_numbers:
            for part in (await session.execute(PARTS_NAMED, {"names": list(part_numbers)})).scalars():
                lookups.parts[part.part_number] = part
        if self.late:
            self.planned = {_turn_key(key) for key in [lookups.parts[p].id for p in costed if p in lookups.parts]}
            self.planned.update(_turn_key(key) for key in _ids(turns))
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
                lookups.buckets[BucketKey(row.part_id, row.lot, row.location_id, row.isolated, row.scrapped)] = row
            lookups.complete.update(product(part_ids, location_ids))
        if po_lines:
            await prefetch_lines(session, lookups, po_lines)
        if places:
            await prefetch_maxima(session, lookups, {lookups.parts[part].id for part, _ in places if part in lookups.parts})

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
            await self.prefetch(self.named)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """One op (or a run of ops): its writes (and its trail rows) are kept only if the block ends without
        an error. The stock rows changed before it are written before it begins, and those it changed when
        it ends, inside it (a constraint they break fails it)."""
        marks, turns = self.trail.marks(), set(self.turns)
        rows = self.lookups.rows
        await rows.write(self.session)
        try:
            async with self.session.begin_nested():
                yield
                await rows.write(self.session)
        except BaseException:
            self.trail.truncate(marks)
            self.turns = turns  # those taken inside were given back
            self.lookups.forget_stock()
            self.stale = True
            raise

    @asynccontextmanager
    async def trial(self) -> AsyncIterator[None]:
        """Whatever happens in the block is rolled back: a SAVEPOINT that is never kept (would an op apply?)."""
        marks, turns = self.trail.marks(), set(self.turns)
        await self.lookups.rows.write(self.session)
        savepoint = await self.session.begin_nested()
        try:
            yield
        finally:
            await savepoint.rollback()
            self.trail.truncate(marks)
            self.turns = turns
            self.lookups.forget_stock()
            self.stale = True

    async def take_turn(self, key: UUID) -> None:
        """In a late batch (a push chunk beside others, PostgreSQL): wait for the others that took a turn on
        `key` to commit, and hold it until this one commits. Elsewhere the clock already serialises writers.
        With it, every turn its ops will take that it does not hold yet, in key order (see the module's docstring)."""
        if not self.late or (number := _turn_key(key)) in self.turns:
            return
        numbers = sorted(({number} | self.planned) - self.turns)
        connection = await self.session.connection()
        await connection.execute(TURNS, {"keys": numbers})
        self.turns.update(numbers)

    async def finish(self, also: tuple[Update, ...] = (), **params: Any) -> None:
        """Write the stock rows and the trail, and move the clock to the last version handed out (still before
        commit). A late batch takes the clock now and gives its rows their real versions, in one statement
        (the clock's row is locked until commit: the shorter the time from here, the less other writers
        wait): those of the stamped tables, and those `also` shifts (`shift`, with `params`)."""
        await self.lookups.rows.write(self.session)
        await self.trail.write(self.session)
        connection = await self.session.connection()
        used = self.last_version - self.first_version + 1
        if not self.late:
            if used > 1:
                await connection.execute(SET_CLOCK, {"clock": self.last_version})
            return
        if used < 1:
            return
        values = {
            "shift_clock": CLOCK, "shift_by": used, "shift_low": self.first_version, "shift_high": self.last_version,
            "shift_now": datetime.now(UTC), **params,
        }
        if (await connection.execute(_taking_clock(also), values)).scalar_one_or_none() is None:
            await bump_counter(self.session, CLOCK, by=0)  # a database's first write: the clock's row made ...
            await connection.execute(_taking_clock(also), values)  # ... (no row is shifted without it)


def _turn_key(key: UUID) -> int:
    return int.from_bytes(key.bytes[:8], signed=True)


def _ids(texts: Iterable[str]) -> list[UUID]:
    """The ids among texts as sent (a malformed one is its op's own error, later)."""
    ids = []
    for text in texts:
        try:
            ids.append(UUID(text))
        except ValueError:
            continue
    return ids
