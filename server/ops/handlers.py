"""What each operation does to stock. One handler per op type (the registry, server/ops/registry.py, names
which); each runs inside the caller's write batch, raises a DomainError (nothing written survives) or
returns the op's result.

Conventions: on-hand stock is what sits in a location, not scrapped and not installed; every change of
it writes a signed ledger entry for (part, location, lot), and every op writes movement-log lines.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import exists, select

from server.errors import DuplicateSerial
from server.models import Action, Location, Movement, Part, Tracking, canon, is_stock
from server.ops import args as a
from server.ops.costs import consume, layer_in
from server.ops.assemblies import ancestors, relocate_assembly
from server.ops.building import check_bom
from server.ops.counting import lift_count_lock, record_line
from server.ops.numbers import next_number
from server.ops.ordering import receive_on_line, with_warnings
from server.ops.rows import INVENTORY, Stock
from server.ops.stock import OpContext
from server.rules import stock as rules
from server.rules.costs import receipt_unit_cost
from server.rules.money import money_text
from server.rules.quantities import check_precision, in_packs, part_places
from server.rules.stock import Unusable, UnitAdjustment, check_unlocked
from server.rules.tracking import check_declared, check_item_args

Result = dict[str, Any]


# ---- shared steps -------------------------------------------------------------------------------
async def item_part(ctx: OpContext, args: a.ItemArgs) -> tuple[Part, str]:
    """The part, checked against the device's belief, and the tracking of the rows the op names.

    A part switched from untracked keeps its old untracked rows: naming neither serial nor lot
    addresses them.
    """
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    named = rules.named_tracking(args.serial, args.lot)
    if named is not None:
        quantity = getattr(args, "quantity", None)
        check_item_args(part.tracking, serial=args.serial, lot=args.lot, quantity=quantity, lot_allowed_on_serial=False)
    check_units(part, args)
    if named is not None:
        return part, named
    if part.tracking != Tracking.untracked:
        rules.check_untracked_rows(part.part_number, part.tracking, await _has_untracked_rows(ctx, part))
    return part, Tracking.untracked


def check_units(part: Part, args: a.Args) -> None:
    """Each quantity the op names as fine as the part's unit counts, no finer (a serialized part: whole units)."""
    places = part_places(part)
    for name, _ in a.quantity_fields(type(args)):
        value = getattr(args, name)
        if value is not None:
            check_precision(value, places, part.unit, name)


async def _has_untracked_rows(ctx: OpContext, part: Part) -> bool:
    await ctx.written()
    query = select(exists().where(
        INVENTORY.c.part_id == part.id, INVENTORY.c.tracking == Tracking.untracked, is_stock(INVENTORY.c)
    ))
    return bool(await ctx.session.scalar(query))


async def unit_of(ctx: OpContext, part: Part, serial: str) -> Stock:
    unit = await ctx.unit(serial)
    await check_same_part(ctx, unit, part)
    return unit


async def check_same_part(ctx: OpContext, unit: Stock, part: Part) -> None:
    if unit.part_id != part.id:
        other = await ctx.session.get_one(Part, unit.part_id)
        rules.check_same_part(unit.serial, other.part_number, part.part_number)


async def last_done(ctx: OpContext, unit: Stock) -> dict[str, str]:
    """Who last did what to a unit, for an outcome that says why the unit is not where or what the op expected:
    `last_action` (an Action value) and `last_by` of its newest movement-log line (this op's own, else those of
    the ops before it in its write batch, not inserted yet, else the newest in the database); empty if none."""
    logged = [m for m in (*ctx.batch.trail.movements, *ctx.trail.movements) if m["inventory_id"] == unit.id]
    if logged:
        return {"last_action": str(logged[-1]["action"]), "last_by": str(logged[-1]["actor"])}
    query = select(Movement.action, Movement.actor).where(Movement.inventory_id == unit.id)
    newest = (await ctx.session.execute(query.order_by(Movement.created_at.desc(), Movement.id.desc()).limit(1))).first()
    return {"last_action": newest.action, "last_by": newest.actor} if newest else {}


