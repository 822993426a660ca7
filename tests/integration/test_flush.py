"""server/ops/flush.py: a flush UPDATEs changed inventory rows one statement per set of changed columns,
stores what the unit of work would store (values, a new `updated_at`), leaves it nothing to write twice,
and a rolled-back SAVEPOINT still expires what it wrote. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError

import server.ops.flush  # noqa: F401 - the before_flush hook under test
from server.db import Database
from server.models import InventoryRow, Location, Part
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


async def stock(db: Database, count: int) -> list[InventoryRow]:
    """`count` untracked buckets of 10, of parts and at locations of their own, and a location L-X."""
    async with db.write() as session:
        parts = [Part(part_number=f"P-{i}", tracking="untracked") for i in range(count)]
        places = [Location(code=f"L-{i}", name="") for i in range(count)] + [Location(code="L-X", name="")]
        session.add_all([*parts, *places])
        await session.flush()
        rows = [
            InventoryRow(**{**UNIT, "id": new_id(), "part_id": part.id, "location_id": place.id, "quantity": 10,
                            "tracking": "untracked", "version": 1})
            for part, place in zip(parts, places, strict=False)
        ]
        session.add_all(rows)
    return rows


async def test_changed_rows_are_written_one_statement_per_set_of_changed_columns(db: Database) -> None:
    rows = await stock(db, 6)
    before = datetime.now(UTC)
    async with db.write() as session:
        loaded = (await session.execute(select(InventoryRow).order_by(InventoryRow.id))).scalars().all()
        target = (await session.execute(select(Location).where(Location.code == "L-X"))).scalar_one()
        with statements(db) as seen:
            for row in loaded[::2]:  # quantity and version
                row.quantity, row.version = 7, 2
            for row in loaded[1::2]:  # location and version, interleaved by id with the others
                row.location_id, row.version = target.id, 2
            loaded[1].quantity = 10  # set to the value it had: no change
            await session.flush()
            await session.flush()  # nothing left to write
        updates = [sql for sql in seen if sql.startswith("UPDATE inventory")]
        assert len(updates) == 2, seen
    async with db.read() as session:
        back = {row.id: row for row in (await session.execute(select(InventoryRow))).scalars()}
    assert [(back[row.id].quantity, back[row.id].location_id == target.id, back[row.id].version) for row in loaded] == [
        (7, False, 2), (10, True, 2)
    ] * 3
    assert all(back[row.id].updated_at >= before for row in rows)


async def test_a_rolled_back_savepoint_expires_the_rows_it_wrote(db: Database) -> None:
    await stock(db, 2)
    async with db.write() as session:
        first, second = (await session.execute(select(InventoryRow).order_by(InventoryRow.id))).scalars().all()
        first.quantity = 4
        await session.flush()  # kept: before the SAVEPOINT
        try:
            async with session.begin_nested():
                first.quantity, second.quantity = 1, 2
                await session.flush()
                raise LookupError
        except LookupError:
            pass
        # expired as any row flushed in the SAVEPOINT: the next read loads what the database holds again
        assert all("quantity" in inspect(row).expired_attributes for row in (first, second))
        await session.refresh(first)
        await session.refresh(second)
        assert (first.quantity, second.quantity) == (4, 10)
        second.quantity = 3
    async with db.read() as session:
        quantities = (await session.execute(select(InventoryRow.quantity).order_by(InventoryRow.id))).scalars().all()
    assert quantities == [4, 3]


async def test_a_failed_flush_leaves_no_update_for_the_next_one(db: Database) -> None:
    rows = await stock(db, 2)
    async with db.write() as session:
        first, second = (await session.execute(select(InventoryRow).order_by(InventoryRow.id))).scalars().all()
        twin = {**UNIT, "part_id": second.part_id, "location_id": second.location_id, "quantity": 1,
                "tracking": "untracked", "version": 2}
        try:
            async with session.begin_nested():
                first.quantity = 5  # taken by the flush, which then fails on its INSERT: a second bucket there
                session.add(InventoryRow(id=new_id(), **twin))
                await session.flush()
        except IntegrityError:
            pass
        session.add(InventoryRow(id=new_id(), **{**twin, "location_id": rows[0].location_id}))  # nothing to UPDATE
        await session.flush()
    async with db.read() as session:
        quantities = (await session.execute(select(InventoryRow.quantity).order_by(InventoryRow.id))).scalars().all()
    assert quantities == [10, 10, 1]
