"""What `install` asks of production, which sits above the operations (server/production): whether the parent
unit's BOM takes the component. server/production provides the check when it is imported (the app and
server/schema.py import it); without it nothing is checked.

The check answers None (fine, or the parent has no BOM), raises `NotOnBom`, or — for an op a supervisor
approves (`ctx.approved`) — answers the deviation in words, which the install records in the activity log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.models import Part
from server.ops.rows import Stock
from server.ops.stock import OpContext
from server.rules.quantities import Number

BomCheck = Callable[[OpContext, Stock, Part, Number], Awaitable[str | None]]
_provided: list[BomCheck] = []


def provide(check: BomCheck) -> None:
    _provided[:] = [check]


async def check_bom(ctx: OpContext, parent: Stock, part: Part, quantity: Number) -> str | None:
    return await _provided[0](ctx, parent, part, quantity) if _provided else None
