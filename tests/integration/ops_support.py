"""Shared by the operation tests: a small catalogue, problem-detail checks, and the ledger invariant
read straight from the database."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.costs.values import stock_values, value_of, values_from_holdings
from server.levels import levels_from_rows
from server.models import InventoryRow, LedgerEntry, Location, Part, is_stock
from server.purchasing.models import StockConstraint

Key = tuple[UUID, UUID, str | None]  # part id, location id, lot


@pytest.fixture
async def shop(api: Any) -> Any:
    """Three parts (one per tracking type, plus an assembly), four locations."""
    await api.part("SN-PART", "serial", serial_pattern="{part}-{seq:04}")
    await api.part("ASM", "serial", serial_pattern="ASM-{seq}")
    await api.part("LOT-PART", "lot", lot_pattern="L-{seq:03}")
    await api.part("BULK", "untracked", unit="pcs")
    for code in ("DOCK", "SHELF", "LINE"):
        await api.location(code)
    await api.location("MRB", kind="quarantine", available=False)
    return api


def refused(response: Any, status: int, reason: str, field: str | None = None) -> dict[str, Any]:
    """The response is the problem detail for `reason` (and names `field`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["reason"] == reason, body
    assert body["type"] == f"/problems/{reason.replace('_', '-')}", body
    if field is not None:
        assert body.get("field") == field, body
    return body


async def one(api: Any, **filters: Any) -> dict[str, Any]:
    """The single inventory row the filters select."""
    items = await api.items(**filters)
    assert len(items) == 1, items
    return items[0]


async def quantities(api: Any, part: str, **filters: Any) -> dict[tuple[str, str | None, str], int]:
    """{(location, lot, status): quantity} for a part, as the inventory list shows it."""
    found: dict[tuple[str, str | None, str], int] = {}
    for item in await api.items(part=part, **filters):
        key = (item["location"], item["lot"], item["status"])
        found[key] = found.get(key, 0) + item["quantity"]
    return found


async def ledger_sums(session: AsyncSession) -> dict[Key, int]:
    """Sum of on-hand ledger deltas per part, location and lot (zeros dropped)."""
    total = func.sum(LedgerEntry.delta)
    query = (
        select(LedgerEntry.part_id, LedgerEntry.location_id, LedgerEntry.lot, total)
        .where(LedgerEntry.bucket == "on_hand")
        .group_by(LedgerEntry.part_id, LedgerEntry.location_id, LedgerEntry.lot)
        .having(total != 0)
    )
    return {(part, location, lot): value for part, location, lot, value in await session.execute(query)}


async def on_hand(session: AsyncSession) -> dict[Key, int]:
    """Stock on hand per part, location and lot: rows in a location, not scrapped, not installed, not on a
    purchase order (still on order, or cancelled)."""
    total = func.sum(InventoryRow.quantity)
    query = (
        select(InventoryRow.part_id, InventoryRow.location_id, InventoryRow.lot, total)
        .where(InventoryRow.scrapped.is_(False), InventoryRow.installed_in_id.is_(None), is_stock())
        .group_by(InventoryRow.part_id, InventoryRow.location_id, InventoryRow.lot)
        .having(total != 0)
    )
    return {(part, location, lot): value for part, location, lot, value in await session.execute(query)}


async def constrain_everywhere(session: AsyncSession) -> None:
    """A constraint (min 0) on every part in every location not constrained yet: every sum the database can keep
    (server/levels.py) is kept, for `levels_kept_right` to check. Added when the catalogue is, so that the
    triggers keep them through the sequence that follows."""
    constrained = set((await session.execute(select(StockConstraint.part_id, StockConstraint.location_id))).tuples())
    pairs = (await session.execute(select(Part.id, Location.id).join(Location, true()))).tuples()
    session.add_all(StockConstraint(part_id=part, location_id=place, min_quantity=0, updated_by="test")
                    for part, place in pairs if (part, place) not in constrained)
    await session.flush()


async def levels_kept_right(session: AsyncSession) -> None:
    """The sums the database keeps on each constraint (server/levels.py) are those the status rule makes from the
    rows: per part and location subtree, Available (but for expiry) and On order."""
    c = StockConstraint
    kept = {(part, place): (available, on_order) for part, place, available, on_order
            in await session.execute(select(c.part_id, c.location_id, c.available, c.on_order))}
    assert kept, "no constraint: nothing kept to check (constrain_everywhere)"
    made = {(part, place): (available, on_order)
            for part, place, available, on_order in await session.execute(levels_from_rows())}
    made = {key: made.get(key, (0, 0)) for key in kept}
    assert kept == made, "the constraints' kept sums differ from the rows"


async def values_kept_right(session: AsyncSession) -> None:
    """The values the database keeps (server/costs/values.py) are those summed from the holdings of the rows held:
    per part and location subtree, the quantity and the FIFO value, exactly (the five integers may split a value
    differently — a change is split as a whole — so their value is compared)."""
    kept = {(place, part): (quantity, value_of(limbs))
            for place, part, quantity, *limbs in await session.execute(select(stock_values))}
    made = {(place, part): (quantity, value_of(limbs))
            for place, part, quantity, *limbs in await session.execute(
                text(values_from_holdings(session.bind.dialect.name)).columns(*stock_values.c))}
    assert {key: found for key, found in kept.items() if found != (0, 0)} == made, "stock_values differ from the holdings"
