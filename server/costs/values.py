"""Stock values: per part and location subtree, the quantity held and its FIFO value, kept by the database
(docs/costs.md, "Valuation").

A subtree's FIFO value is what the stock rows in it hold of each cost layer (`cost_holdings`) × the layer's unit
cost. Summing it at read time visits every holding of the subtree: seconds for a site of half a million rows.
So the database keeps `stock_values` (part, location, quantity, value) for every location and each location
above it (server/levels.py's closure table `location_tree`), by triggers in the writing transaction, as
server/levels.py keeps the constraints' sums:

- `cost_holdings`: a holding made, dropped, or its quantity changed (the change, at its row's location and above);
- `inventory`: a row made or deleted (the holdings written before it: server/ops/rows.py writes rows at the end
  of a write batch), moved to another location, or starting or ceasing to be stock held (`held`: received stock,
  not scrapped or removed, quantity > 0 — what server/costs/read.py valued before);
- `cost_layers`: a layer's unit cost changed;
- `locations`: a new parent moves the subtree's sums from the old parent's ancestors to the new one's (read from
  `location_tree` rows of the two parents, which the move does not change: the triggers' order does not matter).

A holding counts while it and its row both exist and the row is held; each trigger adds the change of its own
side against the other side as it is then, so the sums are exact whatever order an op writes in.

Exactness. A quantity has 6 decimal places (≤ 10^12), a unit cost too (≤ 10^12): a product has 12 places and
up to 24 digits before the point — past 64-bit integers and past SQLite's exact arithmetic. Both factors are
taken in millionths (integers < 10^18) and split into three limbs of 10^6; the value is kept as five integer
columns, the sums of the limb products of each power of 10^6: value = Σ_k `value_k` × 10^(6k) / 10^12. Each
product is < 10^12, so a column overflows 64 bits only after millions of holdings at the largest quantity and
cost in one cell (PostgreSQL then refuses the write; on SQLite a CHECK does). The same integers on both engines:
one reader, no rounding anywhere; the reader (`value_of`) makes one Decimal of them.

`rebuild` makes the table from the holdings after a bulk load without triggers; `values_from_holdings` is the
twin the property tests compare the table with after every op.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from advanced_alchemy.base import orm_registry
from advanced_alchemy.types import GUID
from sqlalchemy import DDL, BigInteger, CheckConstraint, Column, Table, event
from sqlalchemy.engine import Connection

from server.db import triggers
from server.models import QuantityType
from server.rules.money import EXACT

LIMBS = 3  # each factor's millionths in limbs of 10^6
VALUE_COLUMNS = tuple(f"value_{k}" for k in range(2 * LIMBS - 1))  # value_k: the sum at 10^(6k) picounits

# Keyed by location first: a valuation reads one location's rows (every part held there); on SQLite the rows are
# stored in that order (WITHOUT ROWID), so they are read together.
stock_values = Table(
    "stock_values", orm_registry.metadata,
    Column("location_id", GUID, primary_key=True),
    Column("part_id", GUID, primary_key=True),
    Column("quantity", QuantityType, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in VALUE_COLUMNS),
    # SQLite turns an integer sum that outgrows 64 bits into a float: refused instead (PostgreSQL refuses itself)
    *(CheckConstraint(f"typeof({name}) = 'integer'", name=f"{name}_integer").ddl_if(dialect="sqlite")
      for name in VALUE_COLUMNS),
    sqlite_with_rowid=False,
)


def picounits(limbs: Sequence[Any]) -> int:
    """The FIFO value the five kept (or summed) integers make, in 10^-12 of the currency, exactly."""
    found = 0
    for n in reversed(limbs):
        found = found * 1_000_000 + int(n or 0)
    return found


def value_of(limbs: Sequence[Any]) -> Decimal:
    """The FIFO value the five kept (or summed) integers make, exactly."""
    return Decimal(picounits(limbs)).scaleb(-12, context=EXACT)  # the default context keeps 28 digits only


# ---- SQL of the triggers and the rebuild, the same on both engines but for a factor's millionths ------------
def _millionths(dialect: str, quantity: str, cost: str) -> tuple[str, str]:
    """(quantity, unit cost) as integers of millionths: SQLite holds quantities so and money as text with 6
    places; PostgreSQL's NUMERIC(18, 6) × 10^6 is a whole number below 10^18."""
    if dialect == "sqlite":
        return quantity, f"CAST(REPLACE({cost}, '.', '') AS INTEGER)"
    return f"(({quantity}) * 1000000)::bigint", f"(({cost}) * 1000000)::bigint"


