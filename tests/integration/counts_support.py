"""Cycle-count test support: a stockroom with costed stock of each tracking type, and the count calls a
supervisor and an operator make through the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from server.db import Database
from server.models import LedgerEntry, Movement
from tests.conftest import Api

SERIAL = {"part": "PUMP", "tracking": "serial"}
LOT = {"part": "SEAL", "tracking": "lot"}
BULK = {"part": "SCREW", "tracking": "untracked"}


@pytest.fixture
async def room(api: Api) -> Api:
    """CAGE with shelves S1 and S2, a LINE, an MRB (quarantine) and a count-discrepancy location. S1: pumps
    P-1 and P-2 (cost 400), 40 seals lot L-1 (cost 2.5), 100 screws (cost 0.1); S2: pump P-3, 10 seals L-2;
    LINE: pump P-4 and the assembly ASM-1."""
    await api.part("PUMP", "serial", revision="B", description="Pump")
    await api.part("ASM", "serial", description="Assembly")
    await api.part("SEAL", "lot", description="Seal kit")
    await api.part("SCREW", "untracked", description="Screw M3")
    await api.location("CAGE")
    await api.location("CAGE/S1", parent="CAGE")
    await api.location("CAGE/S2", parent="CAGE")
    await api.location("LINE")
    await api.location("MRB", kind="quarantine", available=False)
    await api.location("CC-DISC", kind="count_discrepancy")
    for serial, where in (("P-1", "CAGE/S1"), ("P-2", "CAGE/S1"), ("P-3", "CAGE/S2"), ("P-4", "LINE")):
        await api.ok("receive", **SERIAL, serial=serial, location=where, quantity=1, unit_cost=400.0)
    await api.ok("receive", part="ASM", tracking="serial", serial="ASM-1", location="LINE", quantity=1)
    await api.ok("receive", **LOT, lot="L-1", location="CAGE/S1", quantity=40, unit_cost=2.5)
    await api.ok("receive", **LOT, lot="L-2", location="CAGE/S2", quantity=10, unit_cost=2.5)
    await api.ok("receive", **BULK, location="CAGE/S1", quantity=100, unit_cost=0.1)
    return api


async def plan(api: Api, role: str = "supervisor", **body: Any) -> dict[str, Any]:
    response = await api.post("/api/counts", {"kind": "location", **body}, role)
    assert response.status_code == 201, response.text
    return response.json()


async def started(api: Api, **body: Any) -> dict[str, Any]:
    count = await plan(api, **body)
    response = await api.post(f"/api/counts/{count['id']}/start", {}, "supervisor")
    assert response.status_code == 200, response.text
    return response.json()


async def counted(api: Api, count: dict[str, Any], item: dict[str, Any], location: str, quantity: int,
                  role: str = "operator") -> dict[str, Any]:
    return await api.ok("count", role, **item, location=location, counted_quantity=quantity, count_id=count["id"])


async def review(api: Api, count: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/api/counts/{count['id']}/review", "supervisor")
    assert response.status_code == 200, response.text
    return response.json()


def line_of(body: dict[str, Any], *, serial: str | None = None, lot: str | None = None, part: str | None = None,
            location: str | None = None) -> dict[str, Any]:
    found = [
        line for line in body["lines"]
        if (serial is None or line["serial"] == serial) and (lot is None or line["lot"] == lot)
        and (part is None or line["part"] == part) and (location is None or line["location"] == location)
    ]
    assert len(found) == 1, found
    return found[0]


async def decide(api: Api, count: dict[str, Any], lines: list[str], action: str = "adjust", **extra: Any) -> list[dict[str, Any]]:
    response = await api.post(f"/api/counts/{count['id']}/decide", {"lines": lines, "action": action, **extra}, "supervisor")
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def close(api: Api, count: dict[str, Any], note: str | None = None, *, not_counted: bool = True) -> dict[str, Any]:
    """Close a count; by default the supervisor decides that lines left uncounted are recorded as not counted
    (test_counts_accuracy.py tests the refusal without that decision)."""
    body: dict[str, Any] = {"not_counted": not_counted} if not_counted else {}
    if note or not_counted:
        body["note"] = note or "the rest was not counted"
    response = await api.post(f"/api/counts/{count['id']}/close", body, "supervisor")
    assert response.status_code == 200, response.text
    return response.json()


async def trail(db: Database, op_id: str) -> tuple[list[LedgerEntry], list[Movement]]:
    """The ledger entries and movement-log lines an op wrote."""
    from uuid import UUID

    async with db.read() as session:
        ledger = (await session.execute(select(LedgerEntry).where(LedgerEntry.op_id == UUID(op_id)))).scalars().all()
        log = (await session.execute(select(Movement).where(Movement.op_id == UUID(op_id)))).scalars().all()
    return list(ledger), list(log)
