"""What stock is worth and what was used (docs/costs.md): the FIFO report (cost layers, oldest first), usage
records for a period, and the valuation per part — read-only queries; server/ops/costs.py writes the layers.

Money sums are made in Python, in Decimal (SQLite holds money as text: server/models.py `Money`): the database
sums quantities per part and unit cost (exact on both engines), Python multiplies each sum by its cost. A
location's FIFO value is what the rows in its subtree hold of each layer (`cost_holdings`), exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, cast, func, select, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from server.db import Database
from server.db.codecs import id_as_text, money_text_raw, raw_money, raw_time, rfc3339
from server.models import (
    PLACES, SCALE, CostHolding, CostLayer, InventoryRow, Location, Part, UsageRecord, from_scaled, is_stock,
)
from server.ops.holdings import FIFO_ORDER
from server.queries import _id_or_key, location_subtree
from server.rules.money import exact, money_text, times, total

STREAM_ROWS = 5000  # usage records read per batch for the CSV
USAGE_CSV_COLUMNS = ["used_at", "op_type", "part", "location", "serial", "lot", "quantity", "cost", "reason",
                     "reference", "actor", "op_id"]


def held(row: Any = InventoryRow) -> list[Any]:
    """Stock rows a part's layers cover: received stock not scrapped or removed (free, isolated or installed)."""
    return [is_stock(row), ~row.scrapped, ~row.removed, row.quantity > 0]


