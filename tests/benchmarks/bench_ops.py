"""Online operations per second: a mixed receive / move / install workload through HTTP, against a floor.

    .venv/bin/python -m tests.benchmarks.bench_ops [--ops 3000] [--clients 8] [--db sqlite|postgres]
                                                  [--preload ROWS]

A real server (`uvicorn server.app:create_app --factory`, one process) on a fresh database; `--clients`
concurrent clients (httpx.AsyncClient, each signed in as its own operator) send `POST /api/ops` one
after another (workload.py). The floor (floor.py) then applies the same ops to a second copy of the
same starting database as raw prepared SQL, one transaction per op, in one process. Prints ops/s,
latency percentiles and the ratio gemba/floor; writes results/bench_ops.json (bench_ops_postgres.json
with --db postgres). `--preload ROWS` first bulk-loads that many inventory rows (dataset.py) into
both databases, to see how writes fare on a big table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.benchmarks import dataset
from tests.benchmarks.common import (
    Server, add_users, asyncpg_dsn, create_schema, fmt, percentiles, scratch_database, sign_in, write_result,
)
from tests.benchmarks.floor import PostgresFloor, SqliteFloor, run_floor
from tests.benchmarks.workload import Op, generate

COUNTED = ("inventory", "ledger", "movements", "ops")
# The workload's own parts, so that its stock never meets the preloaded rows (the floor need not read).
WORKLOAD_PARTS = {"serial": 20, "lot": 10, "untracked": 10}


async def prepare(engine: str, url: str, preload: int) -> dataset.Catalog:
    """Schema, locations and parts (the dataset's and the workload's), and `preload` stock rows."""
    await create_schema(url)
    generator = dataset.Generator(preload, seed=1)
    for tracking, count in WORKLOAD_PARTS.items():
        for i in range(count):
            generator.catalog.parts.append(
                (dataset.new_id(), f"W-{tracking}-{i:02d}", "A", f"workload part ({tracking})", "ea", tracking,
                 None, None, 0, dataset.START, dataset.START)
            )
    if engine == "sqlite":
        catalog = await asyncio.to_thread(dataset.load_sqlite, url.split("///", 1)[1], generator)
    else:
        catalog = await dataset.load_postgres(asyncpg_dsn(url), generator)
    return catalog


def workload(catalog: dataset.Catalog, clients: int, ops: int) -> list[list[Op]]:
    bins = [row[1] for row in catalog.locations if row[1].count("/") == 3 and row[5]]  # available bins
    parts: dict[str, list[str]] = {"serial": [], "lot": [], "untracked": []}
    for row in catalog.parts:
        if row[1].startswith("W-"):
            parts[row[5]].append(row[1])
    return generate(clients, ops // clients, bins, parts)


async def run_server(url: str, plans: list[list[Op]], tmp: Path) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(Server(url, tmp / "server.log"))
        limits = httpx.Limits(max_connections=len(plans), max_keepalive_connections=len(plans))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=120))
        tokens = [await sign_in(client, f"op{i}") for i in range(len(plans))]

        async def one_client(ops: list[Op], token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for op in ops:
                began = time.perf_counter()
                response = await client.post("/api/ops", json=op.body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 201:
                    failures.append(f"{op.kind}: {response.status_code} {response.text[:300]}")

        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(one_client(ops, token) for ops, token in zip(plans, tokens, strict=True)))
        seconds = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        server_cpu = None if server_cpu is None else server.cpu_seconds() - server_cpu
    n = sum(len(ops) for ops in plans)
    return {
        "ops": n, "seconds": round(seconds, 3), "ops_per_s": round(n / seconds, 1), "latency": percentiles(latencies),
        # CPU per op: steadier than wall time on a shared machine (the database server's CPU not included)
        "server_cpu_ms_per_op": None if server_cpu is None else round(server_cpu / n * 1000, 3),
        "client_cpu_ms_per_op": round(client_cpu / n * 1000, 3),
        "failures": len(failures), "first_failures": failures[:5],
        "server_log_tail": (tmp / "server.log").read_text()[-3000:] if failures else "",
    }


async def counts(engine: str, url: str) -> dict[str, int]:
    if engine == "sqlite":
        con = sqlite3.connect(url.split("///", 1)[1])
        try:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
        finally:
            con.close()
    con = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {t: await con.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}
    finally:
        await con.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gemba-bench-") as tmp_name:
        tmp = Path(tmp_name)
        async with AsyncExitStack() as stack:
            url = await stack.enter_async_context(scratch_database(args.db, tmp))
            print(f"preparing {args.db} (preload {args.preload:,} rows) …", flush=True)
            catalog = await prepare(args.db, url, args.preload)
            await add_users(url, [f"op{i}" for i in range(args.clients)])
            if args.db == "sqlite":
                floor_url = f"sqlite+aiosqlite:///{tmp / 'floor.sqlite3'}"
                source = url.split("///", 1)[1]
                with sqlite3.connect(source) as con:
                    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                shutil.copyfile(source, floor_url.split("///", 1)[1])
            else:
                floor_url = await stack.enter_async_context(scratch_database("postgres", tmp))
                await prepare(args.db, floor_url, args.preload)
            plans = workload(catalog, args.clients, args.ops)
            mix = Counter(op.kind for ops in plans for op in ops)
            before = await counts(args.db, url)

            print(f"gemba: {sum(mix.values()):,} ops from {args.clients} clients over HTTP …", flush=True)
            load_before = os.getloadavg()
            gemba = await run_server(url, plans, tmp)
            print(f"  {gemba['ops_per_s']:8.1f} ops/s   latency {fmt(gemba['latency'])}   failures {gemba['failures']}")
            print(f"  server CPU {gemba['server_cpu_ms_per_op']} ms/op, client CPU {gemba['client_cpu_ms_per_op']} ms/op")
            for failure in gemba["first_failures"]:
                print(f"    {failure}")
            if gemba["server_log_tail"]:
                print(f"  server log (tail):\n{gemba['server_log_tail']}")

            print("floor: the same writes as raw SQL, one transaction per op …", flush=True)
            if args.db == "sqlite":
                backend: Any = SqliteFloor(floor_url.split("///", 1)[1])
            else:
                backend = await PostgresFloor.connect(asyncpg_dsn(floor_url))
            try:
                floor_cpu = time.process_time()
                seconds, latencies = await run_floor(backend, plans, actor="op0")
                floor_cpu = time.process_time() - floor_cpu
            finally:
                await backend.close()
            n = sum(mix.values())
            floor = {"ops": n, "seconds": round(seconds, 3), "ops_per_s": round(n / seconds, 1),
                     "latency": percentiles(latencies), "cpu_ms_per_op": round(floor_cpu / n * 1000, 3)}
            print(f"  {floor['ops_per_s']:8.1f} ops/s   latency {fmt(floor['latency'])}   CPU {floor['cpu_ms_per_op']} ms/op")
            written = {
                "gemba": {t: v - before[t] for t, v in (await counts(args.db, url)).items()},
                "floor": {t: v - before[t] for t, v in (await counts(args.db, floor_url)).items()},
            }
            print(f"rows written: gemba {written['gemba']}  floor {written['floor']}")
            ratio = round(gemba["ops_per_s"] / floor["ops_per_s"], 4)
            print(f"ratio gemba/floor: {ratio:.3f}  (floor is {1 / ratio:.1f}x faster)")
            return {
                "db": args.db,
                "clients": args.clients,
                "preload_rows": catalog.inventory_rows,
                "mix": dict(mix),
                "gemba": gemba,
                "floor": floor,
                "ratio_gemba_over_floor": ratio,
                "rows_written": written,
                "same_writes": written["gemba"] == written["floor"],
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--preload", type=int, default=0, help="bulk-load this many inventory rows first")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default tests/benchmarks/results)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    name = "bench_ops" + ("_postgres" if args.db == "postgres" else "") + (f"_preload{args.preload}" if args.preload else "")
    print(f"wrote {write_result(name, result, args.out)}")
    if result["gemba"]["failures"] or not result["same_writes"]:
        raise SystemExit("the server refused ops or the floor's writes differ: the comparison is void")


if __name__ == "__main__":
    main()
