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

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from server.db import Database
from server.models import CostHolding, CostLayer, InventoryRow, Location, Part, UsageRecord, is_stock
from server.ops.holdings import FIFO_ORDER
from server.queries import _id_or_key, location_subtree
from server.rules.money import exact, money_text, times, total
from server.rules.quantities import canon

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

    def _usage_query(self, filters: dict[str, Any]) -> tuple[Any, list[Any]]:
        where = []
        if filters.get("part"):
            where.append(_id_or_key(Part.part_number, Part.id, filters["part"]))
        if filters.get("since"):
            where.append(UsageRecord.used_at >= filters["since"])
        if filters.get("until"):
            where.append(UsageRecord.used_at < filters["until"])
        if filters.get("reason"):
            where.append(UsageRecord.reason == filters["reason"])
        query = (
            select(
                UsageRecord.id, UsageRecord.used_at, UsageRecord.op_type, Part.part_number.label("part"),
                Location.code.label("location"), UsageRecord.serial, UsageRecord.lot, UsageRecord.quantity,
                UsageRecord.cost, UsageRecord.reason, UsageRecord.reference, UsageRecord.actor, UsageRecord.op_id,
            )
            .join(Part, Part.id == UsageRecord.part_id).join(Location, Location.id == UsageRecord.location_id)
            .where(*where)
        )
        return query, where

    async def usage(self, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int, Decimal]:
        """Usage records of a period, oldest first, and the cost of all of them (not only the page's)."""
        query, where = self._usage_query(filters)
        counted = select(UsageRecord.cost).join(Part, Part.id == UsageRecord.part_id).where(*where)
        async with self.db.read() as session:
            costs = list(await session.scalars(counted))
            rows = await session.execute(query.order_by(UsageRecord.used_at, UsageRecord.id).limit(limit).offset(offset))
            items = [dict(row._mapping) | {"cost": money_text(row.cost)} for row in rows]
        return items, len(costs), exact(total(costs))

    async def usage_rows(self, filters: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Every usage record of the filters, oldest first, streamed from the database."""
        query, _ = self._usage_query(filters)
        async with self.db.read() as session:
            result = await session.stream(query.order_by(UsageRecord.used_at, UsageRecord.id).execution_options(yield_per=2000))
            async for row in result:
                yield dict(row._mapping) | {"cost": money_text(row.cost)}

    async def _held_by_cost(self, session: Any, location: str | None, part: str | None) -> list[Any]:
        """(part, unit cost, quantity) of the stock held: everywhere, the layers' remaining quantities; in a
        location subtree, what its rows hold of them."""
        if location is None:
            query = select(CostLayer.part_id, CostLayer.unit_cost, func.sum(CostLayer.quantity_remaining).label("quantity"))
            query = query.where(CostLayer.quantity_remaining > 0)
        else:
            query = (
                select(CostLayer.part_id, CostLayer.unit_cost, func.sum(CostHolding.quantity).label("quantity"))
                .select_from(CostHolding)
                .join(InventoryRow, InventoryRow.id == CostHolding.inventory_id)
                .join(CostLayer, CostLayer.id == CostHolding.layer_id)
                .where(*held(), InventoryRow.location_id.in_(location_subtree(location)))
            )
        if part:
            query = query.where(CostLayer.part_id.in_(select(Part.id).where(_id_or_key(Part.part_number, Part.id, part))))
        return list(await session.execute(query.group_by(CostLayer.part_id, CostLayer.unit_cost)))

    async def _averages(self, session: Any, part_ids: set[Any]) -> dict[Any, Decimal]:
        """The average price of each part: its newest layer's."""
        newest = select(CostLayer.part_id, func.max(CostLayer.version).label("version")).group_by(CostLayer.part_id)
        newest = newest.where(CostLayer.part_id.in_(part_ids)).subquery()
        averages = select(CostLayer.part_id, CostLayer.average_price).join(
            newest, (newest.c.part_id == CostLayer.part_id) & (newest.c.version == CostLayer.version)
        )
        return {row.part_id: row.average_price for row in await session.execute(averages)}

    async def valuation(self, location: str | None = None, part: str | None = None) -> dict[str, Any]:
        """Per part (of the location subtree, or everywhere): quantity held, FIFO value, average price, average
        value; and the totals, with the currency."""
        async with self.db.read() as session:
            quantities: dict[Any, Any] = defaultdict(int)
            values: dict[Any, list[Decimal]] = defaultdict(list)
            for row in await self._held_by_cost(session, location, part):
                quantities[row.part_id] = canon(quantities[row.part_id] + row.quantity)
                values[row.part_id].append(times(row.quantity, row.unit_cost))
            average_of = await self._averages(session, set(quantities)) if quantities else {}
            names = {row.id: row for row in await session.execute(
                select(Part.id, Part.part_number, Part.description, Part.unit).where(Part.id.in_(quantities))
            )} if quantities else {}
        items = []
        for part_id, quantity in quantities.items():
            if not quantity:
                continue
            average = average_of.get(part_id)
            info = names[part_id]
            items.append({
                "part": info.part_number, "description": info.description, "unit": info.unit, "quantity": quantity,
                "fifo_value": exact(total(values[part_id])), "average_price": average,
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
        query = (
            select(InventoryRow.location_id, CostLayer.unit_cost, func.sum(CostHolding.quantity).label("quantity"))
            .select_from(CostHolding)
            .join(InventoryRow, InventoryRow.id == CostHolding.inventory_id)
            .join(CostLayer, CostLayer.id == CostHolding.layer_id)
            .where(*held())
            .group_by(InventoryRow.location_id, CostLayer.unit_cost)
        )
        if location:
            query = query.where(InventoryRow.location_id.in_(location_subtree(location)))
        async with self.db.read() as session:
            sums = list(await session.execute(query))
            codes = dict((await session.execute(
                select(Location.id, Location.code).where(Location.id.in_({row.location_id for row in sums}))
            )).all()) if sums else {}
        by_location: dict[str, list[Decimal]] = defaultdict(list)
        for row in sums:
            by_location[codes[row.location_id]].append(times(row.quantity, row.unit_cost))
        return sorted(((code, exact(total(values))) for code, values in by_location.items()), key=lambda kv: (-kv[1], kv[0]))


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
