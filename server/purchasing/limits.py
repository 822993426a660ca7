"""`above_max`: a receipt or move that lifts a location above its max is applied, and its result says so
(server/ops/ordering.py `with_warnings`).

A constraint covers its location's subtree, so an op that puts a part into a location may lift every
constraint on that location and on its parents: those of them that the op's source is not also below (a
move inside a subtree changes nothing there). Each part's maxima are read once per write transaction
(`Lookups.maxima`); a part without any costs that one query, and only a constrained location is summed —
its Available quantity of the part in its subtree, after the op (the stock rows written first).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from server.models import InventoryRow, Location, Part
from server.ops.stock import OpContext
from server.purchasing.models import StockConstraint
from server.queries import location_subtree
from server.rules.purchasing import above_max as lifted_above
from server.rules.status import Status, status_filter_sql


async def _maxima(ctx: OpContext, part: Part) -> dict[UUID, Any]:
    found = ctx.lookups.maxima.get(part.id)
    if found is None:
        rows = await ctx.session.execute(
            select(StockConstraint.location_id, StockConstraint.max_quantity)
            .where(StockConstraint.part_id == part.id, StockConstraint.max_quantity.is_not(None))
        )
        found = ctx.lookups.maxima[part.id] = dict(rows.tuples().all())
    return found


async def _chain(ctx: OpContext, location: Location | None) -> list[UUID]:
    chain: list[UUID] = []
    while location is not None:
        chain.append(location.id)
        location = await ctx.location_by_id(location.parent_id) if location.parent_id else None
    return chain


async def above_max(ctx: OpContext, part: Part, to: Location, source: Location | None, quantity: Any) -> bool:
    maxima = await _maxima(ctx, part)
    if not maxima:
        return False
    left = set(await _chain(ctx, source))
    lifted = [place for place in await _chain(ctx, to) if place in maxima and place not in left]
    if not lifted:
        return False
    await ctx.written()
    for place in lifted:
        available = await ctx.session.scalar(
            select(func.coalesce(func.sum(InventoryRow.quantity), 0))
            .join(Location, Location.id == InventoryRow.location_id)
            .where(InventoryRow.part_id == part.id, InventoryRow.location_id.in_(location_subtree(str(place))),
                   status_filter_sql(InventoryRow, Location, Status.available))
        )
        if lifted_above(available, maxima[place]):
            return True
    return False