async def usable_unit_at(ctx: OpContext, unit: Stock, location: Location | None, *, isolated_ok: bool) -> None:
    """The unit must be free stock (not installed, scrapped or written off), at `location` if given."""
    why = rules.unusable(unit, location.id if location is not None else None, isolated_ok=isolated_ok)
    if why is None:
        return
    holder = (await ctx.row(unit.installed_in_id)).serial if why == Unusable.installed else None
    actual = (await ctx.location_by_id(unit.location_id)).code if why == Unusable.elsewhere else None
    expected = location.code if location is not None else None
    raise rules.refuse_unusable(
        why, unit.serial, holder=holder, actual=actual, expected=expected, **await last_done(ctx, unit)
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
    """A delivery (or stock found, opening balances): with `po_line`, against that purchase order line
    (server/purchasing/receiving.py)."""
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    packed: Result = {}
    if args.pack is not None:  # `quantity` packs of the part's `pack`: stored as its unit
        quantity, size = in_packs(args.quantity, args.pack, part.packs or [], part.part_number)
        packed = {"pack": args.pack, "packs": args.quantity, "pack_size": size}
        args = msgspec.structs.replace(args, quantity=quantity, pack=None)
    check_item_args(part.tracking, serial=args.serial, lot=args.lot, quantity=args.quantity, lot_allowed_on_serial=True)
    check_precision(args.quantity, part_places(part), part.unit, "quantity")
    if args.po_line is not None:
        result = await receive_on_line(ctx, args, part)
    else:
        result = await receive_plain(ctx, args, part)
    if args.expiry is not None:
        rules.check_expiry_tracked(part.tracking)
        row = await ctx.row(UUID(result["inventory_id"]))
        if row.expiry is None or args.expiry < row.expiry:  # a bucket's earliest expiry wins
            row.expiry = args.expiry
        result["expiry"] = row.expiry.isoformat()
    return await with_warnings(ctx, result | packed, part, await ctx.location(args.location), None, args.quantity)


async def receive_plain(ctx: OpContext, args: a.Receive, part: Part) -> Result:
    """A receipt not against a purchase order line (or a supervisor's approval of one whose PO is a draft)."""
    quantity = args.quantity
    unit_cost = receipt_unit_cost(quantity, args.unit_cost, args.package_price)
    location = await ctx.location(args.location)
    supplier = await ctx.supplier(args.supplier) if args.supplier else None
    lot = args.lot
    if part.tracking == Tracking.lot and lot is None:
        lot = await next_number(ctx, part, "lot")
    if part.tracking == Tracking.serial:
        serial = args.serial or await next_number(ctx, part, "serial")
        await refuse_existing_serial(ctx, serial)
        row = ctx.new_unit(part, location, serial, lot=lot, unit_cost=unit_cost)
    else:
        row = await ctx.put(part, lot, location, quantity, tracking=part.tracking, unit_cost=unit_cost)
    row.supplier_id = supplier.id if supplier else row.supplier_id
    row.package_ref = args.package_ref or row.package_ref
    row.po_line = args.po_line or row.po_line
    ctx.ledger(part, location.id, lot, quantity, args.reason)
    ctx.log(Action.add, part, row, quantity, lot=lot, to_location=location, reason=args.reason)
    costed = await layer_in(ctx, part, quantity, unit_cost, row, package_ref=args.package_ref, po_line=args.po_line)
    return row_result(row, part, location, received=quantity, **money_fields(costed))


def money_fields(amounts: dict[str, Any]) -> Result:
    """Amounts as the wire shows them ("2.10")."""
    return {key: money_text(value) for key, value in amounts.items()}


async def refuse_existing_serial(ctx: OpContext, serial: str) -> None:
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
    rules.check_distinct_locations(source.id, target.id)
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
    result = row_result(row, part, target, moved=args.quantity, **extra)
    return result if args.isolated else await with_warnings(ctx, result, part, target, source, args.quantity)


async def install(ctx: OpContext, args: a.Install) -> Result:
    parent = await ctx.unit(args.parent_serial, field_name="parent_serial")
    rules.check_parent_usable(parent)
    part, tracking = await item_part(ctx, args)
    at = await ctx.location_by_id(parent.location_id)
    check_unlocked(at, "parent_serial")
    deviation = await check_bom(ctx, parent, part, args.quantity)  # the parent's BOM, when it has one
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        rules.check_not_inside_itself(row, parent.serial, await ancestors(ctx, parent))
        if row.installed_in_id is not None:
            holder = (await ctx.row(row.installed_in_id)).serial
            raise rules.refuse_installed(row.serial, holder, **await last_done(ctx, row))
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
    ctx.log(Action.assemble, part, row, args.quantity, from_location=source, parent_serial=parent.serial,
            reason=deviation)
    return row_result(row, part, at, installed_in=parent.serial, **({"deviation": deviation} if deviation else {}))


async def uninstall(ctx: OpContext, args: a.Uninstall) -> Result:
    parent = await ctx.unit(args.parent_serial, field_name="parent_serial")
    part, tracking = await item_part(ctx, args)
    at = await ctx.location_by_id(parent.location_id)
    check_unlocked(at, "parent_serial")
    target = await ctx.location(args.to_location, field_name="to_location")
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        rules.check_installed_in(row, parent)
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
    used = await consume(ctx, part, args.quantity, location, row, reason=args.reason)
    return row_result(row, part, location, scrapped=args.quantity, cost=money_text(used.cost))


async def remove(ctx: OpContext, args: a.Remove) -> Result:
    """Stock used: it leaves inventory (a unit stays findable by its serial, status Removed), its FIFO cost
    written as a usage record with the reason and reference."""
    part, tracking = await item_part(ctx, args)
    location = await ctx.location(args.location)
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, location, isolated_ok=False)
        row.removed, row.quantity, row.version = True, 0, ctx.version
    else:
        row = await ctx.take(part, args.lot, location, args.quantity)
    ctx.ledger(part, location.id, row.lot, -args.quantity, args.reason)
    ctx.log(Action.remove, part, row, args.quantity, from_location=location, reason=args.reason)
    used = await consume(ctx, part, args.quantity, location, row, reason=args.reason, reference=args.reference)
    return row_result(row, part, location, removed=args.quantity, cost=money_text(used.cost), reference=args.reference)


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
        rules.check_isolation_changes(row, isolated)
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
    rules.check_adjustment(ctx.actor.role, args.delta)
    part, tracking = await item_part(ctx, args)
    await lift_count_lock(ctx, args.count_id)
    location = await ctx.location(args.location)
    if tracking == Tracking.serial:
        rules.check_unit_delta(args.delta)
        row = await _adjust_unit(ctx, part, args, location)
    elif args.delta > 0:
        row = await ctx.put(part, args.lot, location, args.delta, tracking=tracking, field_name="delta")
    else:
        row = await ctx.take(part, args.lot, location, -args.delta)
    ctx.ledger(part, location.id, row.lot, args.delta, args.reason)
    ctx.log(Action.adjust, part, row, args.delta, to_location=location, reason=args.reason)
    if args.delta > 0:  # found: a layer at the part's average price
        value = money_fields(await layer_in(ctx, part, args.delta, None, row, kind="found"))
    else:
        value = {"cost": money_text((await consume(ctx, part, -args.delta, location, row, reason=args.reason)).cost)}
    return row_result(row, part, location, delta=args.delta, count_id=str(args.count_id) if args.count_id else None,
                      **value)


