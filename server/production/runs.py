"""Production runs through their life: planned → open → completed | failed | cancelled (a supervisor's acts).

- Planning copies the BOM of the part's revision into the run's requirements (`run_lines`).
- Starting makes the run's WIP location (`<location>/<number>`, below where the built units go, `wip`: what is
  in it is WIP) and posts `demand −required` for each component taken from stock.
- Completing or cancelling returns what is left in the WIP location to the run's location and ends the WIP
  location's `wip`; leaving `open` (completed, failed, cancelled) gives up the demand not met. A failed run
  keeps its components WIP until they are moved out, scrapped, or the run is cancelled.

Each act is one write transaction applied as ops are (a write batch and an op context: server/ops/batch.py),
so its ledger and activity-log lines go where every op's go.
"""

from __future__ import annotations

from datetime import UTC, datetime
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.clock import bump_counter
from server.db import Database
from server.errors import AlreadyExists, Invalid, NotFound
from server.models import Action, Location, LocationKind, Part, Tracking, canon
from server.ops.assemblies import relocate_assembly
from server.ops.batch import WriteBatch
from server.ops.rows import INVENTORY, SELECT_ROWS
from server.ops.stock import OpContext, new_id
from server.production.bom import bom_lines, part_named
from server.production.models import ItemKind, Run, RunItem, RunLine, RunState
from server.production.ops import demand, record
from server.production.schemas import RunIn, RunItemOut, RunLineOut, RunOut, RunPage, RunSummary
from server.rules import production as rules
from server.rules.patterns import expand
from server.rules.quantities import check_precision, parse_quantity, part_places

RUN_PATTERN = "RUN-{yyyy}-{seq:04}"


async def find(session: AsyncSession, number: str) -> Run:
    run = (await session.execute(select(Run).where(Run.number == number))).scalar_one_or_none()
    if run is None:
        raise NotFound(f"No run {number}", field="number")
    return run


async def _next_number(session: AsyncSession, now: datetime) -> str:
    expanded = expand(RUN_PATTERN, part="", revision="", now=now)
    while True:
        number = expanded.render(await bump_counter(session, f"run:{expanded.scope}"))
        if not await session.scalar(select(exists().where(Run.number == number))):
            return number


class RunService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading ------------------------------------------------------------------------------
    async def get(self, number: str) -> RunOut:
        async with self.db.read() as session:
            return await run_out(session, await find(session, number))

    async def list(self, state: str | None, part: str | None, limit: int, offset: int) -> RunPage:
        async with self.db.read() as session:
            query = select(Run, Part.part_number, Location.code).join(Part, Part.id == Run.part_id).join(
                Location, Location.id == Run.location_id)
            if state:
                states = state.split(",")
                if not set(states) <= {s.value for s in RunState}:
                    raise Invalid(f"state must be among {', '.join(RunState)}", field="state")
                query = query.where(Run.state.in_(states))
            if part:
                query = query.where(Part.part_number == part)
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            newest = query.order_by(Run.created_at.desc(), Run.id.desc())
            rows = await session.execute(newest.limit(limit).offset(offset))
            return RunPage(items=[
                RunSummary(number=run.number, part=number, state=run.state, quantity=run.quantity,
                           produced=run.produced, location=code, created_at=run.created_at)
                for run, number, code in rows.tuples()
            ], total=int(total or 0), limit=limit, offset=offset)

    # ---- the life cycle -----------------------------------------------------------------------
    async def create(self, data: RunIn, actor: Actor) -> RunOut:
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            part = await part_named(session, data.part)
            data.quantity = parse_quantity(data.quantity, "quantity")
            check_precision(data.quantity, part_places(part), part.unit, "quantity")
            rules.check_built(part.tracking, data.quantity, data.serials, data.lot)
            location = (await session.execute(
                select(Location).where(Location.code == data.location))).scalar_one_or_none()
            if location is None:
                raise NotFound(f"No location {data.location}", field="location")
            if data.number is not None and await session.scalar(select(exists().where(Run.number == data.number))):
                raise AlreadyExists(f"Run {data.number} already exists", field="number")
            number = data.number or await _next_number(session, datetime.now(UTC))
            run = Run(id=new_id(), number=number, part_id=part.id, revision=part.revision, quantity=data.quantity,
                      produced=0, location_id=location.id, state=RunState.planned.value, serials=data.serials,
                      lot=data.lot if part.tracking == Tracking.lot else None, created_by=actor.username)
            session.add(run)
            await session.flush()
            session.add_all([
                RunLine(id=new_id(), run_id=run.id, line_no=line.line_no, part_id=line.part_id, per_unit=line.quantity,
                        required=canon(line.quantity * data.quantity), issued=0, consumed=0,
                        made_on_assembly=line.made_on_assembly)
                for line, _ in await bom_lines(session, part)
            ])
            await session.flush()
            await batch.finish()
            return await run_out(session, run)

    async def act(self, number: str, action: str, actor: Actor) -> RunOut:
        """`start`, `complete`, `fail` or `cancel` the run."""
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            run = await find(session, number)
            was = run.state
            to = rules.check_transition(run.number, was, action)
            ctx = OpContext(batch=batch, op_id=new_id(), op_type=f"run_{action}", actor=actor,
                            version=batch.next_version())
            lines = list((await session.scalars(select(RunLine).where(RunLine.run_id == run.id))).all())
            if action == "start":
                await _make_wip_location(ctx, run)
                for line in lines:
                    if not line.made_on_assembly:
                        demand(ctx, line.part_id, run.location_id, -line.required, f"run {run.number} started")
            if was == RunState.open and to != RunState.open:  # what was not issued is no longer needed
                for line in lines:
                    if not line.made_on_assembly:
                        demand(ctx, line.part_id, run.location_id, rules.remaining(line.required, line.issued),
                               f"run {run.number} {to}")
            if to in (RunState.completed, RunState.cancelled) and run.wip_location_id is not None:
                await _return_leftovers(ctx, run)
            run.state = to
            now = datetime.now(UTC)
            if action == "start":
                run.started_at = now
            elif to != RunState.failed:
                run.closed_at, run.closed_by = now, actor.username
            await session.flush()
            batch.trail.extend(ctx.trail)
            await batch.finish()
            return await run_out(session, run)


