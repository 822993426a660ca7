"""What ops ask of cycle counts, which sit above them (server/counts): the `count` op records a count line,
and a supervisor's `adjust` or `move` naming a count may touch the locations that count closed.

server/counts provides both when it is imported (server/counts/__init__.py, which also registers its count
lines as rows stamped with op versions: server/ops/batch.py `stamped`). The app imports it, and so does
everything that lists the tables (server/schema.py); a `count` op applied without it is a bug, said so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from server.models import Location, Part
from server.ops import args as a
from server.ops.stock import OpContext


@dataclass(frozen=True, slots=True)
class Counting:
    # (the op, its args, the part it checked, the tracking of the rows it names, the location) → the line's id
    record_line: Callable[[OpContext, a.Count, Part, str, Location], Awaitable[UUID]]
    # (the op, the count it names): the locations the count closed that this op may touch, in `ctx.unlocked`
    lift_lock: Callable[[OpContext, UUID], Awaitable[None]]


_provided: list[Counting] = []


def provide(counting: Counting) -> None:
    _provided[:] = [counting]


def _counting() -> Counting:
    if not _provided:
        raise RuntimeError("Cycle counts are not loaded: import server.counts before applying count ops")
    return _provided[0]


async def record_line(ctx: OpContext, args: a.Count, part: Part, tracking: str, location: Location) -> UUID:
    return await _counting().record_line(ctx, args, part, tracking, location)


async def lift_count_lock(ctx: OpContext, count_id: UUID | None) -> None:
    if count_id is not None:
        await _counting().lift_lock(ctx, count_id)
