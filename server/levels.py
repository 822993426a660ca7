"""Stock levels: what is Available and On order of each constrained part in its location's subtree, kept by the
database.

The replenishment list (server/purchasing/replenishment.py) compares each min/max constraint — a part in a
location and everything below it — with what is there. Summing the inventory rows of each constrained subtree
at read time costs one index probe per (constraint, location below it): seconds at 1,000,000 rows. So the
database keeps the sums, only where a constraint asks for them:

- `location_tree` (ancestor, location): every location with each location above it and itself (a closure
  table), kept by triggers on `locations` (a new location, a new parent).
- `stock_constraints.available` and `.on_order`: per constraint, the quantity of its part in its location's
  subtree whose status (server/rules/status.py) is Available — but for expiry, which changes with the date, not
  with a write — and the quantity On order. Kept by triggers on `inventory` (every insert, delete, and update of a
  column the status or the sum reads: one UPDATE of the constraints of the row's part at the row's location and
  above, none when there is none), on `locations` (its availability, run WIP or kit tote changing moves its rows
  between buckets; a new parent moves its subtree's sums between ancestors) and on `stock_constraints` (a new
  constraint, or one moved to another part or location, is summed from the rows).

(The first version kept the sums of every part in every location's subtree, `stock_levels`: 1.5M rows at
1,000,000 inventory rows, an upsert per level above each row written, and 10,000 index steps into it per list.)

Triggers catch every write — ops online and at sync, supervisor pages, imports, migrations, SQL by hand — in
the writing transaction, so the sums are exactly as committed as the rows. What a row adds (`_adds`) is the
status rule over the row's and its location's own columns, written once more here in plain SQL that both
engines read alike; tests/integration/test_ops_property.py proves after every op sequence that the sums equal
those the status rule's SQL twin makes from the rows (`levels_from_rows`).

Expired lots: the sums count them as Available; a reader subtracts the ones expired today (`expired_available`,
through the partial index on `expiry`). A bulk load without the triggers ends with `rebuild`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from advanced_alchemy.base import orm_registry
from advanced_alchemy.types import GUID
from sqlalchemy import DDL, Column, Index, Table, and_, case, event, false, func, select
from sqlalchemy.engine import Connection

from server.db import triggers
from server.models import InventoryRow, Location, QuantityType
from server.rules.status import Status, expired_sql, status_filter_sql

# No foreign keys: both tables are derived, emptied last (a test's reset deletes tables in reverse order of
# their keys) and written only by the triggers and `rebuild`.
location_tree = Table(
    "location_tree", orm_registry.metadata,
    Column("ancestor_id", GUID, primary_key=True),
    Column("location_id", GUID, primary_key=True),
    Index("ix_location_tree_location_id", "location_id"),
)
# Lots with an expiry, for the expired ones a reader subtracts: partial (only rows with an expiry), and covering
# what the status and the sum read, so that no row of the table is visited.
EXPIRY_COLUMNS = ("expiry", "part_id", "location_id", "quantity", "scrapped", "removed", "installed_in_id",
                  "isolated", "po_state")
Index("ix_inventory_expiry", *(InventoryRow.__table__.c[name] for name in EXPIRY_COLUMNS),
      sqlite_where=InventoryRow.expiry.is_not(None), postgresql_where=InventoryRow.expiry.is_not(None))

# ---- what a row adds: the status rule (server/rules/status.py) over row `r` and its location `l` ------------
_COUNTED = "NOT {r}.scrapped AND NOT {r}.removed AND {r}.installed_in_id IS NULL AND NOT {l}.wip AND {l}.kit_id IS NULL"
_ON_ORDER = "{r}.po_state = 'open'"
_AVAILABLE = ("({r}.po_state IS NULL OR {r}.po_state NOT IN ('open', 'cancelled')) AND {l}.available"
              " AND NOT {r}.isolated")  # quantity 0 (Unavailable) adds 0; expiry: read time
ROW_COLUMNS = ("part_id", "location_id", "quantity", "scrapped", "removed", "installed_in_id", "isolated", "po_state")
LOCATION_FLAGS = ("available", "wip", "kit_id")


def _adds(r: str, l: str, sign: str = "") -> tuple[str, str]:
    """(available, on_order) that row `r` in location `l` adds, as SQL."""
    counted = _COUNTED.format(r=r, l=l)
    return (f"{sign}CASE WHEN {counted} AND {_AVAILABLE.format(r=r, l=l)} THEN {r}.quantity ELSE 0 END",
            f"{sign}CASE WHEN {counted} AND {_ON_ORDER.format(r=r)} THEN {r}.quantity ELSE 0 END")


_KEPT = "stock_constraints"


def _add_to_constraints(available: str, on_order: str, where: str) -> str:
    """Add the SQL quantities `available` and `on_order` (each may read the constraint's own columns, by the table's
    name) to the sums of the constraints `where` selects."""
    return f"UPDATE {_KEPT} SET available = available + {available}, on_order = on_order + {on_order} WHERE {where}"


def _at_or_above(location: str) -> str:
    """The constraints' condition "at `location` or above it" (an SQL expression of a location id)."""
    return f"location_id IN (SELECT ancestor_id FROM location_tree WHERE location_id = {location})"