def _limb(x: str, k: int) -> str:
    """Limb k of x (an integer of millionths, an expression: parenthesized) in base 10^6."""
    return f"((({x}) / {10 ** (6 * k)}) % 1000000)" if k < LIMBS - 1 else f"(({x}) / {10 ** (6 * k)})"


def _products(q: str, c: str) -> list[str]:
    """The five sums of limb products of q × c (both in millionths), lowest power first."""
    return [" + ".join(f"{_limb(q, i)} * {_limb(c, k - i)}" for i in range(LIMBS) if 0 <= k - i < LIMBS)
            for k in range(2 * LIMBS - 1)]


def _held(r: str) -> str:
    """Row `r` is stock held, whose holdings count (server/costs/read.py `held`)."""
    return f"({r}.po_state IS NULL AND NOT {r}.scrapped AND NOT {r}.removed AND {r}.quantity > 0)"


_COLUMNS = ("quantity", *VALUE_COLUMNS)
_UPSERT = (f"INSERT INTO stock_values (part_id, location_id, {', '.join(_COLUMNS)}) {{select}}"
           f" ON CONFLICT (location_id, part_id) DO UPDATE SET "
           + ", ".join(f"{c} = stock_values.{c} + excluded.{c}" for c in _COLUMNS))


def _summed(dialect: str, sign: str, quantity: str, cost: str, source: str, at: str) -> str:
    """Add (sign '') or take away ('-') Σ quantity and Σ quantity × cost per part of `source` (FROM … WHERE, with
    the layer as `lay`) at location `at` and each one above it."""
    q, c = _millionths(dialect, quantity, cost)
    values = ", ".join(f"{sign}SUM({p})" for p in _products(q, c))
    return _UPSERT.format(select=(
        f"SELECT lay.part_id, t.ancestor_id, {sign}SUM({quantity}), {values} {source}"
        f" AND t.location_id = {at} GROUP BY lay.part_id, t.ancestor_id"
    ))


def _holding_change(dialect: str, h: str, sign: str, quantity: str | None = None) -> str:
    """Holding `h` (NEW or OLD) added or taken away — or `quantity` of it — where its row is, if the row is held."""
    return _summed(dialect, sign, quantity or f"{h}.quantity", "lay.unit_cost",
                   f"FROM inventory r JOIN cost_layers lay ON lay.id = {h}.layer_id, location_tree t"
                   f" WHERE r.id = {h}.inventory_id AND {_held('r')}", "r.location_id")


def _row_change(dialect: str, r: str, sign: str) -> str:
    """Row `r`'s holdings added or taken away at its location and above, if it is held."""
    return _summed(dialect, sign, "h.quantity", "lay.unit_cost",
                   f"FROM cost_holdings h JOIN cost_layers lay ON lay.id = h.layer_id, location_tree t"
                   f" WHERE h.inventory_id = {r}.id AND {_held(r)}", f"{r}.location_id")


def _cost_change(dialect: str, l: str, sign: str) -> str:
    """Layer `l`'s holdings (of held rows) at the layer's cost `l` (NEW or OLD) added or taken away."""
    return _summed(dialect, sign, "h.quantity", f"{l}.unit_cost",
                   f"FROM cost_holdings h JOIN cost_layers lay ON lay.id = h.layer_id"
                   f" JOIN inventory r ON r.id = h.inventory_id, location_tree t"
                   f" WHERE h.layer_id = {l}.id AND {_held('r')}", "r.location_id")


def _subtree_to(parent: str, sign: str) -> str:
    """The moved location's (NEW.id) subtree sums added to (taken from) `parent` and each location above it."""
    return _UPSERT.format(select=(
        f"SELECT m.part_id, a.ancestor_id, {', '.join(f'{sign}m.{c}' for c in _COLUMNS)} FROM stock_values m"
        f" JOIN location_tree a ON a.location_id = {parent} WHERE m.location_id = NEW.id"
    ))


