"""What the op handlers (server/ops/handlers.py, through server/ops/counting.py) ask of counts, inside the
op's transaction:

- a `count` op naming `count_id` records a line of that count: the count must be open (or in review, for
  recounts) and the line inside its scope — a location of a location count, the part of a part count;
- an `adjust` or `move` naming `count_id`, by a supervisor, may touch the locations that count closed
  (the SOP keeps a location closed until its adjustments are done); nobody else gets through the lock.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import ACTIVE, Count, CountKind, CountLocation
from server.errors import CountNotOpen, Invalid, NotFound
from server.models import Location, Part, Role
from server.ops.stock import OpContext


async def count_of(session: AsyncSession, count_id: UUID) -> Count:
    count = await session.get(Count, count_id)
    if count is None:
        raise NotFound(f"No count {count_id}", field="count_id")
    return count


async def active_count(session: AsyncSession, count_id: UUID) -> Count:
    count = await count_of(session, count_id)
    if count.status not in ACTIVE:
        raise CountNotOpen(f"Count {count.name} is {count.status}: it takes no count lines", field="count_id")
    return count


async def check_line_in_scope(session: AsyncSession, count: Count, location: Location, part: Part) -> None:
    """A line of a location count is at one of its locations; a line of a part count is of its part."""
    if count.kind == CountKind.part:
        if part.id != count.part_id:
            wanted = await session.scalar(select(Part.part_number).where(Part.id == count.part_id))
            raise Invalid(f"Count {count.name} counts {wanted}, not {part.part_number}", field="part")
        return
    covered = await session.scalar(
        select(CountLocation.id).where(CountLocation.count_id == count.id, CountLocation.location_id == location.id)
    )
    if covered is None:
        raise Invalid(f"{location.code} is not one of the locations of count {count.name}", field="location")


async def unlocked_by_count(session: AsyncSession, count_id: UUID) -> set[UUID]:
    """The locations an active count covers: an adjustment or move of that count may touch them while
    they are closed."""
    await active_count(session, count_id)
    rows = await session.scalars(select(CountLocation.location_id).where(CountLocation.count_id == count_id))
    return set(rows)


async def lift_count_lock(ctx: OpContext, count_id: UUID) -> None:
    """An adjust or move that settles a line of an active count, by a supervisor, may touch the locations
    that count closed (they stay closed until its adjustments are done). The count must exist."""
    count = await count_of(ctx.session, count_id)
    if count.status in ACTIVE and ctx.actor.at_least(Role.supervisor):
        ctx.unlocked |= await unlocked_by_count(ctx.session, count.id)