class CostQueries:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.currency = db.settings.currency

    async def layers(self, part: str | None, open_only: bool, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Cost layers, oldest first (FIFO order), with what is left of each and its value."""
        where = []
        if part:
            where.append(_id_or_key(Part.part_number, Part.id, part))
        if open_only:
            where.append(CostLayer.quantity_remaining > 0)
        query = (
            select(
                CostLayer.id, Part.part_number.label("part"), CostLayer.kind, CostLayer.package_ref, CostLayer.po_line,
                CostLayer.received_at, CostLayer.quantity_received, CostLayer.quantity_remaining, CostLayer.unit_cost,
                CostLayer.average_price, CostLayer.op_id,
            )
            .join(Part, Part.id == CostLayer.part_id).where(*where)
        )
        async with self.db.read() as session:
            count = await session.scalar(
                select(func.count()).select_from(CostLayer).join(Part, Part.id == CostLayer.part_id).where(*where)
            )
            rows = await session.execute(query.order_by(Part.part_number, *FIFO_ORDER).limit(limit).offset(offset))
            items = []
            for row in rows:
                item = dict(row._mapping)
                item["value"] = money_text(exact(times(row.quantity_remaining, row.unit_cost)))
                for key in ("unit_cost", "average_price"):
                    item[key] = money_text(item[key])
                items.append(item)
            where_held = await self._where_held(session, [item["id"] for item in items])
        for item in items:
            item["held"] = where_held.get(item["id"], [])
        return items, int(count or 0)

    async def _where_held(self, session: Any, layer_ids: list[Any]) -> dict[Any, list[dict[str, Any]]]:
        """Where each layer's stock is: per row holding it, the location (code and path from the top), the unit
        or lot, the unit it is installed in, and how much of the layer."""
        if not layer_ids:
            return {}
        parent = aliased(InventoryRow)
        found = await session.execute(
            select(CostHolding.layer_id, CostHolding.quantity, InventoryRow.location_id, InventoryRow.serial,
                   InventoryRow.lot, InventoryRow.isolated, parent.serial.label("installed_in"))
            .join(InventoryRow, InventoryRow.id == CostHolding.inventory_id)
            .outerjoin(parent, parent.id == InventoryRow.installed_in_id)
            .where(CostHolding.layer_id.in_(layer_ids))
            .order_by(CostHolding.layer_id, InventoryRow.location_id, InventoryRow.id)
        )
        held = list(found)
        paths = await location_paths(session, {row.location_id for row in held})
        where: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in held:
            where[row.layer_id].append({
                "location": paths[row.location_id][-1], "path": " / ".join(paths[row.location_id]),
                "serial": row.serial, "lot": row.lot, "installed_in": row.installed_in, "isolated": row.isolated,
                "quantity": row.quantity,
            })
        return where

    def _usage_where(self, filters: dict[str, Any]) -> list[Any]:
        where = []
        if filters.get("part"):
            where.append(_id_or_key(Part.part_number, Part.id, filters["part"]))
        if filters.get("since"):
            where.append(UsageRecord.used_at >= filters["since"])
        if filters.get("until"):
            where.append(UsageRecord.used_at < filters["until"])
        if filters.get("reason"):
            where.append(UsageRecord.reason == filters["reason"])
        return where

    @staticmethod
    def _usage_select(*columns: Any) -> Any:
        return select(*columns).join(Part, Part.id == UsageRecord.part_id).join(Location, Location.id == UsageRecord.location_id)

    async def usage(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int, Decimal]:
        """Usage records of a period, oldest first, and the cost of all of them (not only the page's)."""
        where = self._usage_where(filters)
        query = self._usage_select(
            UsageRecord.id, UsageRecord.used_at, UsageRecord.op_type, Part.part_number.label("part"),
            Location.code.label("location"), UsageRecord.serial, UsageRecord.lot, UsageRecord.quantity,
            UsageRecord.cost, UsageRecord.reason, UsageRecord.reference, UsageRecord.actor, UsageRecord.op_id,
        ).where(*where)
        counted = select(UsageRecord.cost).join(Part, Part.id == UsageRecord.part_id).where(*where)
        async with self.db.read() as session:
            costs = list(await session.scalars(counted))
            rows = await session.execute(query.order_by(UsageRecord.used_at, UsageRecord.id).limit(limit).offset(offset))
            items = [dict(row._mapping) | {"cost": money_text(row.cost)} for row in rows]
        return items, len(costs), exact(total(costs))

    async def usage_rows(self, filters: dict[str, Any]) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Every usage record of the filters, oldest first, as USAGE_CSV_COLUMNS' values (times in RFC 3339, money as
        decimal strings), streamed from the database a few thousand rows at a time: one await per batch, ids and
        times and money read as the driver gives them (server/db/codecs.py)."""
        async with self.db.read() as session:
            query = self._usage_select(
                raw_time(session, UsageRecord.used_at), UsageRecord.op_type, Part.part_number, Location.code,
                UsageRecord.serial, UsageRecord.lot, UsageRecord.quantity, raw_money(session, UsageRecord.cost),
                UsageRecord.reason, UsageRecord.reference, UsageRecord.actor, id_as_text(UsageRecord.op_id),
            ).where(*self._usage_where(filters)).order_by(UsageRecord.used_at, UsageRecord.id)
            result = await (await session.connection()).stream(query.execution_options(yield_per=STREAM_ROWS))
            async for rows in result.partitions():
                yield [(rfc3339(at), op_type, part, location, serial, lot, quantity, money_text_raw(cost), reason,
                        reference, actor, op_id)
                       for at, op_type, part, location, serial, lot, quantity, cost, reason, reference, actor, op_id in rows]

    def _key(self, column: Any) -> Any:
        """A part id as the database gives it: on SQLite its 16 bytes (made into a UUID by nobody: the valuation
        reads up to a row per layer, and the conversion would cost more than the sums)."""
        return type_coerce(column, LargeBinary) if self.db.dialect == "sqlite" else column

    async def _values(
        self, connection: Any, location: str | None, part: str | None, *, by_location: bool = False,
    ) -> dict[Any, tuple[Any, Decimal]]:
        """(quantity, FIFO value) per part (or per location: `by_location`) of the stock held: everywhere by
        part, the layers' remaining quantities; else what the rows (of the location subtree) hold of them.
        Exact, summed by the database: PostgreSQL in NUMERIC; SQLite, which has no exact decimals, in integers
        (`_sqlite_sums`)."""
        holdings = location is not None or by_location
        quantity = CostHolding.quantity if holdings else CostLayer.quantity_remaining
        grouped = InventoryRow.location_id if by_location else CostLayer.part_id
        # the subtree's ids first: a recursive CTE inside the join leaves PostgreSQL guessing its size (it guessed
        # a bin holds 88,000 rows and hashed every holding)
        places = [row[0] for row in await connection.execute(location_subtree(location))] if location else []

        def query(*columns: Any) -> Any:
            found = select(self._key(grouped).label("key"), *columns).where(quantity > 0)
            if holdings:
                found = (
                    found.select_from(CostHolding).join(InventoryRow, InventoryRow.id == CostHolding.inventory_id)
                    .join(CostLayer, CostLayer.id == CostHolding.layer_id).where(*held())
                )
            if location is not None:
                found = found.where(InventoryRow.location_id.in_(places))
            if part:
                found = found.where(CostLayer.part_id.in_(select(Part.id).where(_id_or_key(Part.part_number, Part.id, part))))
            return found.group_by(grouped)

        if self.db.dialect == "sqlite":
            return await _sqlite_sums(connection, query, quantity)
        found = await connection.execute(query(func.sum(quantity).label("quantity"),
                                               func.sum(quantity * CostLayer.unit_cost).label("value")))
        return {row.key: (row.quantity, Decimal(row.value)) for row in found}

    async def _parts(self, connection: Any, part_ids: set[Any]) -> tuple[dict[Any, Any], dict[Any, Decimal]]:
        """Each part's number, description and unit, and its average price (its newest layer's). Every part's when
        there are many (one pass over the parts, no list of ids to send)."""
        key = self._key(Part.id).label("part")
        names = select(key, Part.part_number, Part.description, Part.unit)
        newest = select(CostLayer.part_id, func.max(CostLayer.version).label("version")).group_by(CostLayer.part_id)
        if len(part_ids) <= 500:
            names = names.where(key.in_(part_ids))
            newest = newest.where(self._key(CostLayer.part_id).in_(part_ids))
        newest_sq = newest.subquery()
        averages = select(self._key(CostLayer.part_id), CostLayer.average_price).join(
            newest_sq, (newest_sq.c.part_id == CostLayer.part_id) & (newest_sq.c.version == CostLayer.version)
        ).order_by(CostLayer.id)  # layers of one op: the last made is the newest, as FIFO order has it
        return ({row.part: row for row in await connection.execute(names)},
                dict((await connection.execute(averages)).all()))

    async def valuation(self, location: str | None = None, part: str | None = None) -> dict[str, Any]:
        """Per part (of the location subtree, or everywhere): quantity held, FIFO value, average price, average
        value; and the totals, with the currency."""
        async with self.db.read() as session:
            connection = await session.connection()  # Core rows: no ORM work per row
            held_values = {key: found for key, found in (await self._values(connection, location, part)).items() if found[0]}
            names, average_of = await self._parts(connection, set(held_values)) if held_values else ({}, {})
        items = []
        for part_id, (quantity, value) in held_values.items():
            average = average_of.get(part_id)
            info = names[part_id]
            items.append({
                "part": info.part_number, "description": info.description, "unit": info.unit, "quantity": quantity,
                "fifo_value": exact(value), "average_price": average,
                "average_value": exact(times(quantity, average)) if average is not None else None,
            })
        items.sort(key=lambda item: item["part"])
        fifo_total = exact(total(item["fifo_value"] for item in items))
        average_total = exact(total(item["average_value"] or Decimal(0) for item in items))
        for item in items:
            for key in ("fifo_value", "average_price", "average_value"):
                item[key] = None if item[key] is None else money_text(item[key])
        return {"items": items, "fifo_value": money_text(fifo_total), "average_value": money_text(average_total),
                "currency": self.currency}

    async def value_by_location(self, location: str | None = None) -> list[tuple[str, Decimal]]:
        """FIFO value held per location (of the subtree), highest first: what its rows hold of each layer."""
        async with self.db.read() as session:
            connection = await session.connection()
            values = await self._values(connection, location, None, by_location=True)
            key = self._key(Location.id)
            codes = select(key, Location.code)
            if len(values) <= 500:
                codes = codes.where(key.in_(values))
            code_of = dict((await connection.execute(codes)).all()) if values else {}
        found = [(code_of[key], exact(value)) for key, (_, value) in values.items()]
        return sorted(found, key=lambda kv: (-kv[1], kv[0]))


async def location_paths(session: Any, location_ids: set[Any]) -> dict[Any, list[str]]:
    """Each location's codes from the top of its tree down to it."""
    known: dict[Any, tuple[str, Any]] = {}
    wanted = set(location_ids)
    while wanted:
        found = await session.execute(select(Location.id, Location.code, Location.parent_id).where(Location.id.in_(wanted)))
        for row in found:
            known[row.id] = (row.code, row.parent_id)
        wanted = {parent for _, parent in known.values() if parent is not None and parent not in known}
    paths: dict[Any, list[str]] = {}
    for location_id in location_ids:
        path, at = [], location_id
        while at is not None and at in known:
            code, at = known[at]
            path.append(code)
        paths[location_id] = path[::-1]
    return paths


