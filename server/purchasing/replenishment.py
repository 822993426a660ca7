"""Min/max constraints and replenishment (the spare-parts tool's inventory constraints).

A constraint sets a part's min and/or max stock in a location, and covers everything below it: "at least
500 M3 screws in STORES" counts every shelf of STORES. The replenishment list is every constraint with a
min whose available quantity (status Available, in the subtree) is below it, with what is on order there
(status On order: open PO lines to be received in the subtree) and the quantity to order (server/rules/
purchasing.py `suggested`).

Quantities are the sums the database keeps per part and location subtree (server/levels.py, kept by triggers on
every write): one row per constraint, whatever the stock below it, less the lots expired today (read through
the index on expiry).

Drafting POs from it groups the lines by each part's last supplier (its newest PO line that was not
cancelled; else the supplier of its newest received stock) at that supplier's last unit price (else the
stock's unit cost; else 0, said in the PO's note), in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database, dialect_insert
from server.errors import NotFound
from server.levels import expired_available, location_tree, stock_levels
from server.models import InventoryRow, Location, Part, Supplier, canon, is_stock
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
from server.rules.money import exact, money_text
from server.rules.purchasing import below_min, check_min_max, line_name, suggested

Key = tuple[UUID, UUID]  # part, location
PARTS_PER_QUERY = 5000  # parts named in one query (PostgreSQL takes at most 32,767 parameters)


@dataclass(slots=True)
class Need:
    """One constraint below its min, as the list shows it (with ids, for drafting)."""

    part_id: UUID
    location_id: UUID
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


def _below_min_constrained(within: str | None) -> Any:
    """Constraints with a min (on the subtree of `within` when given)."""
    constrained = StockConstraint.min_quantity.is_not(None)
    if within:
        constrained = and_(constrained, StockConstraint.location_id.in_(location_subtree(within)))
    return constrained


async def _expired(session: AsyncSession, constrained: Any) -> dict[Key, Any]:
    """Per constraint, the quantity the kept sums count as Available that has expired today (through the
    partial index on expiry: only rows with an expiry are read)."""
    rows = await session.execute(
        select(StockConstraint.part_id, StockConstraint.location_id, func.sum(InventoryRow.quantity))
        .select_from(InventoryRow)
        .join(Location, Location.id == InventoryRow.location_id)
        .join(location_tree, location_tree.c.location_id == InventoryRow.location_id)
        .join(StockConstraint, and_(StockConstraint.part_id == InventoryRow.part_id,
                                    StockConstraint.location_id == location_tree.c.ancestor_id))
        .where(constrained, expired_available())
        .group_by(StockConstraint.part_id, StockConstraint.location_id)
    )
    return {(part_id, place): quantity for part_id, place, quantity in rows}


def _levels(constrained: Any) -> Any:
    """Each constraint with a min, its part and location, and the sums the database keeps for that part in that
    subtree (server/levels.py; none: nothing there), in the list's order. Plain rows: thousands are read."""
    c, kept = StockConstraint, stock_levels
    return (
        select(c.part_id, c.location_id, c.min_quantity, c.max_quantity, Part.part_number, Part.unit, Location.code,
               kept.c.available, kept.c.on_order)
        .join(Part, Part.id == c.part_id).join(Location, Location.id == c.location_id)
        .outerjoin(kept, and_(kept.c.part_id == c.part_id, kept.c.location_id == c.location_id))
        .where(constrained).order_by(Location.code, Part.part_number)
    )


async def last_bought(session: AsyncSession, parts: Any) -> dict[UUID, tuple[str, Decimal | None]]:
    """Each part's last supplier and unit price: its newest PO line not cancelled, else its newest stock
    received with a supplier (and that stock's unit cost)."""
    newest = func.row_number().over(
        partition_by=PoLine.part_id, order_by=(PurchaseOrder.created_at.desc(), PoLine.line_no.desc())
    )
    lines = (
        select(PoLine.part_id, PurchaseOrder.supplier_id, PoLine.unit_price, newest.label("n"))
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id)
        .where(PoLine.part_id.in_(parts), PurchaseOrder.status != PoStatus.cancelled.value)
        .subquery()
    )
    found: dict[UUID, tuple[str, Decimal | None]] = {}
    for part_id, name, price in await session.execute(
        select(lines.c.part_id, Supplier.name, lines.c.unit_price).join(Supplier, Supplier.id == lines.c.supplier_id)
        .where(lines.c.n == 1)
    ):
        found[part_id] = (name, price)
    # per part, one step down the index of supplied stock (newest first), not a walk through all its rows
    newest_stock = (
        select(InventoryRow.id).where(InventoryRow.part_id == Part.id, InventoryRow.supplier_id.is_not(None), is_stock())
        .order_by(InventoryRow.created_at.desc(), InventoryRow.id.desc()).limit(1).correlate(Part).scalar_subquery()
    )
    stock = (
        select(Part.id.label("part_id"), Supplier.name, InventoryRow.unit_cost)
        .join(InventoryRow, InventoryRow.id == newest_stock).join(Supplier, Supplier.id == InventoryRow.supplier_id)
        .where(Part.id.in_(parts))
    )
    for part_id, name, cost in await session.execute(stock):
        if part_id not in found:
            found[part_id] = (name, exact(cost) if cost is not None else None)
    return found


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
        constrained = _below_min_constrained(location)
        expired = await _expired(session, constrained)
        below = []
        for row in await session.execute(_levels(constrained)):
            available = canon((row.available or 0) - expired.get((row.part_id, row.location_id), 0))
            if below_min(available, row.min_quantity):
                below.append((row, available, canon(row.on_order or 0)))
        if not below:
            return []
        parts = sorted({row.part_id for row, _, _ in below})
        bought = {}
        for start in range(0, len(parts), PARTS_PER_QUERY):
            bought.update(await last_bought(session, parts[start:start + PARTS_PER_QUERY]))
        needs = []
        for row, available, on_order in below:
            supplier, price = bought.get(row.part_id, (None, None))
            needs.append(Need(row.part_id, row.location_id, ReplenishmentItem(
                part=row.part_number, location=row.code, unit=row.unit, available=available, on_order=on_order,
                min=row.min_quantity, max=row.max_quantity,
                suggested=suggested(available, on_order, row.min_quantity, row.max_quantity),
                supplier=supplier, unit_price=money_text(price) if price is not None else None,
            ), price))
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
                elif (need.part_id, need.location_id) in drafted:
                    why = f"already on draft {drafted[need.part_id, need.location_id]}"
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
        select(PoLine.part_id, PoLine.location_id, PurchaseOrder.number, PoLine.line_no)
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id).where(PurchaseOrder.status == PoStatus.draft.value)
    )
    return {(part_id, location_id): line_name(number, line_no) for part_id, location_id, number, line_no in rows}
