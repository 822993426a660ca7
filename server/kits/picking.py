"""Picking into a kit: the `kit` op (`kit, part, tracking, serial?, lot?, from_location, quantity`), online and
at sync alike. The stock moves from `from_location` into the kit's tote (its own location), where it is
Kitted while the kit is open (server/rules/status.py: the tote's `kit_id`); the ledger moves `on_hand` from
the one to the other, the kit's line counts it (`picked`) and a `kit_picks` row records the pick.

Refusals (server/rules/kits.py; held at sync, docs/kits-and-issues.md): `kit_not_open` (completed or
cancelled), `not_on_kit` (no line for the part, or more than it still needs), `already_kitted` (the unit, or
the lot or untracked stock named, is in the tote of an open kit — this one or another; two phones that picked
one unit into two kits offline: the second is held). A supervisor's approval picks it all the same: into a
closed kit's tote as a plain move, beyond the line (or on a new line), or on from the other kit (whose line
gives it back: a negative pick).

Two phones picking into one kit at once: a push chunk beside others on PostgreSQL takes its turn on the kit
(`take_turn`) before reading its line, so the counts never lose a pick.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, update

from server.errors import NotFound
from server.kits.models import Kit, KitLine, KitPick
from server.models import Action, Location, Part, Tracking, canon
from server.ops import args as a
from server.ops.assemblies import relocate_assembly
from server.ops.handlers import item_part, row_result, unit_of, usable_unit_at
from server.ops.stock import OpContext, new_id
from server.rules import kits as rules
from server.rules.stock import check_unlocked


class KitArgs(a.ItemArgs, kw_only=True):
    kit: a.Code  # the kit's number: KIT-0001
    from_location: a.Code
    quantity: a.Quantity


KIT_NAMED = select(Kit.id, Kit.number, Kit.status, Kit.tote_id).where(Kit.number == bindparam("number"))
KIT_NUMBER = select(Kit.number).where(Kit.id == bindparam("kit_id"))
LINE_OF = select(KitLine.id, KitLine.quantity, KitLine.picked).where(
    KitLine.kit_id == bindparam("kit_id"), KitLine.part_id == bindparam("part_id")
)
LAST_LINE = select(func.max(KitLine.line_no)).where(KitLine.kit_id == bindparam("kit_id"))


async def _kit_in(ctx: OpContext, location: Location) -> str | None:
    """The number of the open kit whose tote `location` is, or None."""
    if location.kit_id is None:
        return None
    return await ctx.session.scalar(KIT_NUMBER, {"kit_id": location.kit_id})


async def pick(ctx: OpContext, args: KitArgs) -> dict[str, Any]:
    part, tracking = await item_part(ctx, args)
    source = await ctx.location(args.from_location, field_name="from_location")
    kit = (await ctx.session.execute(KIT_NAMED, {"number": args.kit})).first()
    if kit is None:
        raise NotFound(f"No kit {args.kit}", field="kit")
    await ctx.batch.take_turn(kit.id)
    line = (await ctx.session.execute(LINE_OF, {"kit_id": kit.id, "part_id": part.id})).first()
    if not ctx.approved:
        rules.check_open(kit.number, kit.status)
        rules.check_on_kit(kit.number, part.part_number, (line.quantity, line.picked) if line else None, args.quantity)
    tote = await ctx.location_by_id(kit.tote_id)
    check_unlocked(tote, "kit")
    if tracking == Tracking.serial:
        row = await unit_of(ctx, part, args.serial)
        here = await ctx.location_by_id(row.location_id)
        if here.kit_id is not None and row.installed_in_id is None and (here.id == tote.id or not ctx.approved):
            rules.check_not_kitted(f"Unit {row.serial}", await _kit_in(ctx, here), "serial")
        source = here if here.kit_id is not None and ctx.approved else source
        await usable_unit_at(ctx, row, source, isolated_ok=False)
        await relocate_assembly(ctx, row, tote)
    else:
        if source.kit_id is not None and (source.id == tote.id or not ctx.approved):
            what = part.part_number + (f" lot {args.lot}" if args.lot else "") + f" at {source.code}"
            rules.check_not_kitted(what, await _kit_in(ctx, source), "from_location")
        taken = await ctx.take(part, args.lot, source, args.quantity)
        row = await ctx.put(part, args.lot, tote, args.quantity, tracking=taken.tracking, like=taken)
    if source.kit_id is not None:  # a supervisor moved it on from another open kit: that kit gives it back
        await _give_back(ctx, source.kit_id, part, row.id, args.quantity)
    line_id = await _count(ctx, kit.id, line, part, args.quantity)
    ctx.trail.records.append((KitPick.__table__, {
        "id": new_id(), "kit_id": kit.id, "line_id": line_id, "op_id": ctx.op_id, "inventory_id": row.id,
        "quantity": args.quantity, "picked_by": ctx.actor.username,
    }))
    ctx.ledger(part, source.id, row.lot, -args.quantity)
    ctx.ledger(part, tote.id, row.lot, args.quantity)
    ctx.log(Action.kit, part, row, args.quantity, from_location=source, to_location=tote, reason=f"kit {kit.number}")
    left = await ctx.session.execute(select(KitLine.quantity, KitLine.picked).where(KitLine.id == line_id))
    quantity, picked = left.one()
    return row_result(row, part, tote, kit=kit.number, picked=args.quantity, remaining=rules.remaining(quantity, picked))


async def _count(ctx: OpContext, kit_id: UUID, line: Any, part: Part, quantity: Any) -> UUID:
    """The kit's line for the part counts the pick (a line is added when a supervisor approves a part the kit
    had no line for)."""
    if line is None:
        line_id = new_id()
        last = await ctx.session.scalar(LAST_LINE, {"kit_id": kit_id}) or 0
        ctx.session.add(KitLine(id=line_id, kit_id=kit_id, line_no=last + 1, part_id=part.id, quantity=quantity,
                                picked=quantity, version=ctx.version))
        await ctx.session.flush()
        return line_id
    await ctx.session.execute(
        update(KitLine).where(KitLine.id == line.id)
        .values(picked=canon(line.picked + quantity), version=ctx.version)
    )
    return line.id


async def _give_back(ctx: OpContext, other_kit_id: UUID, part: Part, row_id: UUID, quantity: Any) -> None:
    await ctx.batch.take_turn(other_kit_id)
    line = (await ctx.session.execute(LINE_OF, {"kit_id": other_kit_id, "part_id": part.id})).first()
    if line is None:
        return
    await ctx.session.execute(
        update(KitLine).where(KitLine.id == line.id)
        .values(picked=canon(max(line.picked - quantity, 0)), version=ctx.version)
    )
    ctx.trail.records.append((KitPick.__table__, {
        "id": new_id(), "kit_id": other_kit_id, "line_id": line.id, "op_id": ctx.op_id, "inventory_id": row_id,
        "quantity": -quantity, "picked_by": ctx.actor.username,
    }))