async def _sqlite_sums(connection: Any, query: Any, quantity: Any) -> dict[Any, tuple[Any, Decimal]]:
    """Σ quantity and Σ quantity × unit cost per key, exactly, on SQLite: quantities are integers of millionths
    there, and a unit cost's text has exactly 6 decimal places, so both are integers of millionths; each is split
    into whole units and millionths, and the four products are summed in SQL as integers. Should a product or a
    sum outgrow 64 bits (SQLite makes the product a float, or refuses the sum), the quantities are summed per key
    and unit cost instead and Python multiplies them."""
    q = type_coerce(quantity, Integer)
    cost = cast(func.replace(type_coerce(CostLayer.unit_cost, String), ".", ""), Integer)
    q_units, q_parts, c_units, c_parts = q // SCALE, q % SCALE, cost // SCALE, cost % SCALE
    try:
        found = (await connection.execute(query(
            func.sum(q), func.sum(q_units * c_units), func.sum(q_units * c_parts + q_parts * c_units),
            func.sum(q_parts * c_parts),
        ))).all()
    except OperationalError:  # integer overflow
        found = None
    if found is not None and all(type(n) is int for row in found for n in row[1:]):
        return {key: (from_scaled(millionths), Decimal(units) + Decimal(parts).scaleb(-PLACES) + Decimal(pico).scaleb(-2 * PLACES))
                for key, millionths, units, parts, pico in found}
    sums: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for key, unit_cost, millionths in (await connection.execute(
        query(type_coerce(CostLayer.unit_cost, String), func.sum(q)).group_by(CostLayer.unit_cost)
    )).all():
        sums[key][0] += millionths
        sums[key][1] += millionths * int(unit_cost.replace(".", ""))
    return {key: (from_scaled(n), Decimal(value).scaleb(-2 * PLACES)) for key, (n, value) in sums.items()}

