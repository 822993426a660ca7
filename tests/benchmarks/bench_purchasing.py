"""Purchasing at size: receipts against PO lines pushed by a phone, opening a big PO, the replenishment list.

    .venv/bin/python -m tests.benchmarks.bench_purchasing [--db sqlite|postgres] [--receipts 10000] [--batch 100] [--repeats 2]
                                                          [--serialized-lines 1000] [--constraints 10000]
                                                          [--rows 1000000] [--lookups 30] [--out DIR]

(a) receipts: one phone pushes `--receipts` receipts of 1 each (untracked parts) in batches of `--batch`, the
    app's size, through the push service in process (sync/push.py, the code behind POST /api/sync/push):
    once against PO lines (open POs of 100 lines of 10 each), once as plain receipts of the same parts into
    the same bins on a fresh database with the same POs; `--repeats` times each, alternately (medians).
    Reports both times and their ratio (the PO receipts' throughput relative to plain ones; target ≥ 0.8), in
    wall-clock and in CPU time of the process (steadier on a shared machine).
    Every op must come back `applied`.
(b) open: a draft PO of `--serialized-lines` lines, each one serialized unit with its serial, is opened
    (PurchasingService.open: the On-order rows and ledger lines in bulk); then the PO is read (its page's
    data, GET /api/purchase-orders/{number}). Median of 3.
(c) replenishment: `--rows` inventory rows bulk-loaded (dataset.py), `--constraints` min/max constraints on
    random (part, area) pairs, one lot row in 10 with an expiry (half of them expired), then
    ReplenishmentService.below_min (GET /api/replenishment) `--lookups` times,
    all sites and one site: p50/p95.

Writes results/purchasing.json (purchasing_postgres.json with --db postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from sqlalchemy import inspect, select, text, update

import server.purchasing  # noqa: F401 - receipts against lines, above_max
from server import levels
from server.actor import Actor
from server.app import freeze_startup_objects
from server.auth import AuthService
from server.db import Database
from server.db.bulk import insert_rows
from server.models import InventoryRow, Location, LocationKind, Part, Role
from server.purchasing.models import StockConstraint
from server.purchasing.replenishment import ReplenishmentService
from server.purchasing.schemas import PoIn, PoLineIn
from server.purchasing.service import PurchasingService
from server.schema import METADATA
from server.rules.status import utc_today
from server.settings import Settings
from sync.push import PushService
from sync.wire import Op, PushIn
from tests.benchmarks import dataset
from tests.benchmarks.bench_sync import load_stock
from tests.benchmarks.common import (
    PASSWORD, PG_ADMIN_URL, RESULTS, add_users, asyncpg_dsn, create_schema, percentiles, scratch_database, write_result,
)

SAM = Actor("sam", Role.supervisor)
PARTS, BINS, LINES_PER_PO, PER_LINE = 20, 20, 100, 10


# ---- (a) receipts -------------------------------------------------------------------------------
async def prepare_receipts(url: str, receipts: int) -> tuple[list[tuple[str, str]], str, str]:
    """Parts, bins, open POs with lines enough for `receipts` units, one phone. Returns (the lines' names and
    parts in receiving order, device id, username)."""
    await create_schema(url)
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            session.add_all(Part(part_number=f"BUY-{i:02d}", tracking="untracked") for i in range(PARTS))
            session.add_all(Location(code=f"RCV/B{i:02d}", name="bin") for i in range(BINS))
            session.add(Location(code="RCV/DOCK", name="dock", kind=LocationKind.incoming.value))
        lines_needed = -(-receipts // PER_LINE)
        purchasing, names = PurchasingService(db), []
        for start in range(0, lines_needed, LINES_PER_PO):
            count = min(LINES_PER_PO, lines_needed - start)
            lines = [PoLineIn(part=f"BUY-{(start + i) % PARTS:02d}", quantity=PER_LINE, unit_price=Decimal("1.25"))
                     for i in range(count)]
            po = await purchasing.create(PoIn(supplier="Acme", lines=lines), SAM)
            po = await purchasing.open(po.number, SAM)
            names += [(line.po_line, line.part) for line in po.lines]
        await add_users(url, ["rcv"])
        device_id = uuid.uuid4()
        await AuthService(db).issue("rcv", PASSWORD, device_id, "receiving phone")
    finally:
        await db.dispose()
    return names, str(device_id), "rcv"


def receipt_ops(names: list[tuple[str, str]], receipts: int, against_lines: bool) -> list[Op]:
    ops = []
    for n in range(receipts):
        name, part = names[n // PER_LINE]
        args: dict[str, Any] = {"part": part, "tracking": "untracked", "location": f"RCV/B{n % BINS:02d}", "quantity": 1}
        if against_lines:
            args["po_line"] = name
        ops.append(Op(op_id=uuid.uuid4(), seq=n + 1, type="receive", args=args, actor="rcv"))
    return ops


async def push_receipts(
    url: str, device_id: str, user: str, ops: list[Op], batch: int
) -> tuple[float, float, list[float]]:
    """(wall seconds, CPU seconds of this process — the server's work and SQLite's, in its threads —, the
    latency of each push)."""
    db = Database(Settings(database_url=url))
    actor = Actor(user, Role.operator, uuid.UUID(device_id))
    push, latencies = PushService(db), []
    freeze_startup_objects()  # as the server does once started
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        for start in range(0, len(ops), batch):
            began = time.perf_counter()
            answer = await push.push(PushIn(protocol=1, device_id=uuid.UUID(device_id), ops=ops[start:start + batch]), actor)
            latencies.append(time.perf_counter() - began)
            wrong = [r for r in answer.results if r.status != "applied"]
            assert not wrong and answer.stopped is None, (wrong[:3], answer.stopped)
        return time.perf_counter() - started, time.process_time() - cpu, latencies
    finally:
        await db.dispose()


async def bench_receipts(engine: str, tmp: Path, receipts: int, batch: int, repeats: int) -> dict[str, Any]:
    """Plain and PO-line pushes alternately, `repeats` times each (the machine's load changes over minutes):
    the medians count, every run is kept."""
    runs: dict[str, list[float]] = {"plain": [], "po_lines": []}
    cpus: dict[str, list[float]] = {"plain": [], "po_lines": []}
    latencies: dict[str, list[float]] = {"plain": [], "po_lines": []}
    for attempt in range(repeats):
        for kind, against in (("plain", False), ("po_lines", True)):
            run_dir = tmp / f"{kind}{attempt}"
            run_dir.mkdir()
            async with scratch_database(engine, run_dir) as url:
                names, device_id, user = await prepare_receipts(url, receipts)
                seconds, cpu, pushes = await push_receipts(url, device_id, user, receipt_ops(names, receipts, against),
                                                           batch)
            runs[kind].append(seconds)
            cpus[kind].append(cpu)
            latencies[kind] += pushes
            print(f"  {kind:8} {receipts} receipts in {seconds:.1f} s ({receipts / seconds:.0f}/s), CPU {cpu:.1f} s")
    found: dict[str, Any] = {}
    for kind, seconds in runs.items():
        median = statistics.median(seconds)
        found[kind] = {"seconds": round(median, 2), "runs_s": [round(s, 2) for s in seconds],
                       "cpu_s": round(statistics.median(cpus[kind]), 2), "cpu_runs_s": [round(c, 2) for c in cpus[kind]],
                       "ops_per_s": round(receipts / median, 1), "push_ms": percentiles(latencies[kind])}
    found["ratio"] = round(found["po_lines"]["ops_per_s"] / found["plain"]["ops_per_s"], 3)
    found["cpu_ratio"] = round(found["plain"]["cpu_s"] / found["po_lines"]["cpu_s"], 3)
    print(f"  ratio (PO-line receipts' throughput / plain, medians): wall {found['ratio']}, CPU {found['cpu_ratio']}")
    return found


# ---- (b) opening a big serialized PO ----------------------------------------------------------------
async def bench_open(engine: str, tmp: Path, lines: int) -> dict[str, Any]:
    opens, reads = [], []
    for attempt in range(3):
        run_dir = tmp / f"open{attempt}"
        run_dir.mkdir()
        async with scratch_database(engine, run_dir) as url:
            await create_schema(url)
            db = Database(Settings(database_url=url))
            try:
                async with db.write() as session:
                    session.add(Part(part_number="UNIT", tracking="serial"))
                    session.add(Location(code="DOCK", name="dock", kind=LocationKind.incoming.value))
                purchasing = PurchasingService(db)
                po = await purchasing.create(PoIn(supplier="Acme", lines=[
                    PoLineIn(part="UNIT", quantity=1, unit_price=Decimal("99.5"), serials=[f"U-{attempt}-{i:05d}"])
                    for i in range(lines)]), SAM)
                began = time.perf_counter()
                opened = await purchasing.open(po.number, SAM)
                opens.append(time.perf_counter() - began)
                assert opened.status == "open" and len(opened.lines) == lines
                began = time.perf_counter()
                await purchasing.get(po.number)
                reads.append(time.perf_counter() - began)
            finally:
                await db.dispose()
    found = {"lines": lines, "open_s": round(statistics.median(opens), 3), "read_s": round(statistics.median(reads), 3)}
    print(f"  open a PO of {lines} serialized lines: {found['open_s']} s; read it: {found['read_s']} s")
    return found


# ---- (c) replenishment --------------------------------------------------------------------------
async def expiring_lots(session: Any) -> dict[str, int]:
    """One lot row in 10 gets an expiry: half of them expired (yesterday), half a month ahead — the list subtracts
    the expired ones at read time."""
    today, lots = utc_today(), InventoryRow.lot.is_not(None)
    dated = {"expired_lots": today - timedelta(days=1), "expiring_lots": today + timedelta(days=30)}
    found = {}
    for n, (name, expiry) in enumerate(dated.items()):
        done = await session.execute(update(InventoryRow).where(lots, InventoryRow.version % 20 == n * 10)
                                     .values(expiry=expiry))
        found[name] = done.rowcount
    return found


async def _load_replenishment(url: str, engine: str, rows: int, constraints: int) -> dict[str, Any]:
    """The rows, the constraints on random (part, area) pairs and the expiring lots, in a fresh schema."""
    await create_schema(url)
    began = time.perf_counter()
    await load_stock(engine, url, rows)
    loaded = time.perf_counter() - began
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            parts = list((await session.execute(select(Part.id))).scalars())
            areas = list((await session.execute(
                select(Location.id).where(Location.code.in_(dataset.Generator(1, seed=1).catalog.areas))
            )).scalars())
            pairs = random.Random(7).sample([(p, a) for p in parts for a in areas], min(constraints, len(parts) * len(areas)))
            await insert_rows(session, StockConstraint.__table__, [
                {"part_id": part, "location_id": area, "min_quantity": 40, "max_quantity": 120, "updated_by": "sam",
                 "available": 0, "on_order": 0}  # summed by the database (server/levels.py)
                for part, area in pairs
            ])
            expiring = await expiring_lots(session)
    finally:
        await db.dispose()
    await _analyze(url)
    return {"rows": rows, "constraints": len(pairs), "load_s": round(loaded, 1), **expiring}


async def _relevel(url: str) -> None:
    """A kept database made by other code: the kept sums made again as this code keeps them (its columns, the
    rebuild, its triggers), so that a design change is measured on the same rows."""
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            for sql in levels.drop_triggers(db.dialect):
                await session.execute(text(sql))
            await session.run_sync(_add_missing_columns)
            for sql in [*levels.rebuild(), *levels.create_triggers(db.dialect)]:
                await session.execute(text(sql))
    finally:
        await db.dispose()
    await _analyze(url)


async def _analyze(url: str) -> None:
    """PostgreSQL: the planner's statistics after the constraints, the expiries and the sums were written (what
    autovacuum would have done by the time anyone asks; without them it plans for the empty tables of before)."""
    if url.startswith("postgresql"):
        admin = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await admin.execute("ANALYZE")
        finally:
            await admin.close()


def _add_missing_columns(session: Any) -> None:
    """The columns this code's models have that the kept database lacks (those with a server default: the kept sums)."""
    connection = session.connection()
    present = inspect(connection)
    for table in METADATA.sorted_tables:
        have = {c["name"] for c in present.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and column.server_default is not None:
                kind = column.type.compile(dialect=connection.dialect)
                default = column.server_default.arg.text
                connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind} NOT NULL DEFAULT {default}"))


