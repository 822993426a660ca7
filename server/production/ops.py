"""Production's operations, registered with the ops (server/ops/registry.py) when this package is imported:

- `issue`: a component put on an open run — moved into the run's WIP location (status WIP), the run line's
  `issued` grows, and the run's `demand` for it shrinks by what was still required (docs/costs.md ledger).
- `complete_run`: units (or a lot) built by an open run — made Available at `location`, each with the issued
  components of its BOM installed in it (first expired first out among lots), Made on Assembly components
  made inside it. The components' FIFO cost is consumed (usage records naming the run) into the built stock's
  layer (docs/costs.md, "Built stock").

Both write the run history (`run_items`) and name the run in the activity log's reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from msgspec import Meta
from sqlalchemy import select

from server.errors import Invalid, NotFound, NotOnBom
from server.models import Action, Location, Part, Tracking, canon
from server.ops.args import Args, Code, ItemArgs, Quantity
from server.ops.assemblies import relocate_assembly
from server.ops.costs import consume, layer_in, layer_without_cost
from server.ops.handlers import (
    check_units, item_part, refuse_existing_serial, row_result, unit_of, usable_unit_at,
)
from server.ops.numbers import next_number
from server.ops.registry import OpType, register
from server.ops.rows import INVENTORY, SELECT_ROWS, Stock
from server.ops.stock import OpContext, new_id
from server.production.models import ItemKind, Run, RunItem, RunLine
from server.rules import production as rules
from server.rules.costs import spread
from server.rules.money import EXACT
from server.rules.stock import check_available, check_unlocked

Result = dict[str, Any]
DEMAND = "demand"  # the ledger's bucket of what runs still need (aACE's Demand)


class Issue(ItemArgs, kw_only=True):
    run: Code
    quantity: Quantity
    from_location: Code | None = None  # lot/untracked: the run's location unless given; a unit: where it is


class CompleteRun(Args, kw_only=True):
    run: Code
    quantity: Quantity
    location: Code
    serials: Annotated[list[Code], Meta(min_length=1, max_length=10_000)] | None = None
    lot: Code | None = None


# ---- shared steps -------------------------------------------------------------------------------
async def find_run(ctx: OpContext, number: str) -> Run:
    """The run, read FOR UPDATE (two push chunks issuing to one run take turns on PostgreSQL)."""
    run = (await ctx.session.execute(
        select(Run).where(Run.number == number).with_for_update()
    )).scalar_one_or_none()
    if run is None:
        raise NotFound(f"No run {number}", field="run")
    return run


async def run_lines(ctx: OpContext, run: Run) -> list[RunLine]:
    return list((await ctx.session.scalars(
        select(RunLine).where(RunLine.run_id == run.id).order_by(RunLine.line_no)
    )).all())


def demand(ctx: OpContext, part_id: Any, location_id: Any, delta: Any, reason: str) -> None:
    """A `demand` ledger line (negative: a run needs it; positive: the need met or given up)."""
    if delta:
        ctx.trail.ledger.append({"op_id": ctx.op_id, "bucket": DEMAND, "part_id": part_id, "location_id": location_id,
                                 "lot": None, "delta": delta, "reason": reason})


def record(ctx: OpContext, run: Run, kind: ItemKind, part_id: Any, row: Stock | None, quantity: Any,
           *, lot: str | None = None, into: str | None = None) -> None:
    ctx.trail.records.append((RunItem.__table__, {
        "id": new_id(), "run_id": run.id, "op_id": ctx.op_id, "kind": kind.value, "part_id": part_id,
        "inventory_id": row.id if row is not None else None, "serial": row.serial if row is not None else None,
        "lot": lot if lot is not None else (row.lot if row is not None else None), "quantity": quantity,
        "into_serial": into,
    }))


async def wip_of(ctx: OpContext, run: Run) -> Location:
    return await ctx.location_by_id(run.wip_location_id)


# ---- issue --------------------------------------------------------------------------------------
async def issue(ctx: OpContext, args: Issue) -> Result:
    run = await find_run(ctx, args.run)
    rules.check_open(run.number, run.state)
    part, tracking = await item_part(ctx, args)
    unit = await unit_of(ctx, part, args.serial) if tracking == Tracking.serial else None
    lines = await run_lines(ctx, run)
    line = next((line for line in lines if line.part_id == part.id), None)
    deviation = None
    if lines and (line is None or line.made_on_assembly):
        refused = NotOnBom(f"{part.part_number} is not among what run {run.number} requires", field="part",
                           bom_quantity=0, already=0)
        if not ctx.approved:
            raise refused
        deviation = f"BOM deviation approved: {refused}"
    wip = await wip_of(ctx, run)
    if unit is not None:
        row = unit
        named = await ctx.location(args.from_location, field_name="from_location") if args.from_location else None
        await usable_unit_at(ctx, row, named, isolated_ok=False)
        source = await ctx.location_by_id(row.location_id)
        check_unlocked(source, "serial")
        await relocate_assembly(ctx, row, wip)
    else:
        source = (await ctx.location(args.from_location, field_name="from_location") if args.from_location
                  else await ctx.location_by_id(run.location_id))
        taken = await ctx.take(part, args.lot, source, args.quantity)
        row = await ctx.put(part, args.lot, wip, args.quantity, tracking=taken.tracking, like=taken)
    why = deviation or f"issued to run {run.number}"
    ctx.ledger(part, source.id, row.lot, -args.quantity, why)
    ctx.ledger(part, wip.id, row.lot, args.quantity, why)
    if line is not None and not line.made_on_assembly:
        demand(ctx, part.id, run.location_id, rules.demand_back(line.required, line.issued, args.quantity),
               f"issued to run {run.number}")
        line.issued = canon(line.issued + args.quantity)
    ctx.log(Action.move, part, row, args.quantity, from_location=source, to_location=wip, reason=why)
    record(ctx, run, ItemKind.issued, part.id, row, args.quantity)
    await ctx.session.flush()
    return row_result(row, part, wip, run=run.number, issued=args.quantity,
                      **({"deviation": deviation} if deviation else {}))


# ---- complete_run -------------------------------------------------------------------------------
class Costed:
    """What a completion's assemblies consumed (docs/costs.md, "Built stock"): the FIFO cost the components
    took (usage records naming the run), and the rows that now hold them built in, by part — held at no cost,
    their value gone into the assembly's layer."""

    def __init__(self) -> None:
        self.cost = Decimal(0)
        self.built_in: dict[Any, list[tuple[Stock, Any]]] = {}

    def took(self, row: Stock, amount: Any, cost: Decimal) -> None:
        self.cost = EXACT.add(self.cost, cost)
        self.built_in.setdefault(row.part_id, []).append((row, amount))

    def spent(self) -> Decimal:
        """The cost consumed since the last call (an assembly's own)."""
        cost, self.cost = self.cost, Decimal(0)
        return cost


