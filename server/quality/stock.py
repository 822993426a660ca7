"""The stock a quality issue names, and setting it aside or giving it back, inside an op's write batch
(server/ops/stock.py's OpContext): shared by opening an issue (server/quality/opening.py) and closing it
(server/quality/closing.py)."""

from __future__ import annotations

from typing import Any

from server.models import Action, Location, Part
from server.ops.rows import INVENTORY, SELECT_ROWS, Stock
from server.ops.stock import OpContext


async def named_rows(ctx: OpContext, part: Part, lot: str | None, location: Location | None, *,
                     isolated: bool | None = False) -> list[Stock]:
    """The stock rows of the part (of `lot`, at `location` when given) that are stock, in a location (not
    installed), not scrapped and not empty; isolated or not as `isolated` says (None: both)."""
    where = [
        INVENTORY.c.part_id == part.id, INVENTORY.c.po_state.is_(None), INVENTORY.c.installed_in_id.is_(None),
        INVENTORY.c.scrapped.is_(False), INVENTORY.c.quantity > 0,
    ]
    if isolated is not None:
        where.append(INVENTORY.c.isolated.is_(isolated))
    if lot is not None:
        where.append(INVENTORY.c.lot == lot)
    if location is not None:
        where.append(INVENTORY.c.location_id == location.id)
    return await ctx.load(SELECT_ROWS.where(*where).order_by(INVENTORY.c.id))


async def set_aside(ctx: OpContext, part: Part, row: Stock, quantity: Any, *, isolated: bool, reason: str) -> Stock:
    """Isolate (or release) `quantity` of a row where it is: a unit is flagged, a lot or untracked quantity moves
    to the isolated (or free) bucket there. The row the stock is in afterwards."""
    location = await ctx.location_by_id(row.location_id)
    if row.serial is not None:
        row.isolated = isolated
        row.isolation_reason = reason if isolated else None
        row.version = ctx.version
        moved = row
    else:
        taken = await ctx.take(part, row.lot, location, quantity, isolated=not isolated)
        moved = await ctx.put(part, row.lot, location, quantity, tracking=taken.tracking, like=taken, isolated=isolated,
                              isolation_reason=reason if isolated else None)
    ctx.log(Action.isolate if isolated else Action.release, part, moved, quantity, from_location=location, reason=reason)
    return moved
