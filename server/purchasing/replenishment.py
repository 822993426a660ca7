"""Min/max constraints and replenishment (the spare-parts tool's inventory constraints).

A constraint sets a part's min and/or max stock in a location, and covers everything below it: "at least
500 M3 screws in STORES" counts every shelf of STORES. The replenishment list is every constraint with a
min whose available quantity (status Available, in the subtree) is below it, with what is on order there
(status On order: open PO lines to be received in the subtree) and the quantity to order (server/rules/
purchasing.py `suggested`).

Quantities are the sums the database keeps on each constraint (server/levels.py, kept by triggers on every write):
read with the constraint, whatever the stock below it, less the lots expired today (read through the index on
expiry).

Drafting POs from it groups the lines by each part's last supplier (its newest PO line that was not
cancelled; else the supplier of its newest received stock) at that supplier's last unit price (else the
stock's unit cost; else 0, said in the PO's note), in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db import Database, dialect_insert
from server.db.codecs import money_text_raw, quantity_reader, raw_money, raw_quantity
from server.errors import NotFound
from server.levels import expired_available, location_tree
from server.models import InventoryRow, Location, Part, QuantityType, Supplier, is_stock
from server.actor import Actor
from server.clock import next_version
from server.purchasing.models import PoLine, PoStatus, PurchaseOrder, StockConstraint
from server.purchasing.read import po_out
from server.purchasing.schemas import (
    ConstraintIn, ConstraintOut, ConstraintsPage, DraftIn, DraftOut, PoIn, PoLineIn, ReplenishmentItem,
    ReplenishmentOut, Skipped,
)
from server.purchasing.service import create_po
from server.queries import location_subtree
from server.rules.purchasing import below_min_sql, check_min_max, line_name, suggested

Key = tuple[str, str | None]  # part number, location code


@dataclass(slots=True)
class Need:
    """One constraint below its min, as the list shows it, and the last unit price (for drafting)."""

    item: ReplenishmentItem
    price: Decimal | None


async def _find(session: AsyncSession, model: Any, column: Any, key: str, field: str) -> Any:
    found = (await session.execute(select(model).where(column == key))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {field} {key}", field=field)
    return found


def _constraint_out(row: Any) -> ConstraintOut:
    return ConstraintOut(part=row.part_number, location=row.code, unit=row.unit, min=row.min_quantity,
                         max=row.max_quantity, updated_by=row.updated_by, updated_at=row.updated_at)


def _constraints() -> Any:
    """Constraints as plain rows (not ORM objects: the replenishment list reads thousands) with their part and
    location."""
    c = StockConstraint
    return (
        select(c.part_id, c.location_id, c.min_quantity, c.max_quantity, c.updated_by, c.updated_at,
               Part.part_number, Part.unit, Location.code)
        .join(Part, Part.id == c.part_id).join(Location, Location.id == c.location_id)
    )


def _expired(dialect: str) -> Any:
    """The quantity the kept sums count as Available that has expired today, per (part, location subtree): on
    PostgreSQL the expired lots (through the partial index on expiry: only rows with an expiry are read) added up to
    each location above theirs that a constraint is on, materialized before meeting the constraints by their key —
    left to choose, its planner walked each constraint's whole subtree down and filtered it (1 s at 1,000,000 rows).
    The tree's rows under a constrained location come first, materialized too (a few thousand rows: the lots meet
    them in a hash join; else it stepped into the whole tree once per lot and grouped four times the rows: 150 ms
    against 70). On SQLite, `_expired_by_constraint`."""
    if dialect == "sqlite":
        return _expired_by_constraint()
    constrained = select(StockConstraint.location_id).where(StockConstraint.min_quantity.is_not(None))
    tree = (
        select(location_tree.c.location_id, location_tree.c.ancestor_id)
        .where(location_tree.c.ancestor_id.in_(constrained))
        .cte("constrained_tree").prefix_with("MATERIALIZED")
    )
    return (
        select(InventoryRow.part_id, tree.c.ancestor_id.label("location_id"),
               func.sum(InventoryRow.quantity).label("quantity"))
        .join(Location, Location.id == InventoryRow.location_id)
        .join(tree, tree.c.location_id == InventoryRow.location_id)
        .where(expired_available())
        .group_by(InventoryRow.part_id, tree.c.ancestor_id)
        .cte("expired").prefix_with("MATERIALIZED")
    )


def _expired_by_constraint() -> Any:
    """SQLite's `_expired`: from each expired lot (through the partial index on expiry: only rows with an expiry are
    read) to the constraints of its part, one index step, and each one's tree, one more (half the time of the
    walk up the tree first, there)."""
    return (
        select(StockConstraint.part_id, StockConstraint.location_id, func.sum(InventoryRow.quantity).label("quantity"))
        .select_from(InventoryRow)
        .join(Location, Location.id == InventoryRow.location_id)
        .join(location_tree, location_tree.c.location_id == InventoryRow.location_id)
        .join(StockConstraint, and_(StockConstraint.part_id == InventoryRow.part_id,
                                    StockConstraint.location_id == location_tree.c.ancestor_id))
        .where(StockConstraint.min_quantity.is_not(None), expired_available())
        .group_by(StockConstraint.part_id, StockConstraint.location_id)
        .subquery("expired")
    )


@cache
def _below(in_subtree: bool, dialect: str) -> Any:
    """Each constraint below its min (on the subtree of the location coded `within`, a parameter, when
    `in_subtree`), its part and location, what is Available and On order there — the sums the database keeps on the
    constraint (server/levels.py) less what of it has expired —, and the part's last supplier and price: its newest
    PO line not cancelled, else its newest stock received with a supplier (and that stock's unit cost), looked up
    once per part of the list (a part is below min in several places). One row per constraint, filtered by the
    database. Plain rows, quantities and money as stored (server/db/codecs.py): thousands are read. Built once per
    engine (building it costs more than running it on a small database)."""
    c = StockConstraint
    constrained = c.min_quantity.is_not(None)
    if in_subtree:  # from the tree the database keeps, not walked here
        top = aliased(Location)
        constrained = and_(constrained, c.location_id.in_(
            select(location_tree.c.location_id).join(top, top.id == location_tree.c.ancestor_id)
            .where(top.code == bindparam("within"))
        ))
    expired = _expired(dialect)  # of every constraint: SQLite would try each location of `within` for each expired row
    available = c.available - func.coalesce(expired.c.quantity, 0)
    below = (
        select(c.part_id, c.location_id, c.min_quantity, c.max_quantity,
               type_coerce(available, QuantityType).label("available"), c.on_order)
        .outerjoin(expired, and_(expired.c.part_id == c.part_id, expired.c.location_id == c.location_id))
        .where(constrained, below_min_sql(available, c.min_quantity))
        .cte("below")
    )
    bought = _last_bought(select(below.c.part_id).distinct().subquery("parts_below"))
    line, order, line_supplier = aliased(PoLine), aliased(PurchaseOrder), aliased(Supplier)
    stock, stock_supplier = aliased(InventoryRow), aliased(Supplier)
    return (
        select(Part.part_number, Part.unit, Location.code,
               *(raw_quantity(dialect, below.c[name]) for name in ("available", "on_order", "min_quantity", "max_quantity")),
               line_supplier.name, raw_money(dialect, line.unit_price), stock_supplier.name,
               raw_money(dialect, stock.unit_cost))
        .select_from(below)
        .join(Part, Part.id == below.c.part_id).join(Location, Location.id == below.c.location_id)
        .join(bought, bought.c.part_id == below.c.part_id)
        .outerjoin(line, line.id == bought.c.line_id).outerjoin(order, order.id == line.po_id)
        .outerjoin(line_supplier, line_supplier.id == order.supplier_id)
        .outerjoin(stock, stock.id == bought.c.stock_id).outerjoin(stock_supplier, stock_supplier.id == stock.supplier_id)
        .order_by(Location.code, Part.part_number)
    )


def _last_bought(parts: Any) -> Any:
    """Per part of `parts` (a subquery of `part_id`s), the id of its newest PO line not cancelled and of its newest
    stock received with a supplier: each one step down an index (scalar subqueries: a join on them would read a
    whole table)."""
    newest_line = (
        select(PoLine.id).join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id)
        .where(PoLine.part_id == parts.c.part_id, PurchaseOrder.status != PoStatus.cancelled.value)
        .order_by(PurchaseOrder.created_at.desc(), PoLine.line_no.desc()).limit(1).scalar_subquery()
    )
    newest_stock = (
        select(InventoryRow.id)
        .where(InventoryRow.part_id == parts.c.part_id, InventoryRow.supplier_id.is_not(None), is_stock())
        .order_by(InventoryRow.created_at.desc(), InventoryRow.id.desc()).limit(1).scalar_subquery()
    )
    # materialized: else SQLite folds it into the list and looks up each part once per constraint
    return (select(parts.c.part_id, newest_line.label("line_id"), newest_stock.label("stock_id"))
            .cte("bought").prefix_with("MATERIALIZED"))


class ReplenishmentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- constraints --------------------------------------------------------------------------
    async def put(self, data: ConstraintIn, actor: Actor) -> ConstraintOut:
        check_min_max(data.min, data.max)
        async with self.db.write() as session:
            part = await _find(session, Part, Part.part_number, data.part, "part")
            location = await _find(session, Location, Location.code, data.location, "location")
            where = (StockConstraint.part_id == part.id, StockConstraint.location_id == location.id)
            if data.min is None and data.max is None:
                await session.execute(delete(StockConstraint).where(*where))
                return ConstraintOut(part=part.part_number, location=location.code, unit=part.unit, min=None, max=None,
                                     updated_by=actor.username, updated_at=datetime.now(UTC))
            values = {"min_quantity": data.min, "max_quantity": data.max, "updated_by": actor.username,
                      "updated_at": datetime.now(UTC)}
            upsert = dialect_insert(self.db.dialect, StockConstraint).values(
                part_id=part.id, location_id=location.id, **values
            ).on_conflict_do_update(index_elements=["part_id", "location_id"], set_=values)
            await session.execute(upsert)
            row = (await session.execute(_constraints().where(*where).execution_options(populate_existing=True))).one()
            return _constraint_out(row)

    async def list(self, part: str | None, location: str | None, limit: int, offset: int) -> ConstraintsPage:
        query = _constraints()
        if part:
            query = query.where(Part.part_number == part)
        async with self.db.read() as session:
            if location:
                await _find(session, Location, Location.code, location, "location")
                query = query.where(StockConstraint.location_id.in_(location_subtree(location)))
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(query.order_by(Location.code, Part.part_number).limit(limit).offset(offset))
            return ConstraintsPage(items=[_constraint_out(row) for row in rows], total=int(total or 0), limit=limit,
                                   offset=offset)

    # ---- below min ----------------------------------------------------------------------------
    async def below_min(self, location: str | None) -> ReplenishmentOut:
        async with self.db.read() as session:
            needs = await self._needs(session, location)
        return ReplenishmentOut(items=[need.item for need in needs], total=len(needs), currency=self.db.settings.currency)

    async def _needs(self, session: AsyncSession, location: str | None) -> list[Need]:
        if location:
            await _find(session, Location, Location.code, location, "location")
        rows = await (await session.connection()).execute(  # plain rows: no ORM loading for thousands
            _below(bool(location), self.db.dialect), {"within": location} if location else {})
        quantity, needs = quantity_reader(session), []
        for part, unit, code, available, on_order, low, high, supplier, price, stock_supplier, stock_cost in rows:
            if supplier is None and stock_supplier is not None:
                supplier, price = stock_supplier, stock_cost
            available, on_order, low, high = quantity(available), quantity(on_order), quantity(low), quantity(high)
            needs.append(Need(ReplenishmentItem(
                part=part, location=code, unit=unit, available=available, on_order=on_order, min=low, max=high,
                suggested=suggested(available, on_order, low, high), supplier=supplier,
                unit_price=money_text_raw(price) if price is not None else None,
            ), Decimal(price) if price is not None else None))
        return needs

    # ---- drafting -----------------------------------------------------------------------------
    async def draft(self, data: DraftIn, actor: Actor) -> DraftOut:
        async with self.db.write() as session:
            version = await next_version(session)
            needs = await self._needs(session, data.location)
            drafted = await _on_drafts(session)
            by_supplier: dict[str, list[Need]] = defaultdict(list)
            skipped: list[Skipped] = []
            for need in needs:
                item, why = need.item, None
                supplier = item.supplier or data.supplier
                if item.suggested == 0:
                    why = "nothing to order: what is on order reaches the max (or min)"
                elif (item.part, item.location) in drafted:
                    why = f"already on draft {drafted[item.part, item.location]}"
                elif supplier is None:
                    why = "no supplier known: it was never bought; name a supplier"
                elif data.supplier is not None and supplier.lower() != data.supplier.lower():
                    why = f"last bought from {supplier}"
                if why:
                    skipped.append(Skipped(part=item.part, location=item.location, reason=why))
                else:
                    by_supplier[supplier].append(need)
            orders = []
            for supplier, wanted in by_supplier.items():
                unpriced = sorted({need.item.part for need in wanted if need.price is None})
                note = f"Drafted from the replenishment list by {actor.username}." + (
                    f" No last price known for {', '.join(unpriced)}: 0 until set." if unpriced else ""
                )
                lines = [PoLineIn(part=need.item.part, quantity=need.item.suggested, unit_price=need.price or Decimal(0),
                                  location=need.item.location) for need in wanted]
                po = await create_po(session, PoIn(supplier=supplier, lines=lines, note=note), actor, version,
                                     self.db.settings)
                orders.append(await po_out(session, po))
        return DraftOut(purchase_orders=orders, skipped=skipped)


async def _on_drafts(session: AsyncSession) -> dict[Key, str]:
    """(part, location) of every line of a draft PO → the line's name."""
    rows = await session.execute(
        select(Part.part_number, Location.code, PurchaseOrder.number, PoLine.line_no)
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id).join(Part, Part.id == PoLine.part_id)
        .outerjoin(Location, Location.id == PoLine.location_id).where(PurchaseOrder.status == PoStatus.draft.value)
    )
    return {(part, code): line_name(number, line_no) for part, code, number, line_no in rows}