async def _adjust_unit(ctx: OpContext, part: Part, args: a.Adjust, location: Location) -> Stock:
    existing = await ctx.find_unit(args.serial)
    if existing is not None:  # a serial names one unit of one part, written off or not
        await check_same_part(ctx, existing, part)
    plan = rules.unit_adjustment(args.delta, existing)
    if plan == UnitAdjustment.write_off:
        row = await unit_of(ctx, part, args.serial)
        await usable_unit_at(ctx, row, location, isolated_ok=True)
        row.quantity = 0
    elif plan == UnitAdjustment.new:
        row = ctx.new_unit(part, location, args.serial)
    elif plan == UnitAdjustment.restore:
        row = existing
        row.quantity, row.removed = 1, False
        await relocate_assembly(ctx, row, location)
    else:
        await refuse_existing_serial(ctx, args.serial)
    row.version = ctx.version
    return row


async def split(ctx: OpContext, args: a.Split) -> Result:
    """Re-label part of a lot at one location as a new lot (e.g. a partial that failed inspection)."""
    part, tracking = await item_part(ctx, args)
    rules.check_splittable(tracking)
    location = await ctx.location(args.location)
    new_lot = args.new_lot or await next_number(ctx, part, "lot")
    rules.check_new_lot(args.lot, new_lot)
    taken = await ctx.take(part, args.lot, location, args.quantity)
    row = await ctx.put(part, new_lot, location, args.quantity, tracking=Tracking.lot, like=taken)
    ctx.ledger(part, location.id, args.lot, -args.quantity)
    ctx.ledger(part, location.id, new_lot, args.quantity)
    # both sides of the re-labelling are in the log, so both lots' histories show it
    ctx.log(Action.split, part, taken, args.quantity, from_location=location, reason=f"split into lot {new_lot}")
    ctx.log(Action.split, part, row, args.quantity, to_location=location, reason=f"split from lot {args.lot}")
    return row_result(row, part, location, split_from=args.lot)


