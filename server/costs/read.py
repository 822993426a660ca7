"""What stock is worth and what was used (docs/costs.md): the FIFO report (cost layers, oldest first), usage
records for a period, and the valuation per part — read-only queries; server/ops/costs.py writes the layers.

Money sums are made in Python, in Decimal (SQLite holds money as text: server/models.py `Money`). A location's
share of a part's FIFO value is its quantity × the part's FIFO value / the part's quantity held: layers are per
part, not per place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.db.codecs import id_as_text, money_text_raw, raw_money, raw_time, rfc3339
from server.models import CostLayer, InventoryRow, Location, Part, UsageRecord, is_stock
from server.ops.costs import FIFO_ORDER
from server.queries import _id_or_key, location_subtree
from server.rules.costs import Layer, fifo_value, share_of
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
        return items, int(count or 0)

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

    async def _part_costs(self, session: Any, part_ids: set[Any] | None) -> tuple[dict[Any, list[Layer]], dict[Any, Decimal]]:
        """Open layers and the average price of each part (of `part_ids`, or all)."""
        layers_of: dict[Any, list[Layer]] = defaultdict(list)
        open_layers = select(CostLayer.part_id, CostLayer.id, CostLayer.quantity_remaining, CostLayer.unit_cost).where(
            CostLayer.quantity_remaining > 0
        )
        newest = select(CostLayer.part_id, func.max(CostLayer.version).label("version")).group_by(CostLayer.part_id)
        if part_ids is not None:
            open_layers = open_layers.where(CostLayer.part_id.in_(part_ids))
            newest = newest.where(CostLayer.part_id.in_(part_ids))
        for row in await session.execute(open_layers):
            layers_of[row.part_id].append(Layer(row.id, row.quantity_remaining, row.unit_cost))
        newest_sq = newest.subquery()
        averages = select(CostLayer.part_id, CostLayer.average_price).join(
            newest_sq, (newest_sq.c.part_id == CostLayer.part_id) & (newest_sq.c.version == CostLayer.version)
        )
        average_of = {row.part_id: row.average_price for row in await session.execute(averages)}
        return layers_of, average_of

    async def _held(self, session: Any, location: str | None, part: str | None, by_location: bool) -> list[Any]:
        columns = [InventoryRow.part_id, *([InventoryRow.location_id] if by_location else [])]
        query = select(*columns, func.sum(InventoryRow.quantity).label("quantity")).where(*held())
        if location:
            query = query.where(InventoryRow.location_id.in_(location_subtree(location)))
        if part:
            query = query.where(InventoryRow.part_id.in_(select(Part.id).where(_id_or_key(Part.part_number, Part.id, part))))
        return list(await session.execute(query.group_by(*columns)))

    async def valuation(self, location: str | None = None, part: str | None = None) -> dict[str, Any]:
        """Per part (of the location subtree, or everywhere): quantity held, FIFO value, average price, average
        value; and the totals, with the currency."""
        async with self.db.read() as session:
            sums = await self._held(session, location, part, by_location=False)
            parts = {row.part_id: row.quantity for row in sums}
            layers_of, average_of = await self._part_costs(session, set(parts) if (location or part) else None)
            names = {row.id: row for row in await session.execute(
                select(Part.id, Part.part_number, Part.description, Part.unit).where(Part.id.in_(parts))
            )} if parts else {}
        items = []
        for part_id, quantity in parts.items():
            layers = layers_of.get(part_id, [])
            part_quantity = sum((layer.remaining for layer in layers), 0)
            value = share_of(fifo_value(layers), part_quantity, quantity) if part_quantity else exact(Decimal(0))
            average = average_of.get(part_id)
            info = names[part_id]
            items.append({
                "part": info.part_number, "description": info.description, "unit": info.unit, "quantity": quantity,
                "fifo_value": value, "average_price": average,
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
        """FIFO value held per location (of the subtree), highest first."""
        async with self.db.read() as session:
            sums = await self._held(session, location, None, by_location=True)
            layers_of, _ = await self._part_costs(session, {row.part_id for row in sums} if location else None)
            codes = dict((await session.execute(select(Location.id, Location.code))).all()) if sums else {}
        fifo: dict[Any, tuple[Any, Decimal]] = {}
        for part_id, layers in layers_of.items():
            fifo[part_id] = (sum((layer.remaining for layer in layers), 0), fifo_value(layers))
        by_location: dict[str, list[Decimal]] = defaultdict(list)
        for row in sums:
            part_quantity, value = fifo.get(row.part_id, (0, Decimal(0)))
            by_location[codes[row.location_id]].append(share_of(value, part_quantity, row.quantity))
        return sorted(((code, exact(total(values))) for code, values in by_location.items()), key=lambda kv: (-kv[1], kv[0]))
