"""What ops do to cost layers and usage (docs/costs.md): a receipt adds a layer, stock that leaves inventory takes
the oldest layers first (FIFO) and leaves a usage record, a positive adjustment adds a layer at the part's average
price. The rules are server/rules/costs.py; this module loads what they read and writes what they decide.

Layers are written at once, in the op's transaction (its SAVEPOINT, when it has one: a refused op leaves none of
its layer changes), so that the next op of the same write batch reads them. Their order is the version of the op
that made them: a late push chunk (server/ops/batch.py) stamps provisional versions, below every real one, which
FIFO order puts after the real ones (they are the newest) until the batch shifts them to real versions. Such a
chunk takes its turn on the part (`take_turn`) before it reads the part's layers, so that two chunks beside each
other cost the same part one after the other, in commit order. Usage records go with the op's trail.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update

from server.models import CostLayer, Location, Part, UsageRecord
from server.ops.rows import Stock
from server.ops.stock import OpContext, new_id
from server.rules.costs import Consumption, Layer, fifo_take, moving_average
from server.rules.quantities import Number

LAYERS = CostLayer.__table__
USAGE = UsageRecord.__table__
# FIFO order: by the version of the op that made the layer, provisional versions (a late batch's own) last
FIFO_ORDER = (case((LAYERS.c.version < 0, 1), else_=0), LAYERS.c.version, LAYERS.c.id)
OPEN_LAYERS = (
    select(LAYERS.c.id, LAYERS.c.quantity_remaining, LAYERS.c.unit_cost)
    .where(LAYERS.c.part_id == bindparam("part"), LAYERS.c.quantity_remaining > 0)
    .order_by(*FIFO_ORDER)
)
HELD = select(func.sum(LAYERS.c.quantity_remaining)).where(  # the open layers' index holds it all
    LAYERS.c.part_id == bindparam("part"), LAYERS.c.quantity_remaining > 0
)
AVERAGE = (
    select(LAYERS.c.average_price).where(LAYERS.c.part_id == bindparam("part"))
    .order_by(*(column.desc() for column in FIFO_ORDER)).limit(1)
)
SET_REMAINING = (
    update(LAYERS).where(LAYERS.c.id == bindparam("layer")).values(quantity_remaining=bindparam("left"))
)


async def _turn(ctx: OpContext, part: Part) -> Any:
    await ctx.batch.take_turn(part.id)
    return await ctx.session.connection()


async def average_price(ctx: OpContext, part: Part) -> Decimal | None:
    """The part's average price now: that of its newest layer (None before its first)."""
    connection = await _turn(ctx, part)
    return (await connection.execute(AVERAGE, {"part": part.id})).scalar()


async def layer_in(
    ctx: OpContext, part: Part, quantity: Number, unit_cost: Decimal | None, *, kind: str = "receipt",
    package_ref: str | None = None, po_line: str | None = None,
) -> dict[str, Any]:
    """A layer of `quantity` at `unit_cost` (None: at the part's average price, 0 without one). A receipt's
    cost moves the average price; a layer at the average leaves it as it is. Returns what the op's result
    says of it: the unit cost and the average price after it."""
    connection = await _turn(ctx, part)
    average = (await connection.execute(AVERAGE, {"part": part.id})).scalar()
    if unit_cost is None:
        unit_cost = average if average is not None else Decimal(0)
        after = unit_cost
    else:
        held = (await connection.execute(HELD, {"part": part.id})).scalar() or 0
        after = moving_average(held, average, quantity, unit_cost)
    await connection.execute(insert(LAYERS), {
        "id": new_id(), "part_id": part.id, "op_id": ctx.op_id, "version": ctx.version, "kind": kind,
        "package_ref": package_ref, "po_line": po_line, "received_at": ctx.now, "quantity_received": quantity,
        "quantity_remaining": quantity, "unit_cost": unit_cost, "average_price": after,
    })
    return {"unit_cost": unit_cost, "average_price": after}


async def consume(
    ctx: OpContext, part: Part, quantity: Number, location: Location, row: Stock, *, reason: str | None,
    reference: str | None = None,
) -> Consumption:
    """Take `quantity` of the part from its layers, oldest first, and write the usage record of it (where it
    left from, which unit or lot, why). Returns what FIFO took and its cost."""
    connection = await _turn(ctx, part)
    found = (await connection.execute(OPEN_LAYERS, {"part": part.id})).all()
    layers = [Layer(layer.id, layer.quantity_remaining, layer.unit_cost) for layer in found]
    average = None
    if sum(layer.remaining for layer in layers) < quantity:  # stock older than its layers: at the average price
        average = (await connection.execute(AVERAGE, {"part": part.id})).scalar()
    used = fifo_take(layers, quantity, average)
    if used.taken:
        await connection.execute(SET_REMAINING, [{"layer": piece.layer_id, "left": piece.left} for piece in used.taken])
    ctx.trail.records.append((USAGE, {
        "id": new_id(), "op_id": ctx.op_id, "op_type": ctx.op_type, "part_id": part.id, "location_id": location.id,
        "serial": row.serial, "lot": row.lot, "quantity": quantity, "cost": used.cost, "reason": reason,
        "reference": reference, "actor": ctx.actor.username, "used_at": ctx.now,
    }))
    return used