async def merge(ctx: OpContext, args: a.Merge) -> Result:
    """Combine whole lots at one location into `into_lot` (which may be one of them)."""
    part = await ctx.part(args.part)
    check_declared(part.part_number, args.tracking, part.tracking)
    rules.check_merge(part.tracking, args.serial, args.lot, args.lots)
    location = await ctx.location(args.location)
    moved = 0
    for lot in rules.merge_sources(args.lots, args.into_lot):
        source = await ctx.bucket(part, lot, location)
        quantity = source.quantity if source is not None else 0
        rules.check_lot_held(quantity, part.part_number, lot, location.code)
        taken = await ctx.take(part, lot, location, quantity)
        row = await ctx.put(part, args.into_lot, location, quantity, tracking=Tracking.lot, like=taken, field_name="lots")
        ctx.ledger(part, location.id, lot, -quantity)
        ctx.ledger(part, location.id, args.into_lot, quantity)
        ctx.log(Action.merge, part, taken, quantity, from_location=location, reason=f"merged into lot {args.into_lot}")
        ctx.log(Action.merge, part, row, quantity, to_location=location, reason=f"merged from lot {lot}")
        moved += quantity
    return row_result(row, part, location, merged=canon(moved))


async def count(ctx: OpContext, args: a.Count) -> Result:
    """Record a cycle-count line next to what the server holds there (server/counts/lines.py, through
    server/ops/counting.py). It moves
    nothing, so a location closed for its count still takes it. A serial is counted 1 (found) or 0
    (missing); a serial the server does not know is a find, expected 0. With `count_id`, the count must be
    open (or in review: a recount) and the line in its scope."""
    part, tracking = await item_part(ctx, args)
    location = await ctx.location(args.location, writable=False)
    line_id = await record_line(ctx, args, part, tracking, location)
    return {  # no expected quantity: a blind count must not learn it from the answer
        "count_line_id": str(line_id), "part": part.part_number, "location": location.code, "serial": args.serial,
        "lot": args.lot, "counted_quantity": args.counted_quantity,
        "count_id": str(args.count_id) if args.count_id else None,
    }

