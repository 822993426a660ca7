"""What ops do to cost layers and usage (docs/costs.md): a receipt adds a layer, held by the row the stock came to;
stock that leaves inventory takes the oldest layers of the row it leaves (FIFO within that stock,
server/ops/holdings.py) and leaves a usage record; a positive adjustment adds a layer at the part's average price.
The rules are server/rules/costs.py; this module loads what they read and writes what they decide.

Layers are written at once, in the op's transaction (its SAVEPOINT, when it has one: a refused op leaves none of
its layer changes), so that the next op of the same write batch reads them. Their order is the version of the op
that made them: a late push chunk (server/ops/batch.py) stamps provisional versions, below every real one, which
FIFO order puts after the real ones (they are the newest) until the batch shifts them to real versions. Such a
chunk takes its turn on the part (`take_turn`) before it reads the part's layers, so that two chunks beside each
other cost the same part one after the other, in commit order. Usage records go with the op's trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from server.models import Location, Part, UsageRecord
from server.ops.holdings import LAYERS, NEWEST_FIRST, hold, release
from server.ops.rows import Stock
from server.ops.stock import OpContext, new_id
from server.rules.costs import Consumption, Layer, fifo_take, moving_average
from server.rules.quantities import Number, canon

USAGE = UsageRecord.__table__
HELD = select(func.sum(LAYERS.c.quantity_remaining)).where(  # the open layers' index holds it all
    LAYERS.c.part_id == bindparam("part"), LAYERS.c.quantity_remaining > 0
)


def _newest_average(provisional: bool) -> Any:
    which = LAYERS.c.version < 0 if provisional else LAYERS.c.version >= 0
    return (select(LAYERS.c.average_price).where(LAYERS.c.part_id == bindparam("part"), which)
            .order_by(*NEWEST_FIRST).limit(1).scalar_subquery())


# The average price of the part's newest layer by FIFO order (server/ops/holdings.py): a late batch's provisional
# layers come last, so the newest of those if there are any, else the newest real one.
AVERAGE = select(func.coalesce(_newest_average(True), _newest_average(False)))
AVERAGE_AND_HELD = select(AVERAGE.scalar_subquery(), HELD.scalar_subquery())  # a priced receipt's: one statement
LOWER_REMAINING = (
    update(LAYERS).where(LAYERS.c.id == bindparam("layer"))
    .values(quantity_remaining=LAYERS.c.quantity_remaining - bindparam("taken"))
)


@dataclass(slots=True)
class PartCosts:
    """What a write transaction knows of a part's layers (`Lookups.costs`): read once, then kept as its own ops
    change them — no one else writes them meanwhile (the clock, or the part's turn, serialises writers). A
    rollback to a SAVEPOINT forgets it (`Lookups.forget_stock`)."""

    average: Decimal | None  # the newest layer's average price (None before the first layer)
    held: Number | None = None  # what the open layers hold (None: not read yet)


async def _turn(ctx: OpContext, part: Part) -> Any:
    await ctx.batch.take_turn(part.id)
    return await ctx.session.connection()


async def _known(ctx: OpContext, connection: Any, part: Part, *, held: bool = False) -> PartCosts:
    known = ctx.lookups.costs.get(part.id)
    if known is None or (held and known.held is None):
        if held:
            average, total = (await connection.execute(AVERAGE_AND_HELD, {"part": part.id})).one()
            known = PartCosts(average, total or 0)
        else:
            known = PartCosts((await connection.execute(AVERAGE, {"part": part.id})).scalar())
        ctx.lookups.costs[part.id] = known
    return known


async def average_price(ctx: OpContext, part: Part) -> Decimal | None:
    """The part's average price now: that of its newest layer (None before its first)."""
    connection = await _turn(ctx, part)
    return (await _known(ctx, connection, part)).average


async def layer_in(
    ctx: OpContext, part: Part, quantity: Number, unit_cost: Decimal | None, held_by: Stock, *, kind: str = "receipt",
    package_ref: str | None = None, po_line: str | None = None,
) -> dict[str, Any]:
    """A layer of `quantity` at `unit_cost` (None: at the part's average price, 0 without one), held by the row
    the stock came to. A receipt's cost moves the average price; a layer at the average leaves it as it is.
    Returns what the op's result says of it: the unit cost and the average price after it."""
    connection = await _turn(ctx, part)
    if unit_cost is None:
        average = (await _known(ctx, connection, part)).average
        unit_cost = average if average is not None else Decimal(0)
        after = unit_cost
    else:
        known = await _known(ctx, connection, part, held=True)
        after = moving_average(known.held, known.average, quantity, unit_cost)
    await _add_layer(ctx, connection, part, [(held_by, quantity)], unit_cost, after, kind, package_ref, po_line)
    return {"unit_cost": unit_cost, "average_price": after}


async def layer_without_cost(ctx: OpContext, part: Part, held_by: Sequence[tuple[Stock, Number]], kind: str) -> None:
    """One layer at 0 for stock whose value is elsewhere (docs/costs.md, "Built stock"): components a run built
    into its assemblies (`built_in`: their cost went into the assembly's layer), Made on Assembly components
    (`made`), held by the rows that hold them. The average price stays as it is."""
    if not held_by:
        return
    connection = await _turn(ctx, part)
    average = (await _known(ctx, connection, part)).average
    await _add_layer(ctx, connection, part, held_by, Decimal(0), Decimal(0) if average is None else average, kind)


async def _add_layer(
    ctx: OpContext, connection: Any, part: Part, held_by: Sequence[tuple[Stock, Number]], unit_cost: Decimal,
    average: Decimal, kind: str, package_ref: str | None = None, po_line: str | None = None,
) -> None:
    quantity = canon(sum((amount for _, amount in held_by), 0))
    layer_id = new_id()
    await connection.execute(insert(LAYERS), {
        "id": layer_id, "part_id": part.id, "op_id": ctx.op_id, "version": ctx.version, "kind": kind,
        "package_ref": package_ref, "po_line": po_line, "received_at": ctx.now, "quantity_received": quantity,
        "quantity_remaining": quantity, "unit_cost": unit_cost, "average_price": average,
    })
    await hold(connection, [(row.id, layer_id, amount) for row, amount in held_by])
    known = ctx.lookups.costs[part.id]  # read by the caller
    known.average = average
    if known.held is not None:
        known.held = canon(known.held + quantity)


async def consume(
    ctx: OpContext, part: Part, quantity: Number, location: Location, row: Stock, *, reason: str | None,
    reference: str | None = None,
) -> Consumption:
    """Take `quantity` that leaves `row` from the layers the row holds, oldest first, and write the usage record
    of it (where it left from, which unit or lot, why). Returns what FIFO took and its cost."""
    connection = await _turn(ctx, part)
    released = [Layer(held.layer_id, amount, held.unit_cost) for held, amount in await release(connection, row.id, quantity)]
    average = None
    if sum((layer.remaining for layer in released), 0) < quantity:  # stock older than its layers: at the average price
        average = (await _known(ctx, connection, part)).average
    used = fifo_take(released, quantity, average)
    if used.taken:
        await connection.execute(LOWER_REMAINING, [{"layer": piece.layer_id, "taken": piece.quantity} for piece in used.taken])
        known = ctx.lookups.costs.get(part.id)
        if known is not None and known.held is not None:
            known.held = canon(known.held - sum((piece.quantity for piece in used.taken), 0))
    ctx.trail.records.append((USAGE, {
        "id": new_id(), "op_id": ctx.op_id, "op_type": ctx.op_type, "part_id": part.id, "location_id": location.id,
        "serial": row.serial, "lot": row.lot, "quantity": quantity, "cost": used.cost, "reason": reason,
        "reference": reference, "actor": ctx.actor.username, "used_at": ctx.now,
    }))
    return used
