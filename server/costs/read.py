"""What stock is worth and what was used (docs/costs.md): the FIFO report (cost layers, oldest first), usage
records for a period, and the valuation per part — read-only queries; server/ops/costs.py writes the layers.

A location's FIFO value is what the rows in its subtree hold of each layer (`cost_holdings`), exactly: the
database keeps it per part and location subtree (server/costs/values.py), so a valuation reads a row per part.
Other money sums are made in Python, in Decimal (SQLite holds money as text: server/models.py `Money`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from server.db import Database
from server.db.codecs import id_as_text, money_millionths, money_text_raw, raw_money, raw_time, rfc3339
from server.costs.values import VALUE_COLUMNS, picounits, stock_values, value_of
from server.models import CostHolding, CostLayer, InventoryRow, Location, Part, UsageRecord, to_scaled
from server.ops.holdings import FIFO_ORDER, NEWEST_FIRST
from server.queries import _id_or_key
from server.rules.money import EXACT, SCALE, exact, millionths_text, money_text, rounded, times, total

STREAM_ROWS = 5000  # usage records read per batch for the CSV
USAGE_CSV_COLUMNS = ["used_at", "op_type", "part", "location", "serial", "lot", "quantity", "cost", "reason",
                     "reference", "actor", "op_id"]


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

    async def _held(self, session: Any, location: str | None, part: str | None) -> list[Any]:
        """Per part held in the location's subtree (everywhere: in the top locations'): its number, description and
        unit, the quantity and FIFO value's five integers as the database keeps them (server/costs/values.py), and
        its average price, raw (its newest layer's) — one query, a row per
        part, whatever the subtree's size."""
        kept = stock_values.c
        if location is None:
            where = kept.location_id.in_(select(Location.id).where(Location.parent_id.is_(None)))
        else:
            found = await session.scalar(select(Location.id).where(_id_or_key(Location.code, Location.id, location)))
            if found is None:
                return []
            where = kept.location_id == found
        sums = select(kept.part_id, func.sum(kept.quantity).label("quantity"),
                      *(func.sum(kept[c]).label(c) for c in VALUE_COLUMNS)).where(where).group_by(kept.part_id)
        if part:
            sums = sums.where(kept.part_id.in_(select(Part.id).where(_id_or_key(Part.part_number, Part.id, part))))
        sums = sums.subquery()
        average = (select(raw_money(session, CostLayer.average_price)).where(CostLayer.part_id == Part.id)
                   .order_by(*NEWEST_FIRST).limit(1).scalar_subquery())
        query = select(Part.part_number, Part.description, Part.unit, sums.c.quantity, average,
                       *(sums.c[c] for c in VALUE_COLUMNS)).join(sums, sums.c.part_id == Part.id)
        return [row for row in (await (await session.connection()).execute(query)).all() if row[3]]

    async def valuation(self, location: str | None = None, part: str | None = None) -> dict[str, Any]:
        """Per part (of the location subtree, or everywhere): quantity held, FIFO value, average price, average
        value; and the totals, with the currency. Each amount rounded to 6 places as `exact` does, in integers of
        millionths (the same figures as in Decimal, at a fraction of the CPU: a site holds thousands of parts)."""
        async with self.db.read() as session:
            held = await self._held(session, location, part)
        items, fifo_total, average_total = [], 0, 0
        for number, description, unit, quantity, average, *limbs in held:
            fifo = rounded(picounits(limbs), SCALE)  # picounits to millionths
            fifo_total += fifo
            item = {"part": number, "description": description, "unit": unit, "quantity": quantity,
                    "fifo_value": millionths_text(fifo), "average_price": None, "average_value": None}
            if average is not None:
                price = money_millionths(average)
                value = rounded(to_scaled(quantity) * price, SCALE)  # millionths × millionths
                average_total += value
                item |= {"average_price": millionths_text(price), "average_value": millionths_text(value)}
            items.append(item)
        items.sort(key=lambda item: item["part"])
        return {"items": items, "fifo_value": millionths_text(fifo_total),
                "average_value": millionths_text(average_total), "currency": self.currency}

    async def value_by_location(self, location: str | None = None) -> list[tuple[str, Decimal]]:
        """FIFO value held by location, highest first: each location directly in the given one (everywhere: each
        top location) with its subtree, and the given location's own rows under its own code."""
        kept = stock_values.c
        async with self.db.read() as session:
            connection = await session.connection()
            here = None
            if location is not None:
                here = await connection.scalar(select(Location.id).where(_id_or_key(Location.code, Location.id, location)))
                if here is None:
                    return []
            places = dict((await connection.execute(
                select(Location.id, Location.code).where(
                    Location.parent_id.is_(None) if here is None else or_(Location.id == here, Location.parent_id == here))
            )).all())
            sums = await connection.execute(
                select(kept.location_id, *(func.sum(kept[c]) for c in VALUE_COLUMNS))
                .where(kept.location_id.in_(list(places))).group_by(kept.location_id)
            )
            value = {location_id: value_of(limbs) for location_id, *limbs in sums}
        if here is not None:  # the location's own rows: its subtree but for the locations in it
            value[here] = EXACT.subtract(value.get(here, Decimal(0)), total(v for k, v in value.items() if k != here))
        found = [(places[key], exact(amount)) for key, amount in value.items() if amount]
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
