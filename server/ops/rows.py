"""Stock rows as operations handle them: plain objects that remember what changed, read and written by the
op's transaction itself, a statement per kind of change.

A push applies hundreds of ops per write transaction, each moving quantities between a few rows of
`inventory`. As ORM objects those rows cost more than the ops' own logic: every attribute set is an
event, every loaded row an identity-map entry with its history, and the unit of work's flush sorts,
diffs and writes them row by row (it begins a new UPDATE statement whenever the set of changed columns
differs from the row before). Ops handle `Stock` rows instead: the columns of `inventory` as slots, and
the names of the columns set since the row was last written (`changed`). `StockRows` is what one
transaction has of them — or one op, for an op applied on its own:

- `load(statement)` runs a SELECT of `inventory`'s columns and answers rows it already holds with the
  objects it holds (the same row is one object), after writing what is pending, as the session's
  autoflush would: what a query finds is what the ops made so far;
- `make(**values)` a new row (written at the next `write`);
- `write()`: the new rows by one INSERT executemany (parents before the rows installed in them), then the
  changed ones by one UPDATE executemany per set of changed columns (server/db/bulk.py), `updated_at` set as
  the audit column's `onupdate` sets it; then what packages above registered in `also` (the PO lines
  receipts changed), so that they are written, and rolled back, with the stock rows. An ORM object of a written row the session also holds (a count
  decision's look at a unit, say) is expired, so that it reads the row again;
- after a rollback to a SAVEPOINT the objects may hold what was rolled back: `forget()` drops them all and
  the transaction loads them again (server/ops/batch.py);
- `lock`: a transaction that works beside other writers (a push chunk on PostgreSQL) reads rows FOR UPDATE.

Constraints still decide: a duplicate serial fails the `write` (as `DuplicateSerial`, whoever applies the op),
a second bucket too (an IntegrityError).
"""

from __future__ import annotations

from datetime import UTC, datetime
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from server.db.bulk import insert_rows, update_rows
from server.errors import DuplicateSerial
from server.models import InventoryRow

INVENTORY = InventoryRow.__table__
COLUMNS = tuple(column.key for column in INVENTORY.columns)
WRITTEN = tuple(key for key in COLUMNS if key not in ("created_at", "updated_at", "sa_orm_sentinel"))  # by INSERT


class Stock:
    """One row of `inventory` (its columns as attributes) and the columns set since it was last written."""

    __slots__ = (*COLUMNS, "changed")

    def __init__(self, values: dict[str, Any]) -> None:
        for key in COLUMNS:
            object.__setattr__(self, key, values.get(key))
        object.__setattr__(self, "changed", set())

    def __setattr__(self, key: str, value: Any) -> None:
        if getattr(self, key) != value:  # a value set again as it was changes nothing
            object.__setattr__(self, key, value)
            self.changed.add(key)

    def written(self, key: str, value: Any) -> None:
        """`key` set to `value` by a statement that already wrote it (no change left to write)."""
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return f"Stock({self.serial or self.lot or 'untracked'}, id={self.id})"


SELECT_ROWS = INVENTORY.select()  # every column, in COLUMNS' order: `StockRows.load` takes its WHERE


class StockRows:
    """The stock rows of one write transaction (of one op, for an op applied on its own): those held, by id,
    and those made and not written yet (see the module's docstring)."""

    def __init__(self) -> None:
        self.held: dict[UUID, Stock] = {}
        self.made: list[Stock] = []
        self.lock = False  # rows are read FOR UPDATE, in id order (a push chunk beside others: server/ops/batch.py)
        # rows of packages above that ops change beside stock rows, written with them (purchasing's PO lines):
        # by name, what writes them
        self.also: dict[str, Callable[[AsyncSession], Awaitable[None]]] = {}

    def make(self, **values: Any) -> Stock:
        row = Stock(values)
        self.held[row.id] = row
        self.made.append(row)
        return row

    async def load(
        self, session: AsyncSession, statement: Select[Any], params: dict[str, Any] | None = None, *, write: bool = True
    ) -> list[Stock]:
        """The rows `statement` (a `SELECT_ROWS.where(...)`) finds, those already held as they are held.
        `write=False`: the caller knows that no row it may find was changed here (it need not wait for them)."""
        if write:
            await self.write(session)
        connection = await session.connection()
        if self.lock:
            statement = statement.order_by(INVENTORY.c.id).with_for_update()
        found = []
        for values in (await connection.execute(statement, params)).mappings():
            row = self.held.get(values["id"])
            if row is None:
                row = self.held[values["id"]] = Stock(dict(values))
            found.append(row)
        return found

    async def get(self, session: AsyncSession, row_id: UUID) -> Stock:
        row = self.held.get(row_id)
        if row is None:
            (row,) = await self.load(session, SELECT_ROWS.where(INVENTORY.c.id == row_id))
        return row

    async def write(self, session: AsyncSession) -> None:
        """INSERT the rows made, then UPDATE the rows changed, a statement per set of changed columns."""
        made, self.made = self.made, []
        new = {row.id for row in made}
        changed: dict[tuple[str, ...], list[Stock]] = {}
        for row in self.held.values():
            if row.changed:
                if row.id not in new:
                    changed.setdefault(tuple(sorted(row.changed)), []).append(row)
                row.changed.clear()
        if made:
            rows = [{key: getattr(row, key) for key in WRITTEN} for row in parents_first(made)]
            try:
                await insert_rows(session, INVENTORY, rows)
            except IntegrityError as error:  # the unique index on serials is the last word on duplicates
                if "serial" in str(error.orig).lower():
                    raise DuplicateSerial("Serial already exists", field="args.serial") from error
                raise
        if changed:
            now = datetime.now(UTC)
            for keys, rows in changed.items():
                params = [
                    {**{key: getattr(row, key) for key in keys}, "updated_at": now, "pk_": row.id} for row in rows
                ]
                await update_rows(session, INVENTORY, (*keys, "updated_at"), params)
                for row in rows:
                    row.written("updated_at", now)
            expire_orm_copies(session, [row.id for rows in changed.values() for row in rows])
        for write in self.also.values():
            await write(session)

    def forget(self) -> None:
        self.held.clear()
        self.made.clear()
        self.also.clear()


def parents_first(rows: list[Stock]) -> list[Stock]:
    """New rows in an order that INSERTs a row before any new row installed in it (the foreign key is
    checked per row)."""
    new = {row.id: row for row in rows}

    def depth(row: Stock) -> int:
        level = 0
        while row.installed_in_id in new:
            row, level = new[row.installed_in_id], level + 1
        return level

    return sorted(rows, key=depth)


def expire_orm_copies(session: AsyncSession, ids: list[UUID]) -> None:
    """ORM objects of these rows that the session holds (loaded by code around the ops) read them again."""
    held = session.sync_session.identity_map
    if not ids or not len(held):
        return
    for row_id in ids:
        orm = held.get(identity_key(InventoryRow, row_id))
        if orm is not None:
            session.expire(orm)
