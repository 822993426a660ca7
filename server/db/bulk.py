"""Many rows into one table in one executemany, without SQLAlchemy's work per row.

A write transaction that applies a chunk of pushed ops inserts a few hundred rows per table at its end (op
records, sync records, ledger and movement lines). SQLAlchemy's executemany of a Core insert spends ~15 µs
on each row here: the row's full parameter set is built, every column default called and every value
converted through the generic bind machinery. `insert_rows` compiles the INSERT once per table and
dialect, with every column in a fixed order, makes the defaults once per statement (a primary key's once
per row), and per row calls each column type's own bind processor directly (server/db/codecs.py; for UUIDs on SQLite,
the 16 bytes advanced-alchemy's GUID stores).
The values stored are exactly those SQLAlchemy would store: the same processors convert them.
`update_rows` does the same for UPDATEs of a few columns by primary key (the stock rows ops changed:
server/ops/rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from advanced_alchemy.types import GUID
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.db.codecs import Processor, bind_processor, uuid_bytes


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    keys: tuple[str, ...]  # the columns, in the order of the statement's parameters
    defaults: tuple[Callable[[], Any] | None, ...]  # for a value a row does not give
    per_row: tuple[bool, ...]  # a default made for each row (a primary key), not once for the statement
    processors: tuple[Processor, ...]


_PLANS: dict[tuple[Table, str], _Plan] = {}


class _UpdatePlan(NamedTuple):
    sql: str
    keys: tuple[str, ...]  # the parameters' keys in order (the primary key's is "pk_")
    processors: tuple[Processor, ...]


_UPDATES: dict[tuple[Table, tuple[str, ...], str], _UpdatePlan] = {}


def _default(column: Any) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps every callable default to take a context
    return lambda: default.arg


def _processor(column: Any, dialect: Dialect) -> Processor:
    if isinstance(column.type, GUID) and dialect.name == "sqlite" and column.type.binary:
        return uuid_bytes
    return bind_processor(column.type, dialect)


def _plan(table: Table, dialect: Dialect) -> _Plan:
    plan = _PLANS.get((table, dialect.name))
    if plan is None:
        columns = list(table.columns)
        compiled = insert(table).compile(dialect=dialect, column_keys=[column.key for column in columns])
        by_key = {column.key: column for column in columns}
        order = [by_key[name] for name in compiled.positiontup]  # type: ignore[union-attr]
        plan = _Plan(
            compiled.string,
            tuple(column.key for column in order),
            tuple(_default(column) for column in order),
            tuple(column.primary_key for column in order),
            tuple(_processor(column, dialect) for column in order),
        )
        _PLANS[(table, dialect.name)] = plan
    return plan


def bind_rows(table: Table, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
    """The INSERT statement and each row's parameters, converted for the driver. A default other than a
    primary key's is made once for all the rows (one transaction's `created_at`)."""
    plan = _plan(table, dialect)
    once = {
        key: process(value) if process is not None else value  # None too: JSON stores null
        for key, default, per_row, process in zip(plan.keys, plan.defaults, plan.per_row, plan.processors, strict=True)
        if not per_row for value in [default() if default is not None else None]
    }
    template = [once.get(key) for key in plan.keys]  # a row's values but those it gives and its per-row defaults
    given = rows[0].keys() if rows else set()
    slots = _slots(plan, given)  # the rows of one call give the same keys (callers build them alike)
    bound = []
    for row in rows:
        taken, made = slots if row.keys() == given else _slots(plan, row.keys())
        values = template.copy()
        for index, key, process in taken:
            value = row[key]
            values[index] = process(value) if process is not None else value
        for index, default, process in made:
            value = default() if default is not None else None
            values[index] = process(value) if process is not None else value
        bound.append(tuple(values))
    return plan.sql, bound


class _Slots(NamedTuple):
    taken: list[tuple[int, str, Processor]]  # (parameter index, key, processor) of the values a row gives
    made: list[tuple[int, Any, Processor]]  # (parameter index, default, processor) of a primary key it does not


def _slots(plan: _Plan, given: Collection[str]) -> _Slots:
    """Where a row giving the keys `given` puts its values in the statement's parameters (`taken`), and where
    a default is made for it per row (`made`: a primary key it does not give)."""
    columns = list(enumerate(zip(plan.keys, plan.defaults, plan.per_row, plan.processors, strict=True)))
    taken = [(index, key, process) for index, (key, _, _, process) in columns if key in given]
    made = [
        (index, default, process) for index, (key, default, per_row, process) in columns
        if per_row and key not in given
    ]
    return _Slots(taken, made)


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts by column key; a column a row leaves out gets its default) in one executemany,
    in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    sql, bound = bind_rows(table, connection.dialect, rows)
    await connection.exec_driver_sql(sql, bound)


def _update_plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _UpdatePlan:
    """UPDATE `table` SET each of `keys` WHERE its primary key is."""
    plan = _UPDATES.get((table, keys, dialect.name))
    if plan is None:
        (primary,) = table.primary_key.columns
        statement = update(table).where(primary == bindparam("pk_")).values({key: bindparam(key) for key in keys})
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup)  # type: ignore[arg-type]
        columns = {**{key: table.c[key] for key in keys}, "pk_": primary}
        plan = _UpdatePlan(compiled.string, order, tuple(_processor(columns[name], dialect) for name in order))
        _UPDATES[(table, keys, dialect.name)] = plan
    return plan


async def update_rows(
    session: AsyncSession, table: Table, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE the columns `keys` of `rows` (dicts by column key, the primary key's value under "pk_") in one
    executemany, in the session's transaction. Every row must be there (as the unit of work checks)."""
    sql, order, processors = _update_plan(table, keys, (connection := await session.connection()).dialect)
    columns = tuple(zip(order, processors, strict=True))
    bound = [tuple(process(row[key]) if process is not None else row[key] for key, process in columns) for row in rows]
    updated = (await connection.exec_driver_sql(sql, bound)).rowcount
    if updated not in (-1, len(rows)):  # -1: the driver does not tell
        raise StaleDataError(f"UPDATE {table.name} matched {updated} of {len(rows)} rows")
