"""Assemblies: moving a unit with everything installed in it, and the chain of units a unit sits in.

An installed row carries its top assembly's location, so moving a unit moves its whole tree. The trees
a write transaction knows (`Lookups.components`: prefetched, or made in it) are walked in memory; below a
row whose components are not known, one recursive UPDATE moves them in the database.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update

from server.models import Location
from server.ops.rows import INVENTORY, Stock, expire_orm_copies
from server.ops.stock import OpContext


def _relocation() -> Any:
    """UPDATE every component of :unit_id, at any depth, to :new_location and :new_version, RETURNING their ids.
    Built once: a Core statement, so the ORM does not evaluate it against the session each time."""
    inventory = INVENTORY
    tree = select(inventory.c.id).where(inventory.c.installed_in_id == bindparam("unit_id")).cte("tree", recursive=True)
    tree = tree.union_all(select(inventory.c.id).where(inventory.c.installed_in_id == tree.c.id))
    return (
        update(inventory)
        .where(inventory.c.id.in_(select(tree.c.id)))
        .values(location_id=bindparam("new_location"), version=bindparam("new_version"))
        .returning(inventory.c.id)
    )


RELOCATION = _relocation()


async def relocate_assembly(ctx: OpContext, unit: Stock, location: Location) -> None:
    """Move a unit and everything installed in it (at any depth) to `location`. The components known here
    (`Lookups.components`) are updated here; below a row whose components are not known, the database's
    are updated by one statement, and the ones held here with them: a write transaction may apply many ops,
    and later ones must see them moved."""
    pending, unknown = [unit], []
    while pending:
        row = pending.pop()
        row.location_id = location.id
        row.version = ctx.version
        components = ctx.lookups.components.get(row.id)
        if components is None:
            unknown.append(row)
        else:
            pending.extend(components)
    if not unknown:
        return
    await ctx.written()
    connection = await ctx.session.connection()
    held, moved_ids = ctx.lookups.rows.held, []
    for row in unknown:
        moved = await connection.execute(
            RELOCATION, {"unit_id": row.id, "new_location": location.id, "new_version": ctx.version}
        )
        for (component_id,) in moved:
            moved_ids.append(component_id)
            if (component := held.get(component_id)) is not None:
                component.written("location_id", location.id)
                component.written("version", ctx.version)
    expire_orm_copies(ctx.session, moved_ids)


async def ancestors(ctx: OpContext, unit: Stock) -> list[UUID]:
    """Ids of the unit and every assembly it sits in, innermost first."""
    chain = [unit.id]
    parent_id = unit.installed_in_id
    while parent_id is not None and parent_id not in chain:
        chain.append(parent_id)
        parent_id = (await ctx.row(parent_id)).installed_in_id  # often held already
    return chain
