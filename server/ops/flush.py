"""How a session's flush writes the stock rows ops changed: one executemany per set of changed columns.

SQLAlchemy's unit of work UPDATEs changed rows in primary-key order and starts a new statement whenever the
set of changed columns differs from the row before: ops that move, take from and add to buckets and units
(quantity; location; quantity and cost; parent and location) gave it ~2 statements per 3 rows, each through
the whole Core execution path. Before each flush (`before_flush`), `take_changed_rows` groups the changed
inventory rows by the columns that changed, with `updated_at` set once for the flush (the audit column's
`onupdate`, as the unit of work would), and marks those values as the rows' committed state
(`set_committed_value`), so the unit of work finds nothing to write for them — but still takes them through
the flush as altered rows, so that a rolled back SAVEPOINT expires them as it expires any flushed row. After
the unit of work's INSERTs (`after_flush`, inside the flush: a failure fails the flush), each group is
UPDATEd by one executemany (server/bulk.py). What a flush took is kept on that flush (its UOWTransaction):
a flush that fails before its end leaves nothing for the next one to run.

New rows are left to the unit of work: rows made by ops give every column (server/ops/stock.py, `UNIT`),
so it inserts them in one executemany too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.unitofwork import UOWTransaction

from server.bulk import update_rows
from server.models import InventoryRow

TABLE = InventoryRow.__table__
COLUMNS = frozenset(column.key for column in TABLE.columns) - {"id", "updated_at"}
PENDING = "gemba_row_updates"  # the flush's (UOWTransaction's) `attributes`: its UPDATEs, run at its end


def take_changed_rows(session: Session, flush: UOWTransaction) -> None:
    """Before the unit of work runs: the session's changed inventory rows, grouped by the columns that
    changed, with those values committed on the objects (see the module's docstring)."""
    groups: dict[tuple[str, ...], list[InventoryRow]] = {}
    for row in session.dirty:
        if type(row) is not InventoryRow:
            continue
        values, committed = row.__dict__, inspect(row).committed_state
        changed = tuple(sorted(
            key for key, old in committed.items() if key in COLUMNS and key in values and values[key] != old
        ))
        if changed:
            groups.setdefault(changed, []).append(row)
    if not groups:
        return
    now = datetime.now(UTC)
    updates = []
    for changed, rows in groups.items():
        params = [{**{key: row.__dict__[key] for key in changed}, "updated_at": now, "pk_": row.id} for row in rows]
        updates.append(((*changed, "updated_at"), params))
        for row in rows:
            for key in changed:
                set_committed_value(row, key, row.__dict__[key])
            set_committed_value(row, "updated_at", now)
    flush.attributes[PENDING] = updates


def write_changed_rows(session: Session, flush: UOWTransaction) -> None:
    """After the unit of work's INSERTs (a row may name one made in the same flush: a unit installed into a
    parent received in the same run), the UPDATEs taken before it, an executemany each."""
    updates = flush.attributes.get(PENDING)
    if not updates:
        return
    connection = session.connection()
    for keys, params in updates:
        updated = update_rows(connection, TABLE, keys, params)
        if updated not in (-1, len(params)):  # as the unit of work checks: every row is still there
            raise StaleDataError(f"UPDATE inventory matched {updated} of {len(params)} rows")


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush: UOWTransaction, _instances: Any) -> None:
    take_changed_rows(session, flush)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush: UOWTransaction) -> None:
    write_changed_rows(session, flush)
