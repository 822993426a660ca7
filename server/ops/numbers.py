"""Serial and lot numbers generated from a part's pattern, never repeating.

The counter row for the pattern's scope is incremented inside the op's transaction (its row lock
serialises concurrent receipts on PostgreSQL; SQLite serialises writers anyway). A number that already
exists — say a supplier's serial that happens to match — is skipped, not reused.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select

from server.clock import bump_counter
from server.errors import Invalid
from server.models import InventoryRow, Part
from server.ops.stock import OpContext
from server.rules.patterns import expand


async def next_number(ctx: OpContext, part: Part, kind: Literal["serial", "lot"]) -> str:
    pattern = part.serial_pattern if kind == "serial" else part.lot_pattern
    if not pattern:
        raise Invalid(f"{part.part_number} has no {kind} pattern: give the {kind}", field=kind)
    expanded = expand(pattern, part=part.part_number, revision=part.revision, now=ctx.now)
    column = InventoryRow.serial if kind == "serial" else InventoryRow.lot
    await ctx.written()  # the numbers this transaction's ops gave already count
    while True:
        number = expanded.render(await bump_counter(ctx.session, f"{kind}:{expanded.scope}"))
        if len(number) > column.type.length:
            raise Invalid(
                f"{part.part_number}'s {kind} pattern makes {number[:20]}…, longer than {column.type.length}"
                f" characters: shorten the pattern or give the {kind}",
                field=kind,
            )
        taken = exists().where(column == number)
        if kind == "lot":
            taken = taken.where(InventoryRow.part_id == part.id)
        if not await ctx.session.scalar(select(taken)):
            return number
