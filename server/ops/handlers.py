"""What each operation does to stock. One handler per op type; each runs inside the caller's
transaction, raises a DomainError (nothing written survives) or returns the op's result.

Conventions: on-hand stock is what sits in a location, not scrapped and not installed; every change of
it writes a signed ledger entry for (part, location, lot), and every op writes movement-log lines.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from server.counts.lines import record_line
from server.counts.locks import lift_count_lock
from server.errors import (
    AlreadyInstalled,
    DuplicateSerial,
    Forbidden,
    InsufficientQuantity,
    Invalid,
    StaleLocation,
    TrackingMismatch,
)
from server.models import Action, Location, Part, Role, Tracking
from server.ops import args as a
from server.ops.numbers import next_number
from server.ops.rows import INVENTORY, Stock
from server.ops.assemblies import ancestors, relocate_assembly
from server.ops.stock import OpContext, check_unlocked
from server.rules.tracking import check_declared, check_item_args

Result = dict[str, Any]


async def apply_args(ctx: OpContext, args: a.Args) -> Result:
    return await HANDLERS[type(args)](ctx, args)


# ---- shared steps -------------------------------------------------------------------------------
async def item_part(ctx: OpContext, args: a.ItemArgs) -> tuple[Part, str]:
    """The part, checked against the device's belief, and the tracking of the rows the op names.

    A part switched from untracked keeps its old untracked rows: naming neither serial nor lot
    addresses them.
    """
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    if args.serial is not None or args.lot is not None:
        quantity = getattr(args, "quantity", None)
        check_item_args(part.tracking, serial=args.serial, lot=args.lot, quantity=quantity, lot_allowed_on_serial=False)
        return part, Tracking.serial if args.serial is not None else Tracking.lot
    if part.tracking != Tracking.untracked and not await _has_untracked_rows(ctx, part):
        missing = "serial" if part.tracking == Tracking.serial else "lot"
        raise TrackingMismatch(f"{part.part_number} is {part.tracking}-tracked: name the {missing}", field=missing)
    return part, Tracking.untracked


async def _has_untracked_rows(ctx: OpContext, part: Part) -> bool:
    await ctx.written()
    query = select(exists().where(INVENTORY.c.part_id == part.id, INVENTORY.c.tracking == Tracking.untracked))
    return bool(await ctx.session.scalar(query))


async def unit_of(ctx: OpContext, part: Part, serial: str) -> Stock:
    unit = await ctx.unit(serial)
    await check_same_part(ctx, unit, part)
    return unit


async def check_same_part(ctx: OpContext, unit: Stock, part: Part) -> None:
    if unit.part_id != part.id:
        other = await ctx.session.get_one(Part, unit.part_id)
        raise TrackingMismatch(
            f"Serial {unit.serial} is a {other.part_number}, not a {part.part_number}", field="serial"
        )


async def usable_unit_at(ctx: OpContext, unit: Stock, location: Location | None, *, isolated_ok: bool) -> None:
    """The unit must be free stock (not installed, scrapped or written off), at `location` if given."""
    if unit.installed_in_id is not None:
        parent = await ctx.row(unit.installed_in_id)
        raise StaleLocation(f"{unit.serial} is installed in {parent.serial}: uninstall it first", field="serial")
    if unit.scrapped or unit.quantity == 0:
        state = "scrapped" if unit.scrapped else "written off"
        raise InsufficientQuantity(f"{unit.serial} is {state}", field="serial", available=0)
    if unit.isolated and not isolated_ok:
        raise InsufficientQuantity(f"{unit.serial} is isolated: release it first", field="serial", available=0)
    if location is not None and unit.location_id != location.id:
        actual = await ctx.location_by_id(unit.location_id)
        raise StaleLocation(
            f"{unit.serial} is at {actual.code}, not {location.code}", field="serial", actual_location=actual.code
        )


def row_result(row: Stock, part: Part, location: Location, **extra: Any) -> Result:
    return {
        "inventory_id": str(row.id),
        "part": part.part_number,
        "serial": row.serial,
        "lot": row.lot,
        "quantity": row.quantity,
        "location": location.code,
        **extra,
    }


# ---- handlers -----------------------------------------------------------------------------------
async def receive(ctx: OpContext, args: a.Receive) -> Result:
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    check_item_args(part.tracking, serial=args.serial, lot=args.lot, quantity=args.quantity, lot_allowed_on_serial=True)
    location = await ctx.location(args.location)
    supplier = await ctx.supplier(args.supplier) if args.supplier else None
    lot = args.lot
    if part.tracking == Tracking.lot and lot is None:
        lot = await next_number(ctx, part, "lot")
    if part.tracking == Tracking.serial:
        serial = args.serial or await next_number(ctx, part, "serial")
        await _refuse_existing_serial(ctx, serial)
        row = ctx.new_unit(part, location, serial, lot=lot, unit_cost=args.unit_cost)
    else:
        row = await ctx.put(part, lot, location, args.quantity, tracking=part.tracking, unit_cost=args.unit_cost)
    row.supplier_id = supplier.id if supplier else row.supplier_id
    row.package_ref = args.package_ref or row.package_ref
    row.po_line = args.po_line or row.po_line
    ctx.ledger(part, location.id, lot, args.quantity)
    ctx.log(Action.add, part, row, args.quantity, lot=lot, to_location=location)
    return row_result(row, part, location, received=args.quantity)


async def _refuse_existing_serial(ctx: OpContext, serial: str) -> None:
    existing = await ctx.find_unit(serial)
    if existing is not None:
        where = await ctx.location_by_id(existing.location_id)
        received = existing.created_at or ctx.now  # made in this transaction: the database gave it its time
        raise DuplicateSerial(
            f"Serial {serial} already exists (received {received:%Y-%m-%d} into {where.code})",
            field="serial",
            existing_inventory_id=str(existing.id),
        )


async def move(ctx: OpContext, args: a.Move) -> Result:
    part, tracking = await item_part(ctx, args)
    await lift_count_lock(ctx, args.count_id)
    source = await ctx.location(args.from_location, field_name="from_location")
    target = await ctx.location(args.to_location, field_name="to_location")
    if source.id == target.id:
        raise Invalid("from_location and to_location are the same", field="to_location")
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, source, isolated_ok=True)
        await relocate_assembly(ctx, row, target)
    else:
        taken = await ctx.take(part, args.lot, source, args.quantity, isolated=args.isolated)
        row = await ctx.put(
            part, args.lot, target, args.quantity, tracking=taken.tracking, like=taken,
            isolated=args.isolated, isolation_reason=taken.isolation_reason,
        )
    ctx.ledger(part, source.id, row.lot, -args.quantity)
    ctx.ledger(part, target.id, row.lot, args.quantity)
    ctx.log(Action.move, part, row, args.quantity, from_location=source, to_location=target)
    extra = {"count_id": str(args.count_id)} if args.count_id else {}
    return row_result(row, part, target, moved=args.quantity, **extra)


async def install(ctx: OpContext, args: a.Install) -> Result:
    parent = await ctx.unit(args.parent_serial, field_name="parent_serial")
    if parent.scrapped or parent.quantity == 0:
        raise StaleLocation(f"Parent unit {parent.serial} is scrapped or written off", field="parent_serial")
    part, tracking = await item_part(ctx, args)
    at = await ctx.location_by_id(parent.location_id)
    check_unlocked(at, "parent_serial")
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        if row.id in await ancestors(ctx, parent):
            raise Invalid(f"Installing {row.serial} into {parent.serial} would put a unit inside itself", field="serial")
        if row.installed_in_id is not None:
            holder = await ctx.row(row.installed_in_id)
            raise AlreadyInstalled(f"{row.serial} is already installed in {holder.serial}", field="serial")
        source = await ctx.location_by_id(row.location_id)
        named = await ctx.location(args.from_location, field_name="from_location") if args.from_location else None
        await usable_unit_at(ctx, row, named, isolated_ok=False)
        check_unlocked(source, "serial")
        row.installed_in_id = parent.id
        ctx.lookups.installed(parent.id, row)
        await relocate_assembly(ctx, row, at)
    else:
        source = await ctx.location(args.from_location, field_name="from_location") if args.from_location else at
        taken = await ctx.take(part, args.lot, source, args.quantity)
        row = await ctx.put(part, args.lot, at, args.quantity, tracking=taken.tracking, like=taken, installed_in=parent)
    ctx.ledger(part, source.id, row.lot, -args.quantity)
    ctx.log(Action.assemble, part, row, args.quantity, from_location=source, parent_serial=parent.serial)
    return row_result(row, part, at, installed_in=parent.serial)


async def uninstall(ctx: OpContext, args: a.Uninstall) -> Result:
    parent = await ctx.unit(args.parent_serial, field_name="parent_serial")
    part, tracking = await item_part(ctx, args)
    at = await ctx.location_by_id(parent.location_id)
    check_unlocked(at, "parent_serial")
    target = await ctx.location(args.to_location, field_name="to_location")
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        if row.installed_in_id != parent.id:
            raise StaleLocation(f"{row.serial} is not installed in {parent.serial}", field="serial")
        row.installed_in_id = None
        ctx.lookups.uninstalled(parent.id, row)
        await relocate_assembly(ctx, row, target)
    else:
        taken = await ctx.take(part, args.lot, at, args.quantity, installed_in=parent)
        row = await ctx.put(part, args.lot, target, args.quantity, tracking=taken.tracking, like=taken)
    ctx.ledger(part, target.id, row.lot, args.quantity)
    ctx.log(Action.disassemble, part, row, args.quantity, to_location=target, parent_serial=parent.serial)
    return row_result(row, part, target, removed_from=parent.serial)


async def scrap(ctx: OpContext, args: a.Scrap) -> Result:
    part, tracking = await item_part(ctx, args)
    location = await ctx.location(args.location)
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, location, isolated_ok=True)
        row.scrapped = True
        row.version = ctx.version
    else:
        taken = await ctx.take(part, args.lot, location, args.quantity, isolated=args.isolated)
        row = await ctx.put(part, args.lot, location, args.quantity, tracking=taken.tracking, like=taken, scrapped=True)
    ctx.ledger(part, location.id, row.lot, -args.quantity, args.reason)
    ctx.log(Action.scrap, part, row, args.quantity, from_location=location, reason=args.reason)
    return row_result(row, part, location, scrapped=args.quantity)


async def isolate(ctx: OpContext, args: a.Isolate) -> Result:
    return await _set_isolation(ctx, args, isolated=True, reason=args.reason)


async def release(ctx: OpContext, args: a.Release) -> Result:
    return await _set_isolation(ctx, args, isolated=False, reason=args.reason)


async def _set_isolation(ctx: OpContext, args: a.Isolate | a.Release, *, isolated: bool, reason: str | None) -> Result:
    """Isolate sets stock aside in place (still on hand, Unavailable); release gives it back."""
    part, tracking = await item_part(ctx, args)
    location = await ctx.location(args.location)
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, location, isolated_ok=True)
        if row.isolated == isolated:
            state = "already isolated" if isolated else "not isolated"
            raise InsufficientQuantity(f"{row.serial} is {state}", field="serial", available=0)
        row.isolated = isolated
        row.isolation_reason = reason if isolated else None
        row.version = ctx.version
    else:
        taken = await ctx.take(part, args.lot, location, args.quantity, isolated=not isolated)
        row = await ctx.put(
            part, args.lot, location, args.quantity, tracking=taken.tracking, like=taken,
            isolated=isolated, isolation_reason=reason if isolated else None,
        )
    action = Action.isolate if isolated else Action.release
    ctx.log(action, part, row, args.quantity, from_location=location, reason=reason)
    return row_result(row, part, location, isolated=row.isolated)


async def adjust(ctx: OpContext, args: a.Adjust) -> Result:
    """Correct on-hand stock (a supervisor's act, e.g. after a count). Serials: +1 finds or restores a
    unit, -1 writes it off (kept with quantity 0, so its history and serial stay reserved)."""
    if not ctx.actor.at_least(Role.supervisor):
        raise Forbidden("Adjustments need a supervisor", field="type")
    if args.delta == 0:
        raise Invalid("delta must not be 0", field="delta")
    part, tracking = await item_part(ctx, args)
    await lift_count_lock(ctx, args.count_id)
    location = await ctx.location(args.location)
    if tracking == Tracking.serial:
        if abs(args.delta) != 1:
            raise TrackingMismatch("a serialized unit is adjusted by +1 or -1", field="delta")
        row = await _adjust_unit(ctx, part, args, location)
    elif args.delta > 0:
        row = await ctx.put(part, args.lot, location, args.delta, tracking=tracking)
    else:
        row = await ctx.take(part, args.lot, location, -args.delta)
    ctx.ledger(part, location.id, row.lot, args.delta, args.reason)
    ctx.log(Action.adjust, part, row, args.delta, to_location=location, reason=args.reason)
    return row_result(row, part, location, delta=args.delta, count_id=str(args.count_id) if args.count_id else None)


async def _adjust_unit(ctx: OpContext, part: Part, args: a.Adjust, location: Location) -> Stock:
    existing = await ctx.find_unit(args.serial)
    if existing is not None:  # a serial names one unit of one part, written off or not
        await check_same_part(ctx, existing, part)
    if args.delta < 0:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, location, isolated_ok=True)
        row.quantity = 0
    elif existing is None:
        row = ctx.new_unit(part, location, args.serial)
    elif existing.quantity == 0 and not existing.scrapped and existing.installed_in_id is None:
        row = existing
        row.quantity = 1
        await relocate_assembly(ctx, row, location)
    else:
        await _refuse_existing_serial(ctx, args.serial)
    row.version = ctx.version
    return row


async def split(ctx: OpContext, args: a.Split) -> Result:
    """Re-label part of a lot at one location as a new lot (e.g. a partial that failed inspection)."""
    part, tracking = await item_part(ctx, args)
    if tracking != Tracking.lot:
        raise TrackingMismatch("only lots can be split", field="lot")
    location = await ctx.location(args.location)
    new_lot = args.new_lot or await next_number(ctx, part, "lot")
    if new_lot == args.lot:
        raise Invalid("new_lot must differ from lot", field="new_lot")
    taken = await ctx.take(part, args.lot, location, args.quantity)
    row = await ctx.put(part, new_lot, location, args.quantity, tracking=Tracking.lot, like=taken)
    ctx.ledger(part, location.id, args.lot, -args.quantity)
    ctx.ledger(part, location.id, new_lot, args.quantity)
    ctx.log(Action.split, part, row, args.quantity, to_location=location, reason=f"split from lot {args.lot}")
    return row_result(row, part, location, split_from=args.lot)


async def merge(ctx: OpContext, args: a.Merge) -> Result:
    """Combine whole lots at one location into `into_lot` (which may be one of them)."""
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    if part.tracking != Tracking.lot or args.serial is not None or args.lot is not None:
        raise TrackingMismatch("merge names lot-tracked stock by `lots` and `into_lot`", field="lots")
    if len(set(args.lots)) != len(args.lots):
        raise Invalid("lots must not repeat", field="lots")
    location = await ctx.location(args.location)
    moved = 0
    row = None
    for lot in (lot for lot in args.lots if lot != args.into_lot):
        source = await ctx.bucket(part, lot, location)
        if source is None or source.quantity == 0:
            raise InsufficientQuantity(f"{location.code} holds no {part.part_number} lot {lot}", field="lots")
        quantity = source.quantity
        taken = await ctx.take(part, lot, location, quantity)
        row = await ctx.put(part, args.into_lot, location, quantity, tracking=Tracking.lot, like=taken)
        ctx.ledger(part, location.id, lot, -quantity)
        ctx.ledger(part, location.id, args.into_lot, quantity)
        ctx.log(Action.merge, part, row, quantity, to_location=location, reason=f"merged from lot {lot}")
        moved += quantity
    if row is None:
        raise Invalid("name at least one lot other than into_lot", field="lots")
    return row_result(row, part, location, merged=moved)


async def count(ctx: OpContext, args: a.Count) -> Result:
    """Record a cycle-count line next to what the server holds there (server/counts/lines.py). It moves
    nothing, so a location closed for its count still takes it. A serial is counted 1 (found) or 0
    (missing); a serial the server does not know is a find, expected 0. With `count_id`, the count must be
    open (or in review: a recount) and the line in its scope."""
    part, tracking = await item_part(ctx, args)
    location = await ctx.location(args.location, writable=False)
    line = await record_line(ctx, args, part, tracking, location)
    return {  # no expected quantity: a blind count must not learn it from the answer
        "count_line_id": str(line.id), "part": part.part_number, "location": location.code, "serial": args.serial,
        "lot": args.lot, "counted_quantity": args.counted_quantity,
        "count_id": str(args.count_id) if args.count_id else None,
    }


HANDLERS = {
    a.Receive: receive,
    a.Move: move,
    a.Install: install,
    a.Uninstall: uninstall,
    a.Scrap: scrap,
    a.Isolate: isolate,
    a.Release: release,
    a.Adjust: adjust,
    a.Split: split,
    a.Merge: merge,
    a.Count: count,
}
