"""Read side: inventory lists, exports, unit and lot histories, the activity log (movements and master-data
changes). Plain SELECTs; status
is computed by the database (server/rules/status.py) so that filtering 1M rows is one query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, false, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from server.db import Database
from server.errors import Invalid, NotFound
from server.models import InventoryRow, LedgerEntry, Location, MasterChange, Movement, OpRecord, Part, Supplier
from server.rules.status import Status, inventory_status_sql, status_filter_sql

# What packages above add to a unit's or a lot's history, by key: (session, serial, part id, lot) → its list
# (a unit: serial given; a lot: part id and lot). server/production adds `runs`, the runs that touched it;
# server/quality `issues`, the quality issues on it.
HistoryExtra = Callable[[Any, str | None, UUID | None, str | None], Awaitable[list[dict[str, Any]]]]
HISTORY_EXTRAS: dict[str, HistoryExtra] = {}

Parent = aliased(InventoryRow, name="parent")
FromLocation = aliased(Location, name="from_location")
ToLocation = aliased(Location, name="to_location")


@dataclass(frozen=True, slots=True)
class InventoryFilter:
    part: str | None = None
    serial: str | None = None
    lot: str | None = None
    location: str | None = None
    status: str | None = None
    q: str | None = None
    include_empty: bool = False


def _id_or_key(column: Any, id_column: Any, value: str) -> Any:
    try:
        return id_column == UUID(value)
    except ValueError:
        return column == value


def location_subtree(location: str) -> Any:
    """Ids of a location (by code or id) and everything below it."""
    tree = select(Location.id).where(_id_or_key(Location.code, Location.id, location)).cte("tree", recursive=True)
    tree = tree.union_all(select(Location.id).where(Location.parent_id == tree.c.id))
    return select(tree.c.id)


def _ledger_where(filters: dict[str, Any]) -> list[Any]:
    """Ledger entries of a part (number or id), a location subtree (code or id) and a bucket."""
    where = []
    if filters.get("part"):
        where.append(_id_or_key(Part.part_number, Part.id, filters["part"]))
    if filters.get("location"):
        where.append(LedgerEntry.location_id.in_(location_subtree(filters["location"])))
    if filters.get("bucket"):
        where.append(LedgerEntry.bucket == filters["bucket"])
    return where


SUBTREE_INLINE_MAX = 1000


async def _places(session: Any, f: InventoryFilter) -> Any:
    """The ids of the filter's location subtree, looked up first: PostgreSQL's planner guesses a
    recursive CTE's size (badly: ~900 rows for a single bin) and then walks the whole table in id order;
    a list of ids gives it the real size. Subtrees bigger than SUBTREE_INLINE_MAX stay a subquery."""
    if not f.location:
        return None
    subtree = location_subtree(f.location)
    ids = list(await session.scalars(subtree.limit(SUBTREE_INLINE_MAX + 1)))
    return ids if len(ids) <= SUBTREE_INLINE_MAX else subtree


def _filtered(columns: list[Any], f: InventoryFilter, places: Any = None) -> Select[Any]:
    """`columns` of the inventory rows matching `f` (`places`: the location subtree from `_places`).
    Parts and locations are joined only when the filter needs them: over 50k rows a join per row is
    most of the cost of a count."""
    query = select(*columns).select_from(InventoryRow)
    if f.part or f.q:
        query = query.join(Part, Part.id == InventoryRow.part_id)
    if f.status:
        query = query.join(Location, Location.id == InventoryRow.location_id)
    if f.part:
        query = query.where(_id_or_key(Part.part_number, Part.id, f.part))
    if f.serial:
        query = query.where(InventoryRow.serial == f.serial)
    if f.lot:
        query = query.where(InventoryRow.lot == f.lot)
    if f.location:
        query = query.where(InventoryRow.location_id.in_(location_subtree(f.location) if places is None else places))
    status = None
    if f.status:
        try:
            status = Status(f.status)
        except ValueError:
            raise Invalid(f"status must be one of {', '.join(Status)}", field="status") from None
        query = query.where(status_filter_sql(InventoryRow, Location, status))
    if f.q:
        needle = f.q.lower()  # `%` and `_` in q are literal characters
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (InventoryRow.serial, InventoryRow.lot, Part.part_number, Part.description)
                )
            )
        )
    # Available stock is never empty; not repeating that lets PostgreSQL count from the index alone.
    if not f.include_empty and not f.serial and status is not Status.available:
        query = query.where(or_(InventoryRow.quantity > 0, InventoryRow.serial.is_not(None)))
    return query


ITEM_COLUMNS = [
    InventoryRow.id,
    Part.part_number.label("part"),
    Part.unit,
    InventoryRow.tracking,
    InventoryRow.serial,
    InventoryRow.lot,
    Location.code.label("location"),
    InventoryRow.quantity,
    inventory_status_sql(InventoryRow, Location).label("status"),
    Parent.serial.label("installed_in"),
    Supplier.name.label("supplier"),
    InventoryRow.unit_cost,
    InventoryRow.isolated,
    InventoryRow.isolation_reason,
    InventoryRow.package_ref,
    InventoryRow.po_line,
    InventoryRow.expiry,
    InventoryRow.updated_at,
    InventoryRow.version,
]


def _items() -> Select[Any]:
    """The item columns of inventory rows, with the joins that only serve display."""
    return (
        select(*ITEM_COLUMNS)
        .select_from(InventoryRow)
        .join(Part, Part.id == InventoryRow.part_id)
        .join(Location, Location.id == InventoryRow.location_id)
        .outerjoin(Parent, Parent.id == InventoryRow.installed_in_id)
        .outerjoin(Supplier, Supplier.id == InventoryRow.supplier_id)
    )


# Built once: the two lookups of a unit's history (building and hashing a statement costs as much as
# running it on an index).
UNIT_BY_SERIAL = _items().where(InventoryRow.serial == bindparam("serial"))
COMPONENTS_OF = _items().where(Parent.serial == bindparam("serial")).order_by(InventoryRow.id)


async def count_rows(session: Any, f: InventoryFilter) -> int:
    """How many rows the inventory list shows for `f` (its total)."""
    return int(await session.scalar(_filtered([func.count()], f, await _places(session, f))) or 0)


def _items_query(
    f: InventoryFilter, limit: int, offset: int = 0, *, after: UUID | None = None, places: Any = None
) -> Select[Any]:
    """One page of items in id order, in two steps: the page's ids (filter, order and limit, answered
    from the indexes as far as they go), then the display joins for those rows only."""
    ids = _filtered([InventoryRow.id], f, places).order_by(InventoryRow.id).limit(limit).offset(offset)
    if after is not None:
        ids = ids.where(InventoryRow.id > after)
    return _items().where(InventoryRow.id.in_(ids.correlate(None))).order_by(InventoryRow.id)


class InventoryQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, f: InventoryFilter, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        async with self.db.read() as session:
            places = await _places(session, f)
            rows = await session.execute(_items_query(f, limit, offset, places=places))
            items = [dict(row._mapping) for row in rows]
            if offset == 0 and len(items) < limit:  # the whole result is on this page: no count needed
                return items, len(items)
            total = await session.scalar(_filtered([func.count()], f, places))
            return items, int(total or 0)

    async def stream(self, f: InventoryFilter, chunk: int = 2000) -> AsyncIterator[dict[str, Any]]:
        """Every matching row, fetched in keyset-paginated chunks so memory stays flat."""
        after: UUID | None = None
        async with self.db.read() as session:
            places = await _places(session, f)
        while True:
            async with self.db.read() as session:
                query = _items_query(f, chunk, after=after, places=places)
                rows = [dict(row._mapping) for row in await session.execute(query)]
            for row in rows:
                yield row
            if len(rows) < chunk:
                return
            after = rows[-1]["id"]

    async def unit_history(self, serial: str) -> dict[str, Any]:
        async with self.db.read() as session:  # one snapshot, three indexed lookups
            unit = (await session.execute(UNIT_BY_SERIAL, {"serial": serial})).first()
            if unit is None:
                raise NotFound(f"No unit with serial {serial}", field="serial")
            unit = dict(unit._mapping)
            events = await self._movements(session, or_(Movement.serial == serial, Movement.parent_serial == serial))
            components = await session.execute(COMPONENTS_OF, {"serial": serial})
            components_list = [dict(row._mapping) for row in components]
            extras = {name: await extra(session, serial, None, None) for name, extra in HISTORY_EXTRAS.items()}
        assemblies: list[dict[str, Any]] = []
        for event in events:
            if event["serial"] != serial:
                continue
            if event["action"] == "Assemble":
                assemblies.append({"parent_serial": event["parent_serial"], "installed_at": event["at"], "removed_at": None})
            elif event["action"] == "Disassemble" and assemblies and assemblies[-1]["removed_at"] is None:
                assemblies[-1]["removed_at"] = event["at"]
        return {"unit": unit, "events": events, "assemblies": assemblies, "components": components_list, **extras}

    async def lot_history(self, part: str, lot: str) -> dict[str, Any]:
        rows, _ = await self.page(InventoryFilter(part=part, lot=lot, include_empty=True), 1000, 0)
        async with self.db.read() as session:
            found = (
                await session.execute(
                    select(Part.id, Part.part_number).where(_id_or_key(Part.part_number, Part.id, part))
                )
            ).one_or_none()
            if found is None:
                raise NotFound(f"No part {part}", field="part")
            events = await self._movements(session, and_(Movement.part_id == found.id, Movement.lot == lot))
            extras = {name: await extra(session, None, found.id, lot) for name, extra in HISTORY_EXTRAS.items()}
        if not rows and not events:
            raise NotFound(f"No lot {lot} of {found.part_number}", field="lot")
        return {"part": found.part_number, "lot": lot, "rows": rows, "events": events, **extras}

    async def activity(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Movements and master-data changes (`master_changes`), newest first: the keys of the page come from
        both logs at once, then each log's lines are read for those keys."""
        moved, changed = [], []
        if filters.get("serial"):
            moved.append(or_(Movement.serial == filters["serial"], Movement.parent_serial == filters["serial"]))
        if filters.get("lot"):
            moved.append(Movement.lot == filters["lot"])
        if filters.get("serial") or filters.get("lot"):
            changed.append(false())  # master data has no serials or lots
        if filters.get("part"):
            moved.append(_id_or_key(Part.part_number, Part.id, filters["part"]))
            changed.append(_id_or_key(Part.part_number, Part.id, filters["part"]))
        if filters.get("location"):
            subtree = location_subtree(filters["location"])
            moved.append(or_(Movement.from_location_id.in_(subtree), Movement.to_location_id.in_(subtree)))
            changed.append(MasterChange.location_id.in_(subtree))
        for name in ("actor", "action", "op_type"):
            if filters.get(name):
                moved.append(getattr(Movement, name) == filters[name])
                changed.append(getattr(MasterChange, name) == filters[name])
        if filters.get("op_id"):
            moved.append(Movement.op_id == filters["op_id"])
            changed.append(MasterChange.id == filters["op_id"])
        for log, conditions in ((Movement, moved), (MasterChange, changed)):
            if filters.get("since"):
                conditions.append(log.created_at >= filters["since"])
            if filters.get("until"):
                conditions.append(log.created_at < filters["until"])
        keys = union_all(
            select(Movement.id, Movement.created_at.label("at"), literal(0).label("log"))
            .join(Part, Part.id == Movement.part_id).where(*moved),
            select(MasterChange.id, MasterChange.created_at.label("at"), literal(1).label("log"))
            .outerjoin(Part, Part.id == MasterChange.part_id).where(*changed),
        ).subquery()
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(keys))
            page = (await session.execute(
                select(keys.c.id, keys.c.log).order_by(keys.c.at.desc(), keys.c.id.desc()).limit(limit).offset(offset)
            )).all()
            movements = [key for key, log in page if log == 0]
            changes = [key for key, log in page if log == 1]
            found = {item["id"]: item for item in await self._movements(session, Movement.id.in_(movements))} if movements else {}
            if changes:
                found.update((item["id"], item) for item in await _changes(session, changes))
        return [found[key] for key, _ in page], int(total or 0)

    async def transactions(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Signed ledger entries, newest first, each with the op that wrote it."""
        where = _ledger_where(filters)
        if filters.get("since"):
            where.append(LedgerEntry.created_at >= filters["since"])
        if filters.get("until"):
            where.append(LedgerEntry.created_at < filters["until"])
        query = (
            select(
                LedgerEntry.id, LedgerEntry.created_at.label("at"), LedgerEntry.bucket, Part.part_number.label("part"),
                Location.code.label("location"), LedgerEntry.lot, LedgerEntry.delta, LedgerEntry.reason,
                LedgerEntry.op_id, OpRecord.type.label("op_type"),
            )
            .join(Part, Part.id == LedgerEntry.part_id)
            .join(Location, Location.id == LedgerEntry.location_id)
            .outerjoin(OpRecord, OpRecord.op_id == LedgerEntry.op_id)
            .where(*where)
        )
        async with self.db.read() as session:
            total = await session.scalar(
                select(func.count()).select_from(LedgerEntry).join(Part, Part.id == LedgerEntry.part_id).where(*where)
            )
            rows = await session.execute(
                query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit).offset(offset)
            )
            return [dict(row._mapping) for row in rows], int(total or 0)

    async def balances(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """The ledger's sums per part, location, lot and bucket (those not zero), by part number, location
        code and lot."""
        quantity = func.sum(LedgerEntry.delta)
        sums = (
            select(
                Part.part_number.label("part"), Location.code.label("location"), LedgerEntry.lot, LedgerEntry.bucket,
                quantity.label("quantity"),
            )
            .join(Part, Part.id == LedgerEntry.part_id)
            .join(Location, Location.id == LedgerEntry.location_id)
            .where(*_ledger_where(filters))
            .group_by(Part.part_number, Location.code, LedgerEntry.lot, LedgerEntry.bucket)
            .having(quantity != 0)
        )
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(sums.subquery()))
            rows = await session.execute(
                sums.order_by(Part.part_number, Location.code, LedgerEntry.lot, LedgerEntry.bucket).limit(limit).offset(offset)
            )
            return [dict(row._mapping) for row in rows], int(total or 0)

    async def _movements(
        self, session: Any, where: Any, *, newest_first: bool = False, limit: int | None = None, offset: int = 0
    ) -> list[dict[str, Any]]:
        order = (Movement.created_at.desc(), Movement.id.desc()) if newest_first else (Movement.created_at, Movement.id)
        query = (
            select(
                Movement.id,
                Movement.created_at.label("at"),
                Movement.op_id,
                Movement.op_type,
                Movement.action,
                Movement.actor,
                Movement.device_id,
                Movement.reason,
                Part.part_number.label("part"),
                Movement.serial,
                Movement.lot,
                Movement.quantity,
                FromLocation.code.label("from_location"),
                ToLocation.code.label("to_location"),
                Movement.parent_serial,
            )
            .join(Part, Part.id == Movement.part_id)
            .outerjoin(FromLocation, FromLocation.id == Movement.from_location_id)
            .outerjoin(ToLocation, ToLocation.id == Movement.to_location_id)
            .where(where)
            .order_by(*order)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [dict(row._mapping) for row in await session.execute(query)]


async def _changes(session: Any, ids: list[Any]) -> list[dict[str, Any]]:
    """Master-data changes in the activity log's shape: no stock moved (quantity 0); `changes` lists each
    field from → to, and `location` names the location changed (`part` the part)."""
    rows = await session.execute(
        select(
            MasterChange.id, MasterChange.created_at.label("at"), MasterChange.id.label("op_id"), MasterChange.op_type,
            MasterChange.action, MasterChange.actor, MasterChange.device_id, MasterChange.reason,
            Part.part_number.label("part"), MasterChange.changes, Location.code.label("location"),
        )
        .outerjoin(Part, Part.id == MasterChange.part_id)
        .outerjoin(Location, Location.id == MasterChange.location_id)
        .where(MasterChange.id.in_(ids))
    )
    return [
        {**row._mapping, "serial": None, "lot": None, "quantity": 0, "from_location": None, "to_location": None,
         "parent_serial": None}
        for row in rows
    ]


def as_utc(moment: datetime | None) -> datetime | None:
    """A time from a query string, in UTC; one without an offset is taken as UTC (the server's clock). One
    whose UTC time falls before year 1 or after 9999 is the calendar's first or last moment: as a bound of a
    range (`since`, `until`) it means the same."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.max if moment.year == datetime.max.year else datetime.min).replace(tzinfo=UTC)