def _row_change(r: str, sign: str) -> str:
    """Add (sign '') or take away (sign '-') what the row `r` (NEW or OLD) adds to the constraints of its part at its
    location and above; nothing written when the row counts nowhere or no constraint covers it."""
    available, on_order = (f"{sign}(SELECT {adds} FROM locations l WHERE l.id = {r}.location_id)"
                           for adds in _adds(r, "l"))
    return _add_to_constraints(available, on_order, (
        f"part_id = {r}.part_id AND {_at_or_above(f'{r}.location_id')} AND {r}.quantity <> 0 AND NOT {r}.scrapped"
        f" AND NOT {r}.removed AND {r}.installed_in_id IS NULL"
    ))


def _flags_change() -> str:
    """A location's availability, run WIP or kit tote changed: its own rows move between buckets, for the
    constraints at it and above on the parts it holds."""
    (new_available, new_on_order), (old_available, old_on_order) = _adds("r", "NEW"), _adds("r", "OLD")

    def moved(new: str, old: str) -> str:
        return (f"(SELECT COALESCE(SUM({new} - {old}), 0) FROM inventory r"
                f" WHERE r.location_id = NEW.id AND r.part_id = {_KEPT}.part_id)")

    return _add_to_constraints(moved(new_available, old_available), moved(new_on_order, old_on_order),
                               f"{_at_or_above('NEW.id')} AND part_id IN (SELECT part_id FROM inventory"
                               " WHERE location_id = NEW.id)")


def _subtree_sum(column: int, top: str, part: str) -> str:
    """What the rows of `part` in the subtree of the location `top` add to `available` (column 0) or `on_order` (1)."""
    return (f"(SELECT COALESCE(SUM({_adds('r', 'l')[column]}), 0) FROM location_tree d"
            f" JOIN inventory r ON r.location_id = d.location_id AND r.part_id = {part}"
            f" JOIN locations l ON l.id = r.location_id WHERE d.ancestor_id = {top}"
            f" AND {_COUNTED.format(r='r', l='l')})")


def _subtree_to_ancestors(sign: str) -> str:
    """Add (or take away) a location's subtree sums to (from) the constraints above it."""
    moved = [f"{sign}{_subtree_sum(column, 'NEW.id', f'{_KEPT}.part_id')}" for column in (0, 1)]
    return _add_to_constraints(*moved, (
        "location_id IN (SELECT ancestor_id FROM location_tree WHERE location_id = NEW.id AND ancestor_id <> NEW.id)"
    ))


def _summed(where: str) -> str:
    """The constraints `where` selects summed from the rows (a new constraint; the rebuild)."""
    sums = [_subtree_sum(column, f"{_KEPT}.location_id", f"{_KEPT}.part_id") for column in (0, 1)]
    return f"UPDATE {_KEPT} SET available = {sums[0]}, on_order = {sums[1]} WHERE {where}"


_NEW_LOCATION = ("INSERT INTO location_tree (ancestor_id, location_id) SELECT NEW.id, NEW.id"
                 " UNION ALL SELECT ancestor_id, NEW.id FROM location_tree WHERE location_id = NEW.parent_id")
_NEW_PARENT = [
    _subtree_to_ancestors("-"),
    "DELETE FROM location_tree WHERE location_id IN (SELECT location_id FROM location_tree WHERE ancestor_id = NEW.id)"
    " AND ancestor_id IN (SELECT ancestor_id FROM location_tree WHERE location_id = NEW.id AND ancestor_id <> NEW.id)",
    "INSERT INTO location_tree (ancestor_id, location_id) SELECT a.ancestor_id, d.location_id"
    " FROM location_tree a JOIN location_tree d ON d.ancestor_id = NEW.id WHERE a.location_id = NEW.parent_id",
    _subtree_to_ancestors(""),
]
_GONE_LOCATION = ["DELETE FROM location_tree WHERE location_id = OLD.id OR ancestor_id = OLD.id"]


def _changed(columns: tuple[str, ...], differ: str) -> str:
    return " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns)