@asynccontextmanager
async def replenishment_database(engine: str, tmp: Path, keep: str | None, rows: int,
                                 constraints: int) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(URL, what was loaded) of the database the list is measured on: a scratch one, or with `keep` (a SQLite file's
    path, a PostgreSQL database's name) one made the first time and reused after (loading 1,000,000 rows takes
    minutes), its kept sums made again by this code."""
    if keep is None:
        async with scratch_database(engine, tmp) as url:
            yield url, await _load_replenishment(url, engine, rows, constraints)
        return
    url = (f"sqlite+aiosqlite:///{Path(keep).resolve()}" if engine == "sqlite"
           else make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=keep).render_as_string(False))
    info = Path(f"{keep}.json") if engine == "sqlite" else RESULTS / f".kept_{keep}.json"
    if info.exists():
        began = time.perf_counter()
        await _relevel(url)
        print(f"  reusing {keep} (kept sums made again in {time.perf_counter() - began:.1f} s)")
        yield url, json.loads(info.read_text())
        return
    if engine == "postgresql":
        admin = await asyncpg.connect(asyncpg_dsn(PG_ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{keep}" WITH (FORCE)')  # a load that did not finish
            await admin.execute(f'CREATE DATABASE "{keep}"')
        finally:
            await admin.close()
    loaded = await _load_replenishment(url, engine, rows, constraints)
    info.write_text(json.dumps(loaded))
    yield url, loaded


async def bench_replenishment(engine: str, tmp: Path, rows: int, constraints: int, lookups: int,
                              keep: str | None = None) -> dict[str, Any]:
    async with replenishment_database(engine, tmp, keep, rows, constraints) as (url, loaded):
        db = Database(Settings(database_url=url))
        try:
            async with db.read() as session:
                site = (await session.execute(
                    select(Location.code).where(Location.code.in_(dataset.Generator(1, seed=1).catalog.areas))
                    .order_by(Location.code).limit(1)
                )).scalar_one().split("/")[0]
            service = ReplenishmentService(db)
            freeze_startup_objects()  # as the server does once started: its full collections skip what lives on
            found: dict[str, Any] = dict(loaded)
            for name, where in (("all", None), ("site", site)):
                samples, cpus, items = [], [], 0
                for _ in range(lookups):
                    began, cpu = time.perf_counter(), time.process_time()
                    answer = await service.below_min(where)
                    samples.append(time.perf_counter() - began)
                    cpus.append(time.process_time() - cpu)
                    items = answer.total
                found[name] = {"items": items, **percentiles(samples),
                               "cpu": {k: v for k, v in percentiles(cpus).items() if k in ("p50_ms", "p95_ms")}}
                print(f"  replenishment ({name}): {items} below min of {loaded['constraints']} constraints over "
                      f"{loaded['rows']} rows: p50 {found[name]['p50_ms']:.0f} ms, p95 {found[name]['p95_ms']:.0f} ms; "
                      f"CPU of this process p50 {found[name]['cpu']['p50_ms']:.0f} ms, "
                      f"p95 {found[name]['cpu']['p95_ms']:.0f} ms")
        finally:
            await db.dispose()
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each kind of receipt, alternately")
    parser.add_argument("--serialized-lines", type=int, default=1000)
    parser.add_argument("--constraints", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=30)
    parser.add_argument("--skip", default="", help="comma-separated phases to leave out: receipts, open, replenishment")
    parser.add_argument("--keep", default=None, help="replenishment: a SQLite file (a PostgreSQL database name) to "
                        "build the first time and reuse after; left behind (delete it when done)")
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    engine = "postgresql" if options.db == "postgres" else "sqlite"
    skip = set(filter(None, options.skip.split(",")))
    result: dict[str, Any] = {"engine": engine, "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        if "receipts" not in skip:
            print(f"(a) {options.receipts} receipts, batches of {options.batch}")
            (tmp / "a").mkdir()
            result["receipts"] = await bench_receipts(engine, tmp / "a", options.receipts, options.batch,
                                                      options.repeats)
        if "open" not in skip:
            print(f"(b) a PO of {options.serialized_lines} serialized lines")
            (tmp / "b").mkdir()
            result["open"] = await bench_open(engine, tmp / "b", options.serialized_lines)
        if "replenishment" not in skip:
            print(f"(c) replenishment over {options.constraints} constraints and {options.rows} rows")
            (tmp / "c").mkdir()
            result["replenishment"] = await bench_replenishment(engine, tmp / "c", options.rows, options.constraints,
                                                                options.lookups, options.keep)
    name = "purchasing" if engine == "sqlite" else "purchasing_postgres"
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(write_result(name, result, options.out))


if __name__ == "__main__":
    asyncio.run(main())
