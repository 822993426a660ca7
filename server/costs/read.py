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

from sqlalchemy import LargeBinary, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from server.db import Database
from server.db.codecs import id_as_text, money_text_raw, raw_money, raw_time, rfc3339
from server.costs.values import VALUE_COLUMNS, stock_values, value_of
from server.models import CostHolding, CostLayer, InventoryRow, Location, Part, UsageRecord
from server.ops.holdings import FIFO_ORDER
from server.queries import _id_or_key
from server.rules.money import exact, money_text, times, total

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

    def _key(self, column: Any) -> Any:
        """A part id as the database gives it: on SQLite its 16 bytes (made into a UUID by nobody: the valuation
        reads up to a row per part, and the conversion would cost more than the sums)."""
        return type_coerce(column, LargeBinary) if self.db.dialect == "sqlite" else column

    async def _values(self, connection: Any, location: str | None, part: str | None) -> dict[Any, tuple[Any, Decimal]]:
        """(quantity, FIFO value) per part held in the location's subtree (everywhere: in the top locations'), as
        the database keeps them (server/costs/values.py): one row per part."""
        kept = stock_values.c
        if location is None:
            where = kept.location_id.in_(select(Location.id).where(Location.parent_id.is_(None)))
        else:
            found = await connection.scalar(select(Location.id).where(_id_or_key(Location.code, Location.id, location)))
            if found is None:
                return {}
            where = kept.location_id == found
        query = (select(self._key(kept.part_id), func.sum(kept.quantity), *(func.sum(kept[c]) for c in VALUE_COLUMNS))
                 .where(where).group_by(kept.part_id))
        if part:
            query = query.where(kept.part_id.in_(select(Part.id).where(_id_or_key(Part.part_number, Part.id, part))))
        return {key: (quantity, value_of(limbs)) for key, quantity, *limbs in await connection.execute(query) if quantity}

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
            value[here] = value.get(here, Decimal(0)) - sum((v for k, v in value.items() if k != here), Decimal(0))
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