async def _make_wip_location(ctx: OpContext, run: Run) -> None:
    home = await ctx.location_by_id(run.location_id)
    code = f"{home.code}/{run.number}"
    if len(code) > 128 or await ctx.session.scalar(select(exists().where(Location.code == code))):
        raise AlreadyExists(f"A location {code[:128]} exists already: the run cannot have it as its WIP place",
                            field="number")
    wip = Location(id=new_id(), code=code, name=f"WIP of run {run.number}", parent_id=home.id,
                   kind=LocationKind.lineside.value, available=True, wip=True, version=ctx.version,
                   rows_version=ctx.version)
    ctx.session.add(wip)
    await ctx.session.flush()
    run.wip_location_id = wip.id


async def _return_leftovers(ctx: OpContext, run: Run) -> None:
    """What is still in the run's WIP location (free, or isolated) goes back to the run's location; the WIP
    location is WIP no more."""
    wip = await ctx.location_by_id(run.wip_location_id)
    home = await ctx.location_by_id(run.location_id)
    why = f"returned from run {run.number}"
    left = await ctx.load(SELECT_ROWS.where(
        INVENTORY.c.location_id == wip.id, INVENTORY.c.installed_in_id.is_(None), INVENTORY.c.scrapped.is_(False),
        INVENTORY.c.quantity > 0,
    ))
    for row in left:
        part = await ctx.session.get_one(Part, row.part_id)
        quantity = row.quantity
        if row.serial is not None:
            await relocate_assembly(ctx, row, home)
            moved = row
        else:
            taken = await ctx.take(part, row.lot, wip, quantity, isolated=row.isolated)
            moved = await ctx.put(part, row.lot, home, quantity, tracking=taken.tracking, like=taken,
                                  isolated=taken.isolated, isolation_reason=taken.isolation_reason)
        ctx.ledger(part, wip.id, moved.lot, -quantity, why)
        ctx.ledger(part, home.id, moved.lot, quantity, why)
        ctx.log(Action.move, part, moved, quantity, from_location=wip, to_location=home, reason=why)
        record(ctx, run, ItemKind.returned, part.id, moved, quantity)
    wip.wip = False
    wip.version = wip.rows_version = ctx.version


async def run_out(session: AsyncSession, run: Run) -> RunOut:
    part = await session.get_one(Part, run.part_id)
    location = await session.get_one(Location, run.location_id)
    wip = await session.get(Location, run.wip_location_id) if run.wip_location_id else None
    lines = await session.execute(
        select(RunLine, Part).join(Part, Part.id == RunLine.part_id).where(RunLine.run_id == run.id)
        .order_by(RunLine.line_no)
    )
    items = await session.execute(
        select(RunItem, Part.part_number).join(Part, Part.id == RunItem.part_id).where(RunItem.run_id == run.id)
        .order_by(RunItem.created_at, RunItem.id)
    )
    out: dict[str, list[RunItemOut]] = {"issued": [], "produced": []}
    for item, number in items.tuples():
        if item.kind in out:
            out[item.kind].append(item_out(item, number))
    return RunOut(
        number=run.number, part=part.part_number, revision=run.revision, state=run.state, quantity=run.quantity,
        produced=run.produced, location=location.code, wip_location=wip.code if wip else None, serials=run.serials,
        lot=run.lot, created_by=run.created_by, created_at=run.created_at, started_at=run.started_at,
        closed_at=run.closed_at, closed_by=run.closed_by,
        requirements=[
            RunLineOut(line=line.line_no, part=component.part_number, unit=component.unit,
                       tracking=component.tracking, per_unit=line.per_unit, required=line.required,
                       issued=line.issued, consumed=line.consumed,
                       remaining=0 if line.made_on_assembly else rules.remaining(line.required, line.issued),
                       made_on_assembly=line.made_on_assembly)
            for line, component in lines.tuples()
        ],
        issued=out["issued"], produced_items=out["produced"],
    )


def item_out(item: RunItem, part: str) -> RunItemOut:
    return RunItemOut(at=item.created_at, kind=item.kind, part=part, serial=item.serial, lot=item.lot,
                      quantity=item.quantity, into_serial=item.into_serial, op_id=str(item.op_id))

