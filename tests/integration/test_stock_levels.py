"""The stock levels the database keeps (server/levels.py: per constraint, Available and On order of its part in its
location's subtree) stay equal to what the status rule makes from the rows, whatever writes them: random
sequences of plain SQL writes of inventory rows (every column the status reads), of locations (availability, a
run's WIP place, a kit's tote, a new parent, a new location) and of constraints (a new one, one dropped, one
moved to another location), on a real database of each engine. The operations' own sequences are
checked the same way in test_ops_property.py."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.db import Database
from server.levels import location_tree
from server.models import InventoryRow, Location, Part
from server.purchasing.models import StockConstraint
from tests.integration.ops_support import constrain_everywhere, levels_kept_right

CODES = ["S1", "S1/A", "S1/A/B1", "S1/A/B2", "S2", "S2/A"]
PARENTS = {"S1/A": "S1", "S1/A/B1": "S1/A", "S1/A/B2": "S1/A", "S2/A": "S2"}
ROW_VALUES = {
    "quantity": st.sampled_from([0, 1, 2, Decimal("0.5"), 7]),
    "scrapped": st.booleans(),
    "removed": st.booleans(),
    "isolated": st.booleans(),
    "po_state": st.sampled_from([None, "open", "received", "cancelled"]),
    "installed": st.booleans(),
}
LOCATION_VALUES = {"available": st.booleans(), "wip": st.booleans(), "kit": st.booleans()}

write = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(CODES), st.sampled_from(["P1", "P2"]), st.fixed_dictionaries(ROW_VALUES)),
    st.tuples(st.just("update"), st.integers(0, 30), st.sampled_from(sorted(ROW_VALUES)), st.data()),
    st.tuples(st.just("move"), st.integers(0, 30), st.sampled_from(CODES)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("flag"), st.sampled_from(CODES), st.sampled_from(sorted(LOCATION_VALUES)), st.booleans()),
    st.tuples(st.just("reparent"), st.sampled_from(CODES), st.sampled_from([None, *CODES])),
    st.tuples(st.just("new_location"), st.sampled_from(CODES)),
    st.tuples(st.just("unconstrain"), st.integers(0, 30)),
    st.tuples(st.just("reconstrain"), st.integers(0, 30), st.sampled_from(CODES)),
)


async def _catalogue(db: Database) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    async with db.write() as session:
        for table in (StockConstraint, InventoryRow, Location, Part):
            await session.execute(delete(table))
        parts = {number: uuid.uuid4() for number in ("P1", "P2")}
        session.add_all(Part(id=pid, part_number=number, tracking="untracked") for number, pid in parts.items())
        places: dict[str, uuid.UUID] = {}
        for code in CODES:
            places[code] = uuid.uuid4()
            session.add(Location(id=places[code], code=code, parent_id=places.get(PARENTS.get(code, ""))))
            await session.flush()  # parents first: a new location's place in the tree is its parent's
        await constrain_everywhere(session)
    return parts, places


async def _row_values(place: uuid.UUID, part: uuid.UUID, values: dict[str, Any], session: Any) -> dict[str, Any]:
    installed = values.pop("installed")
    holder = None
    if installed:  # installed in some other row, when there is one
        holder = await session.scalar(select(InventoryRow.id).limit(1))
    scrapped = values["scrapped"] and holder is None
    return {**values, "scrapped": scrapped, "installed_in_id": holder, "part_id": part, "location_id": place,
            "tracking": "untracked", "po_line_id": uuid.uuid4() if values["po_state"] else None}


async def _apply(db: Database, step: tuple[Any, ...], parts: dict[str, uuid.UUID], places: dict[str, uuid.UUID]) -> None:
    """One write; a write the schema refuses (a second row of one bucket: `uq_inventory_bucket`) is rolled back,
    and the sums must be as they were."""
    try:
        await _write(db, step, parts, places)
    except IntegrityError:
        pass


async def _write(db: Database, step: tuple[Any, ...], parts: dict[str, uuid.UUID], places: dict[str, uuid.UUID]) -> None:
    kind = step[0]
    async with db.write() as session:
        rows = list(await session.scalars(select(InventoryRow.id).order_by(InventoryRow.id)))
        if kind == "insert":
            _, code, part, values = step
            await session.execute(insert(InventoryRow).values(
                id=uuid.uuid4(), **await _row_values(places[code], parts[part], dict(values), session)))
        elif kind in ("update", "move", "delete") and rows:
            row = rows[step[1] % len(rows)]
            if kind == "delete":
                await session.execute(update(InventoryRow).where(InventoryRow.installed_in_id == row)
                                      .values(installed_in_id=None))
                await session.execute(delete(InventoryRow).where(InventoryRow.id == row))
            elif kind == "move":
                await session.execute(update(InventoryRow).where(InventoryRow.id == row)
                                      .values(location_id=places[step[2]]))
            else:
                _, _, column, data = step
                value = data.draw(ROW_VALUES[column])
                changes: dict[str, Any] = {column: value}
                if column == "installed":
                    other = next((r for r in rows if r != row), None)
                    changes = {"installed_in_id": other if value else None, "scrapped": False}
                elif column == "scrapped" and value:
                    changes["installed_in_id"] = None
                elif column == "po_state":
                    changes["po_line_id"] = uuid.uuid4() if value else None
                await session.execute(update(InventoryRow).where(InventoryRow.id == row).values(**changes))
        elif kind == "flag":
            _, code, flag, value = step
            column = {"kit": "kit_id"}.get(flag, flag)
            await session.execute(update(Location).where(Location.id == places[code]).values(
                {column: (uuid.uuid4() if value else None) if flag == "kit" else value}))
        elif kind == "reparent":
            _, code, parent = step
            inside = set(await session.scalars(select(location_tree.c.location_id)
                                               .where(location_tree.c.ancestor_id == places[code])))
            if parent is None or places[parent] not in inside:  # never a loop (the catalogue refuses one)
                await session.execute(update(Location).where(Location.id == places[code])
                                      .values(parent_id=places[parent] if parent else None))
        elif kind == "new_location":
            code = f"{step[1]}/N{len(places)}"
            places[code] = uuid.uuid4()
            await session.execute(insert(Location).values(id=places[code], code=code, parent_id=places[step[1]]))
            await constrain_everywhere(session)  # summed by the constraints' insert trigger
        elif kind in ("unconstrain", "reconstrain"):
            constraints = list(await session.scalars(select(StockConstraint.id).order_by(StockConstraint.id)))
            if kind == "unconstrain" and len(constraints) > 1:  # dropped, then made again (summed from the rows)
                await session.execute(delete(StockConstraint).where(StockConstraint.id == constraints[step[1] % len(constraints)]))
                await constrain_everywhere(session)
            elif kind == "reconstrain":  # moved to another location, where that part has none
                one = constraints[step[1] % len(constraints)]
                part = await session.scalar(select(StockConstraint.part_id).where(StockConstraint.id == one))
                taken = set(await session.scalars(select(StockConstraint.location_id).where(StockConstraint.part_id == part)))
                if places[step[2]] not in taken:
                    await session.execute(update(StockConstraint).where(StockConstraint.id == one)
                                          .values(location_id=places[step[2]]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(write, min_size=1, max_size=25))
async def test_stock_levels_follow_every_write_of_rows_and_locations(db: Database, steps: list[Any]) -> None:
    parts, places = await _catalogue(db)
    for step in steps:
        await _apply(db, step, parts, places)
        async with db.read() as session:
            await levels_kept_right(session)


async def test_a_subtree_moved_under_another_site_takes_its_sums_along(db: Database) -> None:
    parts, places = await _catalogue(db)
    async with db.write() as session:
        await session.execute(insert(InventoryRow).values(
            id=uuid.uuid4(), part_id=parts["P1"], location_id=places["S1/A/B1"], quantity=5, tracking="untracked"))
        await session.execute(insert(InventoryRow).values(
            id=uuid.uuid4(), part_id=parts["P1"], location_id=places["S1/A/B2"], quantity=2, tracking="untracked",
            po_state="open", po_line_id=uuid.uuid4()))
    await _apply(db, ("reparent", "S1/A", "S2/A"), parts, places)
    async with db.read() as session:
        kept = {place: (available, on_order) for place, available, on_order in await session.execute(
            select(StockConstraint.location_id, StockConstraint.available, StockConstraint.on_order)
            .where(StockConstraint.part_id == parts["P1"]))}
        await levels_kept_right(session)
    assert kept[places["S1"]] == (0, 0)
    assert kept[places["S2"]] == (5, 2) and kept[places["S2/A"]] == (5, 2) and kept[places["S1/A"]] == (5, 2)
    assert kept[places["S1/A/B1"]] == (5, 0)
