"""Closing a quality issue with a disposition, in a write batch of its own (clock first): what the issue
isolated when it was opened — or, when it isolated nothing, what it names now — is

- `use_as_is`, `rework`: released (the isolation lifted, where it is now);
- `scrap`: scrapped where it is (the ledger's `on_hand` falls);
- `return_to_supplier`: moved to the supplier-return location (`SUPPLIER-RETURN`, made on first use,
  unavailable) and removed there: gone from stock — a unit stays findable, Removed, where it went.

Both take their cost from the part's layers, oldest first, with a usage record naming the issue (docs/costs.md),
as the `scrap` and `remove` ops do.

Each row is taken for at most what the issue recorded and what the row still holds: stock moved on or used
since is left alone. The movement log says what happened, the reason names the issue and the note.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.catalog import add_location
from server.models import Action, Location, Part, canon
from server.ops.assemblies import relocate_assembly
from server.ops.costs import consume
from server.ops.rows import Stock
from server.ops.stock import OpContext
from server.quality.models import Disposition, Issue, IssueStock
from server.quality.stock import named_rows, set_aside
from server.rules import quality as rules


async def issue_stock(ctx: OpContext, issue: Issue, part: Part) -> list[tuple[Stock, Any]]:
    """(row, quantity) the close acts on."""
    if issue.isolate:
        recorded = await ctx.session.execute(
            select(IssueStock.inventory_id, IssueStock.quantity).where(IssueStock.issue_id == issue.id)
            .order_by(IssueStock.id)
        )
        found = []
        for inventory_id, quantity in recorded:
            row = await ctx.row(inventory_id)
            usable = row.installed_in_id is None and not row.scrapped and row.po_state is None
            if usable and row.quantity > 0:
                found.append((row, min(quantity, row.quantity)))
        return found
    if issue.serial is not None:
        unit = await ctx.unit(issue.serial)
        free = unit.installed_in_id is None and not unit.scrapped and unit.quantity > 0 and unit.po_state is None
        return [(unit, 1)] if free else []
    location = await ctx.location_by_id(issue.location_id) if issue.location_id else None
    return [(row, row.quantity) for row in await named_rows(ctx, part, issue.lot, location, isolated=None)]


async def return_location(ctx: OpContext) -> Location:
    found = (await ctx.session.execute(select(Location).where(Location.code == rules.RETURN_LOCATION))).scalar_one_or_none()
    if found is None:
        found = await add_location(ctx.session, {"code": rules.RETURN_LOCATION, "name": "Returns to suppliers",
                                                 "available": False}, None, ctx.actor, ctx.version)
    ctx.lookups.locations[found.code] = ctx.lookups.locations_by_id[found.id] = found
    return found


async def dispose(ctx: OpContext, issue: Issue, part: Part, disposition: Disposition, note: str) -> list[dict[str, Any]]:
    """Carry out the disposition; what it did, row by row."""
    reason = f"issue {issue.number} closed: {disposition.value} — {note}"
    target = await return_location(ctx) if disposition == Disposition.return_to_supplier else None
    done: list[dict[str, Any]] = []
    for row, quantity in await issue_stock(ctx, issue, part):
        where = await ctx.location_by_id(row.location_id)
        if disposition in (Disposition.use_as_is, Disposition.rework):
            if not row.isolated:
                continue
            moved = await set_aside(ctx, part, row, quantity, isolated=False, reason=reason)
        else:
            moved = await _gone(ctx, part, row, quantity, where, target, reason)
            await consume(ctx, part, quantity, where, moved, reason=reason, reference=issue.number)
        done.append({"serial": moved.serial, "lot": moved.lot, "location": where.code, "quantity": quantity})
    return done


async def _gone(ctx: OpContext, part: Part, row: Stock, quantity: Any, where: Location, to: Location | None,
                reason: str) -> Stock:
    """Scrap `quantity` of the row where it is; or (`to`: returned to the supplier) move it there and remove it —
    a unit stays, Removed, at `to`; a lot or untracked quantity leaves its bucket."""
    if row.serial is not None:
        if to is None:
            row.scrapped = True
        else:
            await relocate_assembly(ctx, row, to)
            row.removed, row.quantity = True, 0
        row.version = ctx.version
        moved = row
    elif to is None:
        taken = await ctx.take(part, row.lot, where, quantity, isolated=row.isolated)
        moved = await ctx.put(part, row.lot, where, quantity, tracking=taken.tracking, like=taken, scrapped=True)
    else:
        moved = await ctx.take(part, row.lot, where, quantity, isolated=row.isolated)
    ctx.ledger(part, where.id, moved.lot, canon(-quantity), reason)
    ctx.log(Action.scrap if to is None else Action.remove, part, moved, quantity, from_location=where, to_location=to,
            reason=reason)
    return moved
