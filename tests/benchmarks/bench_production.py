"""Production at size: completing a big run, and tracing a unit deep in a tree.

    .venv/bin/python -m tests.benchmarks.bench_production [--db sqlite|postgres] [--units 1000] [--components 20]
                                                          [--chunk 100] [--rows 0] [--depth 5] [--fanout 3]
                                                          [--lookups 30] [--out DIR]

(a) complete: a run of `--units` serialized assemblies of `--components` components each (a quarter of them
    lot-tracked, the rest untracked; one of each per assembly) is planned and started, every component issued
    to it in one `issue` op per part, then built by `complete_run` ops of `--chunk` units each through
    OpsService.apply_now (the code behind POST /api/ops). Reports the issue and completion times, units per
    second and the rows written; the ledger must equal the stock on hand afterwards.
(b) trace: on top of `--rows` inventory rows bulk-loaded (dataset.py; 0 by default, 1000000 for the issue's
    target), a tree `--depth` levels deep with `--fanout` units installed in each unit (install ops), then
    ProductionQueries.trace (GET /api/trace) `--lookups` times of a leaf (the whole chain up) and of the root
    (the whole tree down): p50/p95. Target: p95 < 50 ms for the leaf.

Writes results/bench_production.json (bench_production_postgres.json with --db postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import server.production  # noqa: F401 - its ops and the BOM check
import server.purchasing  # noqa: F401 - receipts
from server.actor import Actor
from server.catalog import CatalogService
from server.db import Database
from server.models import InventoryRow, Part, Role
from server.ops.service import OpRequest, OpsService
from server.production.bom import BomService
from server.production.runs import RunService
from server.production.schemas import BomIn, BomLineIn, RunIn
from server.production.trace import ProductionQueries
from server.settings import Settings
from tests.benchmarks.bench_sync import load_stock
from tests.benchmarks.common import create_schema, percentiles, scratch_database, write_result
from tests.integration.ops_support import ledger_sums, on_hand

SAM = Actor("sam", Role.supervisor)
ADMIN = Actor("admin", Role.admin)


async def op(ops: OpsService, op_type: str, **args: Any) -> dict[str, Any]:
    return (await ops.apply_now(OpRequest(uuid.uuid4(), op_type, args), SAM)).result


# ---- (a) a big run ------------------------------------------------------------------------------
async def bench_complete(db: Database, units: int, components: int, chunk: int) -> dict[str, Any]:
    catalog, ops = CatalogService(db), OpsService(db)
    for code in ("BENCH-STORES", "BENCH-LINE"):
        await catalog.create_location({"code": code}, ADMIN)
    await catalog.create_part({"part_number": "BENCH-ASSY", "tracking": "serial",
                               "serial_pattern": "BA-{seq:06}"}, ADMIN)
    parts = [(f"BENCH-C{n:02d}", "lot" if n % 4 == 0 else "untracked") for n in range(components)]
    for number, tracking in parts:
        await catalog.create_part({"part_number": number, "tracking": tracking}, ADMIN)
        await op(ops, "receive", part=number, tracking=tracking, location="BENCH-STORES", quantity=units,
                 **({"lot": f"{number}-L1"} if tracking == "lot" else {}))
    await BomService(db).put("BENCH-ASSY", BomIn(lines=[BomLineIn(part=number, quantity=1) for number, _ in parts]),
                             SAM)
    runs = RunService(db)
    await runs.create(RunIn(number="BENCH-RUN", part="BENCH-ASSY", quantity=units, location="BENCH-LINE"), SAM)
    await runs.act("BENCH-RUN", "start", SAM)
    began = time.perf_counter()
    for number, tracking in parts:
        await op(ops, "issue", run="BENCH-RUN", part=number, tracking=tracking, from_location="BENCH-STORES",
                 quantity=units, **({"lot": f"{number}-L1"} if tracking == "lot" else {}))
    issued = time.perf_counter() - began
    async with db.read() as session:
        rows_before = await session.scalar(select(func.count()).select_from(InventoryRow))
    began, built = time.perf_counter(), 0
    while built < units:
        size = min(chunk, units - built)
        await op(ops, "complete_run", run="BENCH-RUN", quantity=size, location="BENCH-LINE")
        built += size
    completed = time.perf_counter() - began
    async with db.read() as session:
        rows_after = await session.scalar(select(func.count()).select_from(InventoryRow))
        ours = set((await session.execute(select(Part.id).where(Part.part_number.like("BENCH-%")))).scalars())
        ledger, stock = await ledger_sums(session), await on_hand(session)  # the bulk-loaded rows have no ledger
        assert {k: v for k, v in ledger.items() if k[0] in ours} == {k: v for k, v in stock.items() if k[0] in ours}
    run = await runs.get("BENCH-RUN")
    assert run.produced == units and all(line.consumed == units for line in run.requirements)
    found = {"units": units, "components": components, "chunk": chunk, "issue_s": round(issued, 3),
             "complete_s": round(completed, 3), "units_per_s": round(units / completed, 1),
             "rows_written": rows_after - rows_before}
    print(f"  complete: {units} assemblies x {components} components in ops of {chunk}: {completed:.2f} s "
          f"({found['units_per_s']} units/s, {found['rows_written']} rows); issuing {components} parts {issued:.2f} s")
    return found


# ---- (b) a deep trace -----------------------------------------------------------------------------
async def bench_trace(db: Database, depth: int, fanout: int, lookups: int) -> dict[str, Any]:
    catalog, ops = CatalogService(db), OpsService(db)
    await catalog.create_location({"code": "TRACE-CELL"}, ADMIN)
    await catalog.create_part({"part_number": "TRACE-UNIT", "tracking": "serial", "serial_pattern": "TU-{seq:06}"},
                              ADMIN)

    async def unit() -> str:
        made = await op(ops, "receive", part="TRACE-UNIT", tracking="serial", location="TRACE-CELL", quantity=1)
        return made["serial"]

    root = await unit()
    level, leaf, made = [root], root, 1
    for _ in range(depth - 1):
        below = []
        for parent in level:
            for _ in range(fanout):
                child = await unit()
                await op(ops, "install", part="TRACE-UNIT", tracking="serial", serial=child, parent_serial=parent,
                         quantity=1)
                below.append(child)
        made += len(below)
        level, leaf = below, below[-1]
    queries, found = ProductionQueries(db), {"depth": depth, "fanout": fanout, "units": made}
    for name, serial in (("leaf", leaf), ("root", root)):
        samples = []
        for _ in range(lookups):
            began = time.perf_counter()
            report = await queries.trace(serial, None, None)
            samples.append(time.perf_counter() - began)
        shape = {"up": len(report.up), "down_top": len(report.down), "ops": len(report.ops)}
        found[name] = {**shape, **percentiles(samples)}
        print(f"  trace ({name}, {depth} levels, {made} units): p50 {found[name]['p50_ms']:.1f} ms, "
              f"p95 {found[name]['p95_ms']:.1f} ms ({shape})")
    assert found["leaf"]["up"] == depth - 1
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--rows", type=int, default=0, help="inventory rows bulk-loaded before the trace")
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--fanout", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    engine = "postgresql" if args.db == "postgres" else "sqlite"
    result: dict[str, Any] = {"db": engine, "rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        async with scratch_database(engine, Path(tmp)) as url:
            await create_schema(url)
            if args.rows:
                began = time.perf_counter()
                await load_stock(engine, url, args.rows)
                result["load_s"] = round(time.perf_counter() - began, 1)
            db = Database(Settings(database_url=url))
            try:
                result["complete"] = await bench_complete(db, args.units, args.components, args.chunk)
                result["trace"] = await bench_trace(db, args.depth, args.fanout, args.lookups)
            finally:
                await db.dispose()
    name = "bench_production" + ("_postgres" if engine == "postgresql" else "")
    print(f"wrote {write_result(name, result, args.out)}")


if __name__ == "__main__":
    asyncio.run(main())
