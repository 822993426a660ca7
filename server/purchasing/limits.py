"""`above_max`: a receipt or move that lifts a location above its max is applied, and its result says so
(server/ops/ordering.py `with_warnings`).

A constraint covers its location's subtree, so an op that puts a part into a location may lift every
constraint on that location and on its parents: those of them that the op's source is not also below (a
move inside a subtree changes nothing there). Each part's maxima are read once per write transaction
(`Lookups.maxima`; a push chunk reads those of all its parts in one query, `load_maxima`); a part without any
costs nothing more, and only a constrained location is summed — its Available quantity of the part in its
subtree, after the op (the stock rows written first).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import InventoryRow, Location, Part
from server.ops.batch import IN_BATCH
from server.ops.stock import Lookups, OpContext
from server.purchasing.models import StockConstraint
from server.queries import location_subtree
from server.rules.purchasing import above_max as lifted_above
from server.rules.status import Status, status_filter_sql


MAXIMA_OF = select(StockConstraint.part_id, StockConstraint.location_id, StockConstraint.max_quantity).where(
    StockConstraint.part_id.in_(bindparam("parts", expanding=True)), StockConstraint.max_quantity.is_not(None)
)


async def load_maxima(session: AsyncSession, lookups: Lookups, part_ids: Collection[UUID]) -> None:
    """The maxima of these parts (none: an empty dict), in one query: a push chunk's parts, read ahead."""
    wanted = [part_id for part_id in part_ids if part_id not in lookups.maxima]
    for start in range(0, len(wanted), IN_BATCH):
        batch = wanted[start : start + IN_BATCH]
        for part_id in batch:
            lookups.maxima[part_id] = {}
        for part_id, location_id, most in await session.execute(MAXIMA_OF, {"parts": batch}):
            lookups.maxima[part_id][location_id] = most


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
