"""Build requirements (BOMs): one per part revision, its lines the components per assembly; and the check
`install` makes against the parent's BOM (provided to server/ops/building.py when this package is imported).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.db import Database
from server.errors import NotFound, NotOnBom
from server.models import InventoryRow, Part
from server.ops.rows import Stock
from server.ops.stock import OpContext, new_id
from server.production.models import Bom, BomLine
from server.production.schemas import BomIn, BomLineOut, BomOut
from server.rules import production as rules
from server.rules.quantities import Number, check_precision, parse_quantity, part_places


async def part_named(session: AsyncSession, number: str, field: str = "part") -> Part:
    found = (await session.execute(select(Part).where(Part.part_number == number))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No part {number}", field=field)
    return found


async def bom_lines(session: AsyncSession, part: Part, revision: str | None = None) -> list[tuple[BomLine, Part]]:
    """The BOM lines of the part's revision (its current one unless given), with their parts; [] without one."""
    query = (
        select(BomLine, Part).join(Bom, Bom.id == BomLine.bom_id).join(Part, Part.id == BomLine.part_id)
        .where(Bom.part_id == part.id, Bom.revision == (part.revision if revision is None else revision))
        .order_by(BomLine.line_no)
    )
    return [(line, component) for line, component in (await session.execute(query)).tuples()]


class BomService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, number: str, revision: str | None) -> BomOut:
        async with self.db.read() as session:
            part = await part_named(session, number)
            lines = await bom_lines(session, part, revision)
            return _out(part, part.revision if revision is None else revision, lines)

    async def put(self, number: str, data: BomIn, actor: Actor) -> BomOut:
        """Replace the BOM of the part's revision (its current one unless `revision` is given)."""
        async with self.db.write() as session:
            part = await part_named(session, number)
            revision = part.revision if data.revision is None else data.revision
            lines: list[tuple[Part, Number, bool]] = []
            for index, given in enumerate(data.lines):
                field = f"lines[{index}]"
                component = await part_named(session, given.part, f"{field}.part")
                quantity = parse_quantity(given.quantity, f"{field}.quantity")
                check_precision(quantity, part_places(component), component.unit, f"{field}.quantity")
                lines.append((component, quantity, given.made_on_assembly))
            rules.check_bom_lines([(c.part_number, q) for c, q, _ in lines], part.part_number)
            bom = (await session.execute(
                select(Bom).where(Bom.part_id == part.id, Bom.revision == revision)
            )).scalar_one_or_none()
            if bom is None:
                bom = Bom(id=new_id(), part_id=part.id, revision=revision, updated_by=actor.username)
                session.add(bom)
                await session.flush()
            else:
                bom.updated_by = actor.username
                await session.execute(delete(BomLine).where(BomLine.bom_id == bom.id))
            session.add_all([
                BomLine(id=new_id(), bom_id=bom.id, line_no=n + 1, part_id=component.id, quantity=quantity,
                        made_on_assembly=moa)
                for n, (component, quantity, moa) in enumerate(lines)
            ])
            await session.flush()
            return _out(part, revision, await bom_lines(session, part, revision))


def _out(part: Part, revision: str, lines: list[tuple[BomLine, Part]]) -> BomOut:
    return BomOut(part=part.part_number, revision=revision, lines=[
        BomLineOut(line=line.line_no, part=component.part_number, quantity=line.quantity,
                   made_on_assembly=line.made_on_assembly, unit=component.unit)
        for line, component in lines
    ])


async def _allowed(ctx: OpContext, assembly: Part) -> dict[UUID, Number]:
    """The assembly part's BOM as {component part id: quantity per assembly}, read once per transaction."""
    found = ctx.lookups.boms.get(assembly.id)
    if found is None:
        found = {line.part_id: line.quantity for line, _ in await bom_lines(ctx.session, assembly)}
        ctx.lookups.boms[assembly.id] = found
    return found


async def check_install(ctx: OpContext, parent: Stock, part: Part, quantity: Number) -> str | None:
    """`install`'s check (server/ops/building.py): a parent whose part has a BOM takes only what it lists, up
    to its quantity (what is installed in the parent already counts). Approved by a supervisor: the deviation."""
    assembly: Any = await ctx.session.get_one(Part, parent.part_id)
    allowed = await _allowed(ctx, assembly)
    if not allowed:
        return None
    await ctx.written()
    already = await ctx.session.scalar(
        select(func.coalesce(func.sum(InventoryRow.quantity), 0))
        .where(InventoryRow.installed_in_id == parent.id, InventoryRow.part_id == part.id)
    )
    try:
        rules.check_on_bom(part.part_number, assembly.part_number, allowed.get(part.id), already or 0, quantity)
    except NotOnBom as refused:
        if not ctx.approved:
            raise
        return f"BOM deviation approved: {refused}"
    return None
