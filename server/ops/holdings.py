"""Where a part's cost layers are (docs/costs.md, "Where a delivery is"): which stock row holds how much of
which layer (`cost_holdings`). Stock rows move quantities between them (server/ops/stock.py `take` / `put`);
the quantity carries its layers with it, the row's oldest first: `hand_over`. server/ops/costs.py makes
holdings (a receipt's layer is held by the row it made or grew) and takes them (stock that leaves a row takes
that row's oldest layers).

Written at once, in the op's transaction (its SAVEPOINT, when it has one: a refused op leaves none of its
holding changes), so that the next op of the same write batch reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, case, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from uuid_utils.compat import uuid7

from server.models import CostHolding, CostLayer
from server.rules.costs import Held, take_oldest
from server.rules.quantities import Number, canon

LAYERS = CostLayer.__table__
HOLDINGS = CostHolding.__table__
# FIFO order: by the version of the op that made the layer, provisional versions (a late batch's own) last
FIFO_ORDER = (case((LAYERS.c.version < 0, 1), else_=0), LAYERS.c.version, LAYERS.c.id)
# Newest first among the real versions, or among a late batch's provisional ones: the index on (part, version)
# walked backwards, where sorting by FIFO order itself reads all the part's layers. A read outside the batch sees
# no provisional version (they are not committed), so its newest by FIFO order is this one's first.
NEWEST_FIRST = (LAYERS.c.version.desc(), LAYERS.c.id.desc())
HELD_BY = (
    select(HOLDINGS.c.id, HOLDINGS.c.layer_id, HOLDINGS.c.quantity, LAYERS.c.unit_cost)
    .join(LAYERS, LAYERS.c.id == HOLDINGS.c.layer_id)
    .where(HOLDINGS.c.inventory_id == bindparam("row"))
    .order_by(*FIFO_ORDER)
)
SET_HELD = update(HOLDINGS).where(HOLDINGS.c.id == bindparam("holding")).values(quantity=bindparam("left"))
DROP_HELD = delete(HOLDINGS).where(HOLDINGS.c.id == bindparam("holding"))
# The upsert `hold` runs, as SQL text both engines read alike: SQLAlchemy's ON CONFLICT statements have no cache
# key, so each run compiled it anew — a third of a receipt's time.
_HELD_COLUMNS = ("id", "layer_id", "inventory_id", "quantity", "created_at", "updated_at")
ADD_HELD = text(
    f"INSERT INTO cost_holdings ({', '.join(_HELD_COLUMNS)}) VALUES ({', '.join(f':{c}' for c in _HELD_COLUMNS)}) "
    "ON CONFLICT (layer_id, inventory_id) DO UPDATE SET quantity = cost_holdings.quantity + excluded.quantity"
).bindparams(*(bindparam(column, type_=HOLDINGS.c[column].type) for column in _HELD_COLUMNS))


async def held_by(connection: AsyncConnection, row_id: UUID) -> list[Held]:
    """The layers a row holds, oldest first."""
    found = await connection.execute(HELD_BY, {"row": row_id})
    return [Held(h.id, h.layer_id, h.quantity, h.unit_cost) for h in found]


async def release(connection: AsyncConnection, row_id: UUID, quantity: Number) -> list[tuple[Held, Number]]:
    """Take `quantity` of the row's holdings, oldest first: (holding, how much of it), what the row held of it
    lowered (dropped when none is left). Less when the row holds less."""
    taken = take_oldest(await held_by(connection, row_id), quantity)
    emptied = [{"holding": held.id} for held, amount in taken if amount == held.quantity]
    lowered = [{"holding": held.id, "left": canon(held.quantity - amount)} for held, amount in taken if amount != held.quantity]
    if emptied:
        await connection.execute(DROP_HELD, emptied)
    if lowered:
        await connection.execute(SET_HELD, lowered)
    return taken


async def hold(connection: AsyncConnection, pieces: Sequence[tuple[UUID, Any, Number]]) -> None:
    """Rows hold more of layers (`pieces`: row id, layer id, quantity): added to what each holds of each."""
    now = datetime.now(UTC)
    rows = [{"id": uuid7(), "inventory_id": row_id, "layer_id": layer_id, "quantity": amount, "created_at": now,
             "updated_at": now} for row_id, layer_id, amount in pieces if amount]
    if rows:
        await connection.execute(ADD_HELD, rows)


async def hand_over(connection: AsyncConnection, source_id: UUID, target_id: UUID, quantity: Number) -> None:
    """`quantity` moved from one row to another takes the source's oldest layers with it."""
    if source_id == target_id:
        return
    taken = await release(connection, source_id, quantity)
    await hold(connection, [(target_id, held.layer_id, amount) for held, amount in taken])