def _changed(columns: Sequence[str], differ: str) -> str:
    return " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns)


def _triggers(dialect: str) -> Iterator[triggers.Trigger]:
    """(name, table, event, statements, condition) of every trigger."""
    d, differ = dialect, triggers.is_not(dialect)
    yield "values_holding_insert", "cost_holdings", "AFTER INSERT", [_holding_change(d, "NEW", "")], ""
    yield "values_holding_delete", "cost_holdings", "AFTER DELETE", [_holding_change(d, "OLD", "-")], ""
    yield ("values_holding_quantity", "cost_holdings", "AFTER UPDATE OF quantity",
           [_holding_change(d, "NEW", "", "NEW.quantity - OLD.quantity")],
           f"OLD.quantity <> NEW.quantity AND OLD.layer_id = NEW.layer_id AND OLD.inventory_id = NEW.inventory_id")
    yield ("values_holding_moved", "cost_holdings", "AFTER UPDATE OF layer_id, inventory_id",
           [_holding_change(d, "OLD", "-"), _holding_change(d, "NEW", "")], _changed(("layer_id", "inventory_id"), differ))
    yield "values_row_insert", "inventory", "AFTER INSERT", [_row_change(d, "NEW", "")], ""
    yield "values_row_delete", "inventory", "AFTER DELETE", [_row_change(d, "OLD", "-")], ""
    yield ("values_row_update", "inventory", "AFTER UPDATE OF location_id, po_state, scrapped, removed, quantity",
           [_row_change(d, "OLD", "-"), _row_change(d, "NEW", "")],
           f"OLD.location_id {differ} NEW.location_id OR {_held('OLD')} {differ} {_held('NEW')}")
    yield ("values_layer_cost", "cost_layers", "AFTER UPDATE OF unit_cost",
           [_cost_change(d, "OLD", "-"), _cost_change(d, "NEW", "")], "OLD.unit_cost <> NEW.unit_cost")
    yield ("values_location_parent", "locations", "AFTER UPDATE OF parent_id",
           [_subtree_to("OLD.parent_id", "-"), _subtree_to("NEW.parent_id", "")], f"OLD.parent_id {differ} NEW.parent_id")
    yield "values_location_delete", "locations", "AFTER DELETE", ["DELETE FROM stock_values WHERE location_id = OLD.id"], ""


def create_triggers(dialect: str) -> list[str]:
    return triggers.create(dialect, _triggers(dialect))


def drop_triggers(dialect: str) -> list[str]:
    return triggers.drop(dialect, [name for name, *_ in _triggers(dialect)])


def values_from_holdings(dialect: str) -> str:
    """SELECT (location_id, part_id, quantity, value_0 … value_4) summed from the holdings of held rows through
    `location_tree`: what `stock_values` must hold (but for rows of nothing), for `rebuild` and the proof."""
    q, c = _millionths(dialect, "h.quantity", "lay.unit_cost")
    return (f"SELECT t.ancestor_id, lay.part_id, SUM(h.quantity), {', '.join(f'SUM({p})' for p in _products(q, c))}"
            " FROM cost_holdings h JOIN cost_layers lay ON lay.id = h.layer_id JOIN inventory r ON r.id = h.inventory_id"
            f" JOIN location_tree t ON t.location_id = r.location_id WHERE {_held('r')}"
            " GROUP BY lay.part_id, t.ancestor_id")


def rebuild(dialect: str) -> list[str]:
    """The statements that make the table again from the holdings (after a load without the triggers; the
    migration that adds it). `location_tree` must be whole first (server/levels.py `rebuild`)."""
    return ["DELETE FROM stock_values",  # in key order: on PostgreSQL a location's rows then share pages
            f"INSERT INTO stock_values (location_id, part_id, {', '.join(_COLUMNS)}) {values_from_holdings(dialect)}"
            " ORDER BY 1, 2"]


def _create(target: Any, connection: Connection, **kw: Any) -> None:
    for sql in create_triggers(connection.dialect.name):
        connection.execute(DDL(sql.replace("%", "%%")))


event.listen(orm_registry.metadata, "after_create", _create)
