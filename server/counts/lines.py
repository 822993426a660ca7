"""A count line, as the `count` op writes it (server/ops/handlers.py hands it the part it checked): what was
counted next to what the server holds there — free and isolated stock, not installed nor scrapped — and the
unit cost of that stock; the line it recounts (the same item in the same count) is marked superseded, so the
latest line of each item is one indexed read (the op holds the change clock, or in a push chunk takes its
count's turn until it commits, then the clock: lines supersede in commit order)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from sqlalchemy import func, select, update

from server.counts.locks import active_count, check_line_in_scope
from server.counts.models import CountLine
from server.errors import TrackingMismatch
from server.models import InventoryRow, Location, Part, Tracking, canon, is_stock
from server.ops import args as a
from server.ops.stock import OpContext, new_id
from server.rules.money import EXACT, exact, times, total


async def record_line(ctx: OpContext, args: a.Count, part: Part, tracking: str, location: Location) -> UUID:
    if args.count_id is not None:
        await ctx.batch.take_turn(args.count_id)
        await check_line_in_scope(ctx.session, await active_count(ctx.session, args.count_id), location, part)
    if tracking == Tracking.serial:
        expected, cost = await _unit_here(ctx, args, part, location)
    else:
        expected, cost = await _stock_here(ctx, args, part, location)
    if args.count_id is not None:
        await ctx.session.execute(
            update(CountLine)
            .where(
                CountLine.count_id == args.count_id, CountLine.location_id == location.id, CountLine.part_id == part.id,
                CountLine.serial.is_(None) if args.serial is None else CountLine.serial == args.serial,
                CountLine.lot.is_(None) if args.lot is None else CountLine.lot == args.lot,
                CountLine.superseded.is_(False),
            )
            .values(superseded=True)
            .execution_options(synchronize_session=False)
        )
    line = CountLine(
        id=new_id(), op_id=ctx.op_id, count_id=args.count_id, part_id=part.id, location_id=location.id, tracking=tracking,
        serial=args.serial, lot=args.lot, counted_quantity=args.counted_quantity, expected_quantity=expected,
        unit_cost=cost, actor=ctx.actor.username, device_id=ctx.actor.device_id, version=ctx.version,
    )
    ctx.session.add(line)
    return line.id


async def _unit_here(ctx: OpContext, args: a.Count, part: Part, location: Location) -> tuple[int, Decimal | None]:
    """A serial: 1 expected if the unit is recorded here, free; a unit the server does not know is a find."""
    if args.counted_quantity > 1:
        raise TrackingMismatch("a serialized unit is counted 1 (found) or 0 (missing)", field="counted_quantity")
    unit = await ctx.find_unit(args.serial)
    if unit is None:
        return 0, None
    if unit.part_id != part.id:
        other = await ctx.session.get_one(Part, unit.part_id)
        raise TrackingMismatch(f"Serial {unit.serial} is a {other.part_number}, not a {part.part_number}", field="serial")
    here = unit.location_id == location.id and not unit.scrapped and unit.installed_in_id is None and unit.po_state is None
    return (unit.quantity if here else 0), unit.unit_cost


async def _stock_here(ctx: OpContext, args: a.Count, part: Part, location: Location) -> tuple[int, Decimal | None]:
    """A lot or untracked stock: the quantity there, and its quantity-weighted unit cost (its free and its
    isolated bucket, at most two rows: summed here, in Decimal, not by SQLite as floats)."""
    if (part.id, location.id) in ctx.lookups.complete:  # every bucket there is in the write batch's lookups
        rows = [ctx.lookups.buckets.get((part.id, args.lot, location.id, isolated, False)) for isolated in (False, True)]
        return _tally([(row.quantity, row.unit_cost) for row in rows if row is not None])
    await ctx.written()
    rows = (await ctx.session.execute(
        select(InventoryRow.quantity, InventoryRow.unit_cost).where(
            InventoryRow.part_id == part.id, InventoryRow.location_id == location.id,
            # not `serial IS NULL`: SQLite (no statistics) would answer it from the serial index, walking every
            # lot and untracked row inside the write lock; serials are never ''
            func.coalesce(InventoryRow.serial, "") == "",
            InventoryRow.lot.is_(None) if args.lot is None else InventoryRow.lot == args.lot,
            InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), is_stock(),
        )
    )).all()
    return _tally([(quantity, cost) for quantity, cost in rows])


def _tally(stock: list[tuple[int, Decimal | None]]) -> tuple[int, Decimal | None]:
    """(quantity, unit cost) rows: the total, and the unit cost weighted by the quantities that have one, to 6
    decimal places."""
    costed = [(quantity, cost) for quantity, cost in stock if cost is not None]
    costed_quantity = sum(quantity for quantity, _ in costed)
    value = total(times(quantity, cost) for quantity, cost in costed)
    average = exact(EXACT.divide(value, Decimal(costed_quantity))) if costed_quantity else None
    return canon(sum(quantity for quantity, _ in stock)), average