def _triggers(differ: str) -> Iterator[triggers.Trigger]:
    """(name, table, event, statements, condition) of every trigger; `differ`: the engine's "is not" for NULLs."""
    rows, flags = _changed(ROW_COLUMNS, differ), _changed(LOCATION_FLAGS, differ)
    yield "levels_row_insert", "inventory", "AFTER INSERT", [_row_change("NEW", "")], ""
    yield "levels_row_delete", "inventory", "AFTER DELETE", [_row_change("OLD", "-")], ""
    yield ("levels_row_update", "inventory", f"AFTER UPDATE OF {', '.join(ROW_COLUMNS)}",
           [_row_change("OLD", "-"), _row_change("NEW", "")], rows)
    yield "levels_location_insert", "locations", "AFTER INSERT", [_NEW_LOCATION], ""
    yield ("levels_location_flags", "locations", f"AFTER UPDATE OF {', '.join(LOCATION_FLAGS)}", [_flags_change()],
           flags)
    yield ("levels_location_parent", "locations", "AFTER UPDATE OF parent_id", _NEW_PARENT,
           f"OLD.parent_id {differ} NEW.parent_id")
    yield "levels_location_delete", "locations", "AFTER DELETE", _GONE_LOCATION, ""
    yield "levels_constraint_insert", _KEPT, "AFTER INSERT", [_summed("id = NEW.id")], ""
    yield ("levels_constraint_moved", _KEPT, "AFTER UPDATE OF part_id, location_id", [_summed("id = NEW.id")],
           f"OLD.part_id {differ} NEW.part_id OR OLD.location_id {differ} NEW.location_id")


def create_triggers(dialect: str) -> list[str]:
    return triggers.create(dialect, _triggers(triggers.is_not(dialect)))


def drop_triggers(dialect: str) -> list[str]:
    return triggers.drop(dialect, [name for name, *_ in _triggers(triggers.is_not(dialect))])


_REBUILD_TREE = [
    "DELETE FROM location_tree",
    "INSERT INTO location_tree (ancestor_id, location_id) WITH RECURSIVE up(ancestor_id, location_id) AS ("
    " SELECT id, id FROM locations UNION ALL"
    " SELECT l.parent_id, up.location_id FROM up JOIN locations l ON l.id = up.ancestor_id WHERE l.parent_id IS NOT NULL"
    ") SELECT ancestor_id, location_id FROM up",
]
_REBUILD = [*_REBUILD_TREE, _summed("1 = 1")]


def rebuild_tree() -> list[str]:
    """The statements that make `location_tree` again from `locations` (migration 0020, before the constraints kept
    their sums)."""
    return list(_REBUILD_TREE)


def rebuild() -> list[str]:
    """The statements that make the tree and the constraints' sums again from `locations` and `inventory` (after a
    load without the triggers; the migration that adds them)."""
    return list(_REBUILD)


def _create(target: Any, connection: Connection, **kw: Any) -> None:
    for sql in create_triggers(connection.dialect.name):
        connection.execute(DDL(sql.replace("%", "%%")))


event.listen(orm_registry.metadata, "after_create", _create)


# ---- reading ----------------------------------------------------------------------------------------------
def expired_available(row: Any = InventoryRow, location: Any = Location) -> Any:
    """Rows the sums count as Available that have expired today: Available but for their expiry."""
    return and_(expired_sql(row.expiry), status_filter_sql(row, location, Status.available, expired=false()))


def levels_from_rows() -> Any:
    """(part_id, location_id, available, on_order) made from the rows by the status rule's SQL twin and a recursive
    walk of the locations — what a constraint on that part and location must hold (0 and 0 where there is no row),
    for the proof."""
    up = select(Location.id.label("ancestor_id"), Location.id.label("location_id")).cte("up", recursive=True)
    parent = Location.__table__.alias("parent_of")
    up = up.union_all(
        select(parent.c.parent_id, up.c.location_id).join(parent, parent.c.id == up.c.ancestor_id)
        .where(parent.c.parent_id.is_not(None))
    )

    def summed(status: Status) -> Any:
        return func.coalesce(func.sum(case((status_filter_sql(InventoryRow, Location, status, expired=false()),
                                            InventoryRow.quantity), else_=0)), 0)

    return (
        select(InventoryRow.part_id, up.c.ancestor_id, summed(Status.available), summed(Status.on_order))
        .join(Location, Location.id == InventoryRow.location_id)
        .join(up, up.c.location_id == InventoryRow.location_id)
        .group_by(InventoryRow.part_id, up.c.ancestor_id)
    )

