"""server/ops/rows.py: the stock rows ops handle are read as one object per row (what ops changed
included), written by one INSERT for the rows made (parents first) and one UPDATE per set of changed
columns, store what the ORM would store, and leave no stale ORM copy behind. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from server.db import Database
from server.models import InventoryRow, Location, Part
from server.ops.rows import INVENTORY, SELECT_ROWS, StockRows
from server.ops.stock import UNIT, new_id


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL the engine runs meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def places(db: Database, count: int) -> tuple[list[Part], list[Location]]:
    """`count` untracked parts and `count` locations, and a serialized part last."""
    async with db.write() as session:
        parts = [Part(part_number=f"P-{i}", tracking="untracked") for i in range(count)]
        parts.append(Part(part_number="P-SN", tracking="serial"))
        locations = [Location(code=f"L-{i}", name="") for i in range(count)]
        session.add_all([*parts, *locations])
    return parts, locations


def bucket(part: Part, location: Location, quantity: int = 10) -> dict[str, object]:
    return {**UNIT, "id": new_id(), "part_id": part.id, "location_id": location.id, "quantity": quantity,
            "tracking": "untracked", "version": 1}


async def stored(db: Database) -> dict[object, InventoryRow]:
    async with db.read() as session:
        return {row.id: row for row in (await session.execute(select(InventoryRow))).scalars()}


async def test_changed_rows_are_written_one_statement_per_set_of_changed_columns(db: Database) -> None:
    parts, locations = await places(db, 6)
    async with db.write() as session:
        rows = StockRows()
        made = [rows.make(**bucket(part, location)) for part, location in zip(parts, locations, strict=False)]
        await rows.write(session)
    before = datetime.now(UTC)
    async with db.write() as session:
        rows = StockRows()
        loaded = await rows.load(session, SELECT_ROWS.order_by(INVENTORY.c.id))
        with statements(db) as seen:
            for row in loaded[::2]:  # quantity and version
                row.quantity, row.version = 7, 2
            for index, row in enumerate(loaded[1::2]):  # location and version, interleaved by id with the others
                row.location_id, row.version = locations[(2 * index + 2) % 6].id, 2
            loaded[0].lot = None  # set to the value it had: no change (no third set of columns)
            await rows.write(session)
            await rows.write(session)  # nothing left to write
        assert len([sql for sql in seen if sql.startswith("UPDATE inventory")]) == 2, seen
        assert len(seen) == 2
    back = await stored(db)
    assert [(back[row.id].quantity, back[row.id].location_id, back[row.id].version) for row in made] == [
        (7, locations[0].id, 2), (10, locations[2].id, 2), (7, locations[2].id, 2),
        (10, locations[4].id, 2), (7, locations[4].id, 2), (10, locations[0].id, 2),
    ]
    assert all(back[row.id].updated_at >= before for row in made)
    assert all(back[row.id].created_at < before for row in made)


async def test_a_load_answers_with_the_rows_held_and_sees_what_ops_made(db: Database) -> None:
    parts, locations = await places(db, 2)
    async with db.write() as session:
        rows = StockRows()
        first = rows.make(**bucket(parts[0], locations[0]))
        first.quantity = 4  # not written yet: the load writes it first, as an autoflush would
        found = await rows.load(session, SELECT_ROWS.where(INVENTORY.c.location_id == locations[0].id))
        assert found == [first] and found[0] is first and first.quantity == 4
        again = await rows.load(session, SELECT_ROWS.where(INVENTORY.c.part_id == parts[0].id))
        assert again[0] is first
    assert [row.quantity for row in (await stored(db)).values()] == [4]


async def test_rows_made_are_inserted_parents_first(db: Database) -> None:
    parts, locations = await places(db, 1)
    serial_part = parts[-1]
    async with db.write() as session:
        rows = StockRows()
        unit = {**UNIT, "part_id": serial_part.id, "location_id": locations[0].id, "version": 1}
        component = rows.make(**unit, id=new_id(), serial="SN-C")  # made first ...
        parent = rows.make(**unit, id=new_id(), serial="SN-P")
        component.installed_in_id = parent.id  # ... installed into a parent made after it
        await rows.write(session)
    back = await stored(db)
    assert back[component.id].installed_in_id == parent.id and back[parent.id].installed_in_id is None


async def test_an_orm_copy_of_a_written_row_reads_it_again(db: Database) -> None:
    parts, locations = await places(db, 1)
    async with db.write() as session:
        rows = StockRows()
        row = rows.make(**bucket(parts[0], locations[0]))
        await rows.write(session)
    async with db.write() as session:
        orm = (await session.execute(select(InventoryRow))).scalar_one()  # code around the ops looked at it
        rows = StockRows()
        (held,) = await rows.load(session, SELECT_ROWS)
        held.quantity = 3
        await rows.write(session)
        again = (await session.execute(select(InventoryRow))).scalar_one()
        assert again is orm and orm.quantity == 3
    assert row.quantity == 10  # the first transaction's object is its own


async def test_a_second_bucket_fails_the_write(db: Database) -> None:
    parts, locations = await places(db, 1)
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            rows = StockRows()
            rows.make(**bucket(parts[0], locations[0]))
            rows.make(**bucket(parts[0], locations[0], quantity=1))
            await rows.write(session)
    assert await stored(db) == {}
