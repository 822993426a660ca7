"""Concurrent writers: generated serials and lots never repeat, and a serial received twice at the same
moment is received once — the other clients get DuplicateSerial, never a database error.

"Clients" are separate engines (as separate server processes would be), each applying ops through
`OpsService.apply_now` on its own connections, all at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from server.actor import Actor
from server.catalog import CatalogService
from server.db import Database
from server.errors import DuplicateSerial
from server.models import Counter, InventoryRow, LedgerEntry, Role
from server.ops.service import OpOutcome, OpRequest, OpsService
from server.schema import METADATA
from server.settings import Settings
from tests.conftest import Api
from tests.dbs import PG_URL, fresh_database

N = 8
OPERATOR = Actor(username="operator", role=Role.operator)


@pytest.fixture
async def pg_db(tmp_path: Path) -> AsyncIterator[Database]:
    async with fresh_database("postgresql", tmp_path) as url:
        db = Database(Settings(database_url=url))
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        yield db
        await db.dispose()


def clients(db: Database, count: int) -> list[OpsService]:
    """`count` services, each on its own engine and connection pool."""
    return [OpsService(Database(Settings(database_url=db.settings.database_url))) for _ in range(count)]


async def close(services: list[OpsService]) -> None:
    for service in services:
        await service.db.dispose()


async def all_at_once(services: list[OpsService], bodies: list[dict[str, Any]]) -> list[OpOutcome | BaseException]:
    ops = [OpRequest(op_id=uuid.uuid4(), type="receive", args=body) for body in bodies]
    return await asyncio.gather(
        *(services[i % len(services)].apply_now(op, OPERATOR) for i, op in enumerate(ops)), return_exceptions=True
    )


async def setup_catalog(db: Database) -> None:
    catalog, admin = CatalogService(db), Actor("admin", Role.admin)
    await catalog.create_location({"code": "DOCK", "parent": None}, admin)
    await catalog.create_part({"part_number": "CTRL", "tracking": "serial", "serial_pattern": "CTRL-{seq:03}"}, admin)
    await catalog.create_part({"part_number": "CAP", "tracking": "lot", "lot_pattern": "LOT-{seq:04}"}, admin)
    await catalog.create_part({"part_number": "PSU", "tracking": "serial"}, admin)


async def counters(db: Database, kind: str) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(select(Counter.key, Counter.value).where(Counter.key.startswith(f"{kind}:")))
        return {key.split("\x1f")[0]: value for key, value in rows.all()}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GEMBA_TEST_PG_URL")
async def test_concurrent_receipts_generate_distinct_serials(pg_db: Database) -> None:
    await setup_catalog(pg_db)
    services = clients(pg_db, 4)
    try:
        outcomes = await all_at_once(services, [{"part": "CTRL", "tracking": "serial", "location": "DOCK", "quantity": 1}] * N)
    finally:
        await close(services)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    serials = sorted(o.result["serial"] for o in outcomes)  # type: ignore[union-attr]
    assert serials == [f"CTRL-{n:03}" for n in range(1, N + 1)]
    assert await counters(pg_db, "serial") == {"serial:CTRL-": N}
    async with pg_db.read() as session:
        stored = (await session.scalars(select(InventoryRow.serial).where(InventoryRow.serial.is_not(None)))).all()
    assert sorted(stored) == serials


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GEMBA_TEST_PG_URL")
async def test_concurrent_receipts_generate_distinct_lots(pg_db: Database) -> None:
    await setup_catalog(pg_db)
    services = clients(pg_db, 4)
    try:
        bodies = [{"part": "CAP", "tracking": "lot", "location": "DOCK", "quantity": 10 + n} for n in range(N)]
        outcomes = await all_at_once(services, bodies)
    finally:
        await close(services)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    lots = {o.result["lot"]: o.result["quantity"] for o in outcomes}  # type: ignore[union-attr]
    assert sorted(lots) == [f"LOT-{n:04}" for n in range(1, N + 1)]
    assert sorted(lots.values()) == [10 + n for n in range(N)]  # each receipt its own lot, nothing merged
    assert await counters(pg_db, "lot") == {"lot:LOT-": N}
    async with pg_db.read() as session:
        on_hand = await session.scalar(select(func.sum(LedgerEntry.delta)))
    assert on_hand == sum(10 + n for n in range(N))


async def test_the_same_serial_received_at_once_by_several_clients_is_received_once(api: Api, db: Database) -> None:
    await setup_catalog(db)
    services = clients(db, 4)
    try:
        body = {"part": "PSU", "tracking": "serial", "location": "DOCK", "quantity": 1, "serial": "PSU-0042"}
        outcomes = await all_at_once(services, [body] * 6)
    finally:
        await close(services)
    applied = [o for o in outcomes if isinstance(o, OpOutcome)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(applied) == 1 and applied[0].result["serial"] == "PSU-0042"
    assert len(refused) == 5
    assert all(isinstance(error, DuplicateSerial) for error in refused), refused
    assert all(error.field == "args.serial" for error in refused)  # type: ignore[attr-defined]

    # The same through the HTTP API: one 201, the others a 409 problem, never a 500.
    responses = await asyncio.gather(
        *(api.op("receive", part="PSU", tracking="serial", location="DOCK", quantity=1, serial="PSU-0043")
          for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    for response in responses:
        if response.status_code == 409:
            assert (response.json()["type"], response.json()["reason"]) == ("/problems/duplicate-serial", "duplicate_serial")

    async with db.read() as session:
        stored = (await session.scalars(select(InventoryRow.serial).where(InventoryRow.serial.startswith("PSU")))).all()
        ledger = await session.scalar(select(func.sum(LedgerEntry.delta)))
    assert sorted(stored) == ["PSU-0042", "PSU-0043"]
    assert ledger == 2
