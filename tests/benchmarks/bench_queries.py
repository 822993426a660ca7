"""Read latency on a large inventory: find a unit by serial, its history, a filtered page with `total`.

    .venv/bin/python -m tests.benchmarks.bench_queries [--rows 1000000] [--lookups 300] [--db sqlite|postgres]

Builds a fresh database (see dataset.py), then times the server's own query functions in-process
(`server.queries.InventoryQueries`, what the API handlers call) and the same requests over HTTP against
a real uvicorn server, one request at a time. Prints p50/p95/p99 and writes results/bench_queries.json
(results/bench_queries_postgres.json with --db postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from server.db import Database
from server.queries import InventoryFilter, InventoryQueries
from server.settings import Settings
from tests.benchmarks import dataset
from tests.benchmarks.common import (
    Server, add_users, asyncpg_dsn, create_schema, fmt, percentiles, scratch_database, sign_in, write_result,
)

TARGETS_MS = {"serial_lookup": 5.0, "unit_history": 5.0, "filtered_page": 50.0}  # p95, server time


def cases(catalog: dataset.Catalog, rng: random.Random) -> dict[str, Callable[[], tuple[InventoryFilter, str, str]]]:
    """Each case draws a random request: (filter for the in-process call, HTTP path, kind)."""

    def serial() -> tuple[Any, str, str]:
        s = rng.choice(catalog.serial_sample)
        return InventoryFilter(serial=s), f"/api/inventory?serial={s}", "page"

    def history() -> tuple[Any, str, str]:
        s = rng.choice(catalog.serial_sample)
        return s, f"/api/units/{s}/history", "history"

    def filtered(status: str, places: list[str]) -> Callable[[], tuple[Any, str, str]]:
        def draw() -> tuple[Any, str, str]:
            where = rng.choice(places)
            return InventoryFilter(status=status, location=where), f"/api/inventory?status={status}&location={where}", "page"

        return draw

    return {
        "serial_lookup": serial,
        "unit_history": history,
        "filtered_page": filtered("available", catalog.areas),
        # for context, not targets: a rare status over an area, and the biggest subtree (a whole site)
        "filtered_page_unavailable": filtered("unavailable", catalog.areas),
        "filtered_page_site": filtered("available", catalog.sites),
    }


MAIN_CASES = ("serial_lookup", "unit_history", "filtered_page")


async def time_calls(call: Callable[[], Awaitable[Any]], n: int, warmup: int) -> dict[str, Any]:
    """Wall-clock percentiles, and (`cpu`) the CPU time this process spent per call: on a busy machine
    the second is the steadier measure of the work a call costs (SQLite runs in-process, so it counts
    the database's work too; a PostgreSQL server's work is not in it)."""
    for _ in range(warmup):
        await call()
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        await call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {**percentiles(wall), "cpu": percentiles(cpu)}


async def in_process(url: str, catalog: dataset.Catalog, lookups: int, seed: int) -> dict[str, Any]:
    db = Database(Settings(database_url=url))
    queries = InventoryQueries(db)
    out: dict[str, Any] = {}
    try:
        for name, draw in cases(catalog, random.Random(seed)).items():
            n = lookups if name in MAIN_CASES else max(1, lookups // 4)

            async def call(draw: Callable[[], tuple[Any, str, str]] = draw) -> None:
                arg, _, kind = draw()
                if kind == "history":
                    await queries.unit_history(arg)
                else:
                    await queries.page(arg, 50, 0)

            out[name] = await time_calls(call, n, warmup=min(10, lookups))
            print(f"  in-process {name:28s} {fmt(out[name])}   cpu p50 {out[name]['cpu']['p50_ms']:7.2f} ms"
                  f"  p95 {out[name]['cpu']['p95_ms']:7.2f} ms", flush=True)
        out["_sample"] = await sample_answers(queries, catalog)
    finally:
        await db.dispose()
    return out


async def sample_answers(queries: InventoryQueries, catalog: dataset.Catalog) -> dict[str, Any]:
    """What the measured requests return, so a reader can see they did real work."""
    area = catalog.areas[0]
    _, total = await queries.page(InventoryFilter(status="available", location=area), 50, 0)
    _, site_total = await queries.page(InventoryFilter(status="available", location=catalog.sites[0]), 50, 0)
    history = await queries.unit_history(catalog.serial_sample[0])
    return {
        "area": area,
        "rows_in_area": catalog.rows_per_area[area],
        "available_in_area_total": total,
        "available_in_site_total": site_total,
        "history_events_of_first_sample": len(history["events"]),
    }


async def over_http(url: str, catalog: dataset.Catalog, lookups: int, seed: int, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with Server(url, tmp / "server.log") as server, httpx.AsyncClient(base_url=server.base_url) as client:
        client.headers["Authorization"] = f"Bearer {await sign_in(client, 'bench')}"
        for name, draw in cases(catalog, random.Random(seed)).items():
            n = lookups if name in MAIN_CASES else max(1, lookups // 4)

            async def call(draw: Callable[[], tuple[Any, str, str]] = draw) -> None:
                _, path, _ = draw()
                response = await client.get(path)
                assert response.status_code == 200, response.text

            out[name] = await time_calls(call, n, warmup=min(10, lookups))
            del out[name]["cpu"]  # the client's, not the server's
            print(f"  HTTP       {name:28s} {fmt(out[name])}", flush=True)
    return out


async def explain(url: str, catalog: dataset.Catalog) -> dict[str, list[str]]:
    """The plans of the statements the measured calls really run (EXPLAIN QUERY PLAN / EXPLAIN), caught
    on their way to the driver."""
    db = Database(Settings(database_url=url))
    queries = InventoryQueries(db)
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            caught.append((statement, parameters))

    calls = {
        "serial_lookup": queries.page(InventoryFilter(serial=catalog.serial_sample[0]), 50, 0),
        "filtered_page": queries.page(InventoryFilter(status="available", location=catalog.areas[0]), 50, 0),
    }
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    plans: dict[str, list[str]] = {}
    try:
        for name, call in calls.items():
            caught.clear()
            event.listen(db.engine.sync_engine, "before_cursor_execute", catch)
            await call
            event.remove(db.engine.sync_engine, "before_cursor_execute", catch)
            async with db.read() as session:
                connection = await session.connection()
                for number, (statement, parameters) in enumerate(list(caught), 1):
                    rows = (await connection.exec_driver_sql(prefix + statement, parameters)).all()
                    plans[f"{name} #{number}"] = [" ".join(statement.split())[:160] + " …", *(str(r[-1]) for r in rows)]
    finally:
        await db.dispose()
    return plans


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gemba-bench-") as tmp_name:
        tmp = Path(tmp_name)
        async with scratch_database(args.db, tmp) as url:
            print(f"building {args.rows:,} inventory rows on {args.db} …", flush=True)
            start = time.perf_counter()
            await create_schema(url)
            generator = dataset.Generator(args.rows, seed=args.seed)
            if args.db == "sqlite":
                catalog = await asyncio.to_thread(dataset.load_sqlite, url.split("///", 1)[1], generator)
            else:
                catalog = await dataset.load_postgres(asyncpg_dsn(url), generator)
            await add_users(url, ["bench"])
            build_s = time.perf_counter() - start
            print(
                f"  {catalog.inventory_rows:,} rows, {catalog.movement_rows:,} movements, {len(catalog.locations):,}"
                f" locations, {len(catalog.parts):,} parts in {build_s:.1f} s",
                flush=True,
            )
            plans = await explain(url, catalog) if args.explain else {}
            for name, plan in plans.items():
                print(f"  plan {name}:\n    " + "\n    ".join(plan))
            result: dict[str, Any] = {
                "db": args.db,
                "rows": catalog.inventory_rows,
                "movements": catalog.movement_rows,
                "locations": len(catalog.locations),
                "parts": len(catalog.parts),
                "rows_per_area_mean": round(catalog.inventory_rows / len(catalog.areas)),
                "build_seconds": round(build_s, 1),
                "targets_p95_ms": TARGETS_MS,
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
                "in_process": await in_process(url, catalog, args.lookups, args.seed),
            }
            if not args.no_http:
                result["http"] = await over_http(url, catalog, args.lookups, args.seed, tmp)
            if plans:
                result["plans"] = plans
            measured = result["in_process"]
            result["targets_met"] = {name: measured[name]["p95_ms"] < limit for name, limit in TARGETS_MS.items()}
            result["targets_met_cpu"] = {
                name: measured[name]["cpu"]["p95_ms"] < limit for name, limit in TARGETS_MS.items()
            }
            result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=300, help="timed requests per main case")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP comparison")
    parser.add_argument("--explain", action="store_true", help="print and record the query plans")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default tests/benchmarks/results)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    name = "bench_queries" if args.db == "sqlite" else "bench_queries_postgres"
    print(f"targets (in-process p95, wall): {result['targets_met']}  (cpu): {result['targets_met_cpu']}")
    print(f"wrote {write_result(name, result, args.out)}")


if __name__ == "__main__":
    main()
