"""Shared by the production tests: a small plant (an assembly with a BOM of a serialized board, a lot-tracked
glue and untracked screws; stores and a line), runs made through the API, and the ledger's buckets read
straight from the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.models import LedgerEntry, Location, Part
from tests.conftest import Api
from tests.integration.ops_support import ledger_sums, on_hand

BOARD = {"part": "BOARD", "tracking": "serial"}
GLUE = {"part": "GLUE", "tracking": "lot"}
SCREW = {"part": "SCREW", "tracking": "untracked"}
PUMP = {"part": "PUMP", "tracking": "serial"}


@pytest.fixture
async def plant(api: Api) -> Api:
    await api.part("PUMP", "serial", serial_pattern="PU-{seq:04}", revision="B")
    await api.part("BOARD", "serial", serial_pattern="BD-{seq:04}")
    await api.part("GLUE", "lot", lot_pattern="G-{seq:03}", unit="kg")
    await api.part("SCREW", "untracked", unit="pcs")
    await api.part("LABEL", "serial", serial_pattern="LB-{seq:04}")
    for code in ("STORES", "LINE"):
        await api.location(code)
    await set_bom(api, "PUMP", [{"part": "BOARD", "quantity": 1}, {"part": "GLUE", "quantity": "0.25"},
                                {"part": "SCREW", "quantity": 4}])
    return api


async def set_bom(api: Api, part: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = await api.client.put(f"/api/parts/{part}/bom", json={"lines": lines, **extra},
                                    headers=api.headers("supervisor"))
    assert response.status_code == 200, response.text
    return response.json()


async def stock_up(api: Api) -> None:
    """3 boards, 2 kg of glue lot G-1 (expiring later) and 1 kg of G-2, 100 screws in STORES."""
    for serial in ("BD-1", "BD-2", "BD-3"):
        await api.ok("receive", **BOARD, serial=serial, location="STORES", quantity=1)
    await api.ok("receive", **GLUE, lot="G-1", location="STORES", quantity=2, expiry="2099-06-30")
    await api.ok("receive", **GLUE, lot="G-2", location="STORES", quantity=1, expiry="2099-01-31")
    await api.ok("receive", **SCREW, location="STORES", quantity=100)


async def make_run(api: Api, status: int = 201, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/runs", {"part": "PUMP", "quantity": 2, "location": "LINE", **body}, "supervisor")
    assert response.status_code == status, response.text
    return response.json()


async def act(api: Api, number: str, action: str, status: int = 200, role: str = "supervisor") -> dict[str, Any]:
    response = await api.post(f"/api/runs/{number}/{action}", {}, role)
    assert response.status_code == status, response.text
    return response.json()


async def demand(session: AsyncSession) -> dict[tuple[str, str], Any]:
    """The ledger's `demand` sums per part and location (zeros left out)."""
    total = func.sum(LedgerEntry.delta)
    rows = await session.execute(
        select(Part.part_number, Location.code, total)
        .join(Part, Part.id == LedgerEntry.part_id).join(Location, Location.id == LedgerEntry.location_id)
        .where(LedgerEntry.bucket == "demand").group_by(Part.part_number, Location.code).having(total != 0)
    )
    return {(part, code): value for part, code, value in rows}


async def ledger_is_stock(db: Database) -> None:
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)