async def complete_run(ctx: OpContext, args: CompleteRun) -> Result:
    run = await find_run(ctx, args.run)
    rules.check_open(run.number, run.state)
    part = await ctx.session.get_one(Part, run.part_id)
    check_units(part, args)
    rules.check_built(part.tracking, args.quantity, args.serials, args.lot)
    location = await ctx.location(args.location)
    lines = await run_lines(ctx, run)
    components = {line.part_id: await ctx.session.get_one(Part, line.part_id) for line in lines}
    why = f"built by run {run.number}"
    stock = await _wip_stock(ctx, run)
    costed = Costed()
    built: list[Stock] = []
    if part.tracking == Tracking.serial:
        planned = [s for s in (run.serials or []) if await ctx.find_unit(s) is None]
        for n in range(int(args.quantity)):
            if args.serials is not None:
                serial = args.serials[n]
            elif planned:
                serial = planned.pop(0)
            else:
                serial = await next_number(ctx, part, "serial")
            await refuse_existing_serial(ctx, serial)
            unit = ctx.new_unit(part, location, serial)
            built.append(unit)
            ctx.ledger(part, location.id, None, 1, why)
            ctx.log(Action.add, part, unit, 1, to_location=location, reason=why)
            record(ctx, run, ItemKind.produced, part.id, unit, 1)
            await _consume(ctx, run, lines, components, unit, 1, location, stock, costed)
            await layer_in(ctx, part, 1, costed.spent(), unit, kind="produced")  # what went into this unit
    else:
        lot = (args.lot or run.lot or run.number) if part.tracking == Tracking.lot else None
        row = await ctx.put(part, lot, location, args.quantity, tracking=part.tracking)
        built.append(row)
        ctx.ledger(part, location.id, lot, args.quantity, why)
        ctx.log(Action.add, part, row, args.quantity, lot=lot, to_location=location, reason=why)
        record(ctx, run, ItemKind.produced, part.id, row, args.quantity)
        await _consume(ctx, run, lines, components, row, args.quantity, location, stock, costed)
        for quantity, unit_cost in spread(costed.spent(), args.quantity):
            await layer_in(ctx, part, quantity, unit_cost, row, kind="produced")
    for component_id, rows in costed.built_in.items():
        await layer_without_cost(ctx, components[component_id], rows, "built_in")
    run.produced = canon(run.produced + args.quantity)
    await ctx.session.flush()
    return {
        "run": run.number, "part": part.part_number, "location": location.code, "quantity": args.quantity,
        "serials": [row.serial for row in built if row.serial] or None,
        "lot": built[0].lot if built and built[0].serial is None else None,
        "inventory_ids": [str(row.id) for row in built], "produced": run.produced,
    }


async def _wip_stock(ctx: OpContext, run: Run) -> dict[Any, list[Stock]]:
    """What a completion may consume, read once per op: the rows free in the run's WIP location (not installed,
    scrapped or isolated, not empty), by part; the ops' own changes to them are held in these same objects."""
    wip = await wip_of(ctx, run)
    rows = await ctx.load(SELECT_ROWS.where(
        INVENTORY.c.location_id == wip.id, INVENTORY.c.installed_in_id.is_(None), INVENTORY.c.scrapped.is_(False),
        INVENTORY.c.isolated.is_(False), INVENTORY.c.quantity > 0,
    ).order_by(INVENTORY.c.serial, INVENTORY.c.lot))
    by_part: dict[Any, list[Stock]] = {}
    for row in rows:
        by_part.setdefault(row.part_id, []).append(row)
    return by_part


