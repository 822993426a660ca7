"""Shared by the purchasing tests: a shop that buys (parts of each tracking type, an incoming dock and a
store with shelves), making purchase orders through the API, and the `on_order` bucket of the ledger read
straight from the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import InventoryRow, LedgerEntry, Location, Part
from tests.conftest import Api

Key = tuple[str, str, str | None]  # part number, location code, lot


@pytest.fixture
async def buyer(api: Api) -> Api:
    await api.part("PUMP", "serial", serial_pattern="PU-{seq:04}")
    await api.part("RESIN", "lot", lot_pattern="R-{seq:03}")
    await api.part("BOLT", "untracked", unit="pcs")
    await api.location("DOCK", kind="incoming")
    await api.location("STORES")
    await api.location("STORES/A", parent="STORES")
    await api.location("STORES/B", parent="STORES")
    return api


def line(part: str, quantity: int, price: Any = "1.00", **extra: Any) -> dict[str, Any]:
    return {"part": part, "quantity": quantity, "unit_price": price, **extra}


async def draft(api: Api, *lines: dict[str, Any], supplier: str = "Acme", **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/purchase-orders", {"supplier": supplier, "lines": list(lines), **extra}, "supervisor")
    assert response.status_code == 201, response.text
    return response.json()


async def act(api: Api, number: str, action: str, status: int = 200) -> dict[str, Any]:
    """`open`, `cancel` or `lines/N/close`, as a supervisor."""
    response = await api.post(f"/api/purchase-orders/{number}/{action}", {}, "supervisor")
    assert response.status_code == status, response.text
    return response.json()


async def ordered(api: Api, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A PO made and opened."""
    made = await draft(api, *lines, **extra)
    return await act(api, made["number"], "open")


async def on_order_ledger(session: AsyncSession) -> dict[Key, int]:
    """The ledger's `on_order` sums per part, location and lot (zeros left out)."""
    total = func.sum(LedgerEntry.delta)
    rows = await session.execute(
        select(Part.part_number, Location.code, LedgerEntry.lot, total)
        .join(Part, Part.id == LedgerEntry.part_id).join(Location, Location.id == LedgerEntry.location_id)
        .where(LedgerEntry.bucket == "on_order").group_by(Part.part_number, Location.code, LedgerEntry.lot)
        .having(total != 0)
    )
    return {(part, location, lot): int(value) for part, location, lot, value in rows}


async def on_order_rows(session: AsyncSession) -> dict[Key, int]:
    """The quantity of the inventory rows on order, per part, location and lot."""
    total = func.sum(InventoryRow.quantity)
    rows = await session.execute(
        select(Part.part_number, Location.code, InventoryRow.lot, total)
        .join(Part, Part.id == InventoryRow.part_id).join(Location, Location.id == InventoryRow.location_id)
        .where(InventoryRow.po_state == "open").group_by(Part.part_number, Location.code, InventoryRow.lot)
        .having(total != 0)
    )
    return {(part, location, lot): int(value) for part, location, lot, value in rows}