async def _consume(ctx: OpContext, run: Run, lines: list[RunLine], components: dict[Any, Part], parent: Stock,
                   units: Any, location: Location, stock: dict[Any, list[Stock]], costed: Costed) -> None:
    """Install into `parent` what its BOM needs for `units` assemblies: issued stock from the run's WIP
    location (`stock`, see `_wip_stock`), its FIFO cost consumed into `costed`; or, for a Made on Assembly
    line, new stock made inside it."""
    wip = await wip_of(ctx, run)
    for line in lines:
        component = components[line.part_id]
        need = canon(line.per_unit * units)
        if line.made_on_assembly:
            await _make_inside(ctx, run, component, parent, need, location)
        elif component.tracking == Tracking.serial:
            await _install_units(ctx, run, component, parent, need, wip, location, stock.get(component.id, []), costed)
        else:
            await _install_quantity(ctx, run, component, parent, need, wip, location, stock.get(component.id, []),
                                    costed)
        line.consumed = canon(line.consumed + need)


async def _install_units(ctx: OpContext, run: Run, part: Part, parent: Stock, need: Any, wip: Location,
                         location: Location, held: list[Stock], costed: Costed) -> None:
    free = [row for row in held if row.installed_in_id is None and row.location_id == wip.id and not row.isolated
            and not row.scrapped and row.quantity > 0]
    check_available(len(free), need, part.part_number, wip.code, part.unit)
    for unit in free[: int(need)]:
        used = await consume(ctx, part, 1, wip, unit, reason=_why(run), reference=run.number)
        unit.installed_in_id = parent.id
        ctx.lookups.installed(parent.id, unit)
        await relocate_assembly(ctx, unit, location)
        _consumed(ctx, run, part, unit, 1, wip, parent)
        costed.took(unit, 1, used.cost)


async def _install_quantity(ctx: OpContext, run: Run, part: Part, parent: Stock, need: Any, wip: Location,
                            location: Location, held: list[Stock], costed: Costed) -> None:
    holdings = [rules.Holding(row.lot, row.expiry, row.quantity, row) for row in held if row.quantity > 0]
    check_available(canon(sum((h.quantity for h in holdings), 0)), need, part.part_number, wip.code, part.unit)
    for holding, amount in rules.fefo(holdings, need):
        taken = await ctx.take(part, holding.lot, wip, amount)
        used = await consume(ctx, part, amount, wip, taken, reason=_why(run), reference=run.number)
        row = await ctx.put(part, holding.lot, location, amount, tracking=taken.tracking, like=taken,
                            installed_in=parent, carry=False)
        _consumed(ctx, run, part, row, amount, wip, parent)
        costed.took(row, amount, used.cost)


def _why(run: Run) -> str:
    return f"consumed by run {run.number}"


def _consumed(ctx: OpContext, run: Run, part: Part, row: Stock, amount: Any, wip: Location, parent: Stock) -> None:
    why = _why(run)
    ctx.ledger(part, wip.id, row.lot, -amount, why)
    ctx.log(Action.assemble, part, row, amount, from_location=wip, parent_serial=parent.serial, reason=why)
    record(ctx, run, ItemKind.consumed, part.id, row, amount, into=parent.serial or parent.lot)


async def _make_inside(ctx: OpContext, run: Run, part: Part, parent: Stock, need: Any, location: Location) -> None:
    """A Made on Assembly component: built into the parent during its run, with its own serial (from its
    pattern) or lot (its pattern, else named from the run), not taken from stock — so no ledger line."""
    why = f"made on assembly by run {run.number}"
    if part.tracking == Tracking.serial:
        if need != int(need):
            raise Invalid(f"{part.part_number} is made in whole units", field="quantity")
        made = []
        for _ in range(int(need)):
            row = ctx.new_unit(part, location, await next_number(ctx, part, "serial"), installed_in_id=parent.id)
            ctx.lookups.installed(parent.id, row)
            ctx.log(Action.assemble, part, row, 1, parent_serial=parent.serial, reason=why)
            record(ctx, run, ItemKind.consumed, part.id, row, 1, into=parent.serial or parent.lot)
            made.append((row, 1))
        await layer_without_cost(ctx, part, made, "made")
        return
    lot = None
    if part.tracking == Tracking.lot:
        lot = await next_number(ctx, part, "lot") if part.lot_pattern else run.number
    row = await ctx.put(part, lot, location, need, tracking=part.tracking, installed_in=parent)
    ctx.log(Action.assemble, part, row, need, lot=lot, parent_serial=parent.serial, reason=why)
    record(ctx, run, ItemKind.consumed, part.id, row, need, into=parent.serial or parent.lot)
    await layer_without_cost(ctx, part, [(row, need)], "made")


register(OpType("issue", Issue, issue, places=("from_location",), source="from_location"))
register(OpType("complete_run", CompleteRun, complete_run, places=("location",), units=()))
