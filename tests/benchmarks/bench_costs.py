"""Costs at size: the push of mixed ops that cost (receipts with prices, removes, scraps) against the same push
where the ops that would consume layers are moves instead, and the valuation over many rows and layers.

    .venv/bin/python -m tests.benchmarks.bench_costs [--db sqlite|postgres] [--ops 10000] [--batch 100]
                                                     [--repeats 2] [--rows 1000000] [--layers 200000]
                                                     [--lookups 20] [--skip push|valuation] [--out DIR]

(a) push: one phone pushes `--ops` ops in batches of `--batch` through the push service in process
    (sync/push.py): a receipt with a unit price every 4th op, else alternately a remove, a scrap and a move of 1
    ("costed"); or the same stream with every remove and scrap a move ("moves"), which takes no layer and writes
    no usage. Every receipt makes a layer either way (every receipt is layered), and every move hands its
    layers over to the row it goes to: the ratio moves/costed measures what FIFO consumption and usage records
    cost a push. `--repeats` runs of each, alternately (medians), with the process CPU time of each.
(b) valuation: `--rows` inventory rows bulk-loaded (tests/benchmarks/dataset.py: 2 sites × 10 areas × 10
    shelves × 9 bins, 5,000 parts), then `--layers` cost layers over the parts, each held by a few of its rows
    (every row that is stock held holds exactly its quantity, as ops keep it), written straight into the
    tables; then CostQueries.valuation (GET /api/valuation) everywhere, for a site, an area and a bin, and
    CostQueries.value_by_location (the page's chart) for an area, `--lookups` times each: p50/p95.

Writes results/costs.json (costs_postgres.json with --db postgres).

    .venv/bin/python -m tests.benchmarks.bench_costs --usage-csv 100000 [--db sqlite|postgres] [--repeats 5]

(c) usage CSV, instead of (a) and (b): `--usage-csv` usage records bulk-loaded (a year of removes, scraps and
    adjustments over the parts and bins, inserted as rows: the push is not what is measured), then
    `GET /api/usage.csv` through a real HTTP server (uvicorn in its own process, common.Server), read as a stream:
    the first byte and the whole body, `--repeats` times (medians), the server's CPU time, and the same records
    read in process straight from the database (CostQueries.usage_rows, no HTTP, no CSV) as the baseline of the
    same run; with `--compare-code DIR` (a checkout of another commit, e.g. `git archive <commit> | tar -x -C DIR`)
    the same requests to that code's server too, alternately. Writes results/usage_csv.json (usage_csv_postgres.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, select

import server.purchasing  # noqa: F401 - receipts ask it whether they lifted a location above a max
from server.actor import Actor
from server.auth import AuthService
from server.costs import values
from server.costs.read import CostQueries
from server.db import Database
from server.models import Location, Part, Role, UsageRecord
from server.settings import Settings
from sync.push import PushService
from sync.wire import Op, PushIn
from tests.benchmarks import dataset
from tests.benchmarks.common import (
    PASSWORD, Server, add_users, asyncpg_dsn, create_schema, percentiles, scratch_database, sign_in, write_result,
)

PARTS, BINS = 20, 20


async def prepare(url: str) -> str:
    await create_schema(url)
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            session.add_all(Part(part_number=f"C-{i:02d}", tracking="untracked") for i in range(PARTS))
            session.add_all(Location(code=f"CB{i:02d}") for i in range(BINS))
        await add_users(url, ["rcv"])
        device_id = uuid.uuid4()
        await AuthService(db).issue("rcv", PASSWORD, device_id, "phone")
    finally:
        await db.dispose()
    return str(device_id)


def mixed_ops(count: int, costed: bool) -> list[Op]:
    ops = []
    for n in range(count):
        back = n - n % 4  # the receipt this op follows: its part, in its bin
        here = f"CB{back % BINS:02d}"
        base: dict[str, Any] = {"part": f"C-{back % PARTS:02d}", "tracking": "untracked", "quantity": 1}
        if n % 4 == 0:
            args, kind = {**base, "location": here, "quantity": 4, "unit_cost": f"{1 + n % 7}.25"}, "receive"
        elif costed and n % 4 == 1:
            args, kind = {**base, "location": here, "reason": "used"}, "remove"
        elif costed and n % 4 == 2:
            args, kind = {**base, "location": here, "reason": "bent"}, "scrap"
        else:
            args, kind = {**base, "from_location": here, "to_location": f"CB{(back + 1) % BINS:02d}"}, "move"
        ops.append(Op(op_id=uuid.uuid4(), seq=n + 1, type=kind, args=args, actor="rcv"))
    return ops


async def push_all(url: str, device_id: str, ops: list[Op], batch: int) -> tuple[float, float]:
    """Seconds (wall) and this process's CPU seconds to push `ops`."""
    db = Database(Settings(database_url=url))
    actor = Actor("rcv", Role.operator, uuid.UUID(device_id))
    push = PushService(db)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(ops), batch):
            answer = await push.push(PushIn(protocol=1, device_id=uuid.UUID(device_id), ops=ops[start:start + batch]), actor)
            wrong = [r for r in answer.results if r.status != "applied"]
            assert not wrong and answer.stopped is None, (wrong[:3], answer.stopped)
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await db.dispose()


async def bench_push(engine: str, tmp: Path, count: int, batch: int, repeats: int) -> dict[str, Any]:
    runs: dict[str, list[float]] = {"costed": [], "moves": []}
    cpu: dict[str, list[float]] = {"costed": [], "moves": []}
    for attempt in range(repeats):
        for kind in runs:
            run_dir = tmp / f"{kind}{attempt}"
            run_dir.mkdir()
            async with scratch_database(engine, run_dir) as url:
                device_id = await prepare(url)
                seconds, cpu_seconds = await push_all(url, device_id, mixed_ops(count, kind == "costed"), batch)
            runs[kind].append(seconds)
            cpu[kind].append(cpu_seconds)
            print(f"  {kind:7} {count} ops in {seconds:.1f} s ({count / seconds:.0f}/s), {cpu_seconds:.1f} s CPU")
    medians = {kind: statistics.median(seconds) for kind, seconds in runs.items()}
    cpu_medians = {kind: statistics.median(seconds) for kind, seconds in cpu.items()}
    ratio = medians["moves"] / medians["costed"]
    cpu_ratio = cpu_medians["moves"] / cpu_medians["costed"]
    print(f"  throughput costed / moves: {ratio:.2f} (CPU {cpu_ratio:.2f})")
    return {"ops": count, "batch": batch, "runs_s": runs, "cpu_s": cpu, "median_s": medians, "ratio": ratio,
            "cpu_ratio": cpu_ratio}


class HeldRows(dataset.Generator):
    """The dataset, remembering the rows that are stock held (not scrapped, not empty) by part, to give them
    layers."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.held: dict[bytes, list[tuple[bytes, int]]] = {}

    def chunks(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        for inventory, movements in super().chunks():
            for row in inventory:
                if row[3] > 0 and not row[10]:  # quantity, scrapped
                    self.held.setdefault(row[1], []).append((row[0], row[3]))
            yield inventory, movements


LAYER_COLUMNS = ("id", "part_id", "op_id", "version", "kind", "package_ref", "received_at", "quantity_received",
                 "quantity_remaining", "unit_cost", "average_price", "created_at", "updated_at")
HOLDING_COLUMNS = ("id", "layer_id", "inventory_id", "quantity", "created_at", "updated_at")


def layered(generator: HeldRows, layers: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`layers` layers spread over the parts, each held by a run of its part's rows (whole rows: a row holds one
    layer), with costs of 2 decimal places; quantities as the dataset stores them."""
    rng = random.Random(7)
    per_row = layers / max(1, sum(len(rows) for rows in generator.held.values()))
    layer_rows, holding_rows, version = [], [], 0
    for part_id, rows in generator.held.items():
        size = -(-len(rows) // max(1, round(len(rows) * per_row)))
        for start in range(0, len(rows), size):
            version += 1
            layer_id, held = dataset.new_id(), rows[start:start + size]
            quantity = sum(q for _, q in held)
            cost = Decimal(rng.randint(10, 90_000)) / 100
            layer_rows.append((layer_id, part_id, dataset.new_id(), version, "receipt", f"DN-{version}",
                               dataset.START, quantity, quantity, cost, cost, dataset.START, dataset.START))
            holding_rows += [(dataset.new_id(), layer_id, row_id, q, dataset.START, dataset.START) for row_id, q in held]
    return layer_rows, holding_rows


def load_layers_sqlite(path: str, layer_rows: list[tuple[Any, ...]], holding_rows: list[tuple[Any, ...]]) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA cache_size=-400000")  # as dataset.py's load: the values' rebuild joins 1M holdings
        con.execute("BEGIN")
        for sql in values.drop_triggers("sqlite"):  # the stock values: made once after the load, not row by row
            con.execute(sql)
        money = {LAYER_COLUMNS.index("unit_cost"), LAYER_COLUMNS.index("average_price")}
        rows = [tuple(format(v.quantize(Decimal("0.000001")), "f") if i in money else v for i, v in enumerate(row))
                for row in layer_rows]
        con.executemany(dataset._insert_sql("cost_layers", LAYER_COLUMNS), dataset._sqlite_rows(LAYER_COLUMNS, rows))
        con.executemany(dataset._insert_sql("cost_holdings", HOLDING_COLUMNS),
                        dataset._sqlite_rows(HOLDING_COLUMNS, holding_rows))
        began = time.perf_counter()
        for sql in [*values.rebuild("sqlite"), *values.create_triggers("sqlite")]:
            con.execute(sql)
        print(f"  stock values made from the holdings in {time.perf_counter() - began:.1f} s")
        con.execute("COMMIT")
        con.execute("ANALYZE")
    finally:
        con.close()


async def load_layers_postgres(dsn: str, layer_rows: list[tuple[Any, ...]], holding_rows: list[tuple[Any, ...]]) -> None:
    uuids = {"id", "part_id", "op_id", "layer_id", "inventory_id"}
    con = await asyncpg.connect(dsn)
    try:
        async with con.transaction():
            await con.execute("SET LOCAL session_replication_role = replica")  # no triggers: the values made once
            for table, columns, rows in (("cost_layers", LAYER_COLUMNS, layer_rows),
                                         ("cost_holdings", HOLDING_COLUMNS, holding_rows)):
                records = [tuple(uuid.UUID(bytes=v) if c in uuids else v for c, v in zip(columns, row)) for row in rows]
                await con.copy_records_to_table(table, records=records, columns=columns)
            began = time.perf_counter()
            for sql in values.rebuild("postgresql"):
                await con.execute(sql)
            print(f"  stock values made from the holdings in {time.perf_counter() - began:.1f} s")
        await con.execute("VACUUM ANALYZE")
    finally:
        await con.close()


async def bench_valuation(engine: str, tmp: Path, rows: int, layers: int, lookups: int) -> dict[str, Any]:
    run_dir = tmp / "valuation"
    run_dir.mkdir()
    async with scratch_database(engine, run_dir) as url:
        await create_schema(url)
        generator = HeldRows(rows)
        began = time.perf_counter()
        if engine == "sqlite":
            catalog = await asyncio.to_thread(dataset.load_sqlite, url.split("///", 1)[1], generator)
        else:
            catalog = await dataset.load_postgres(asyncpg_dsn(url), generator)
        layer_rows, holding_rows = layered(generator, layers)
        if engine == "sqlite":
            await asyncio.to_thread(load_layers_sqlite, url.split("///", 1)[1], layer_rows, holding_rows)
        else:
            await load_layers_postgres(asyncpg_dsn(url), layer_rows, holding_rows)
        print(f"  loaded {catalog.inventory_rows:,} rows, {len(layer_rows):,} layers, {len(holding_rows):,} holdings"
              f" in {time.perf_counter() - began:.0f} s")
        site, area = catalog.sites[0], catalog.areas[3]
        bin_code = next(code for _, code, *_ in catalog.locations if code.startswith(area + "/SH01/B"))
        db = Database(Settings(database_url=url))
        try:
            costs, found = CostQueries(db), {}
            cases = [("everywhere", lambda: costs.valuation(None)), ("one site", lambda: costs.valuation(site)),
                     ("one area", lambda: costs.valuation(area)), ("one bin", lambda: costs.valuation(bin_code)),
                     ("chart of an area", lambda: costs.value_by_location(area))]
            for label, call in cases:
                samples, cpu = [], []
                for _ in range(lookups):
                    began, began_cpu = time.perf_counter(), time.process_time()
                    await call()
                    samples.append(time.perf_counter() - began)
                    cpu.append(time.process_time() - began_cpu)
                found[label] = percentiles(samples) | {"process_cpu_p50_ms": round(statistics.median(cpu) * 1000, 1)}
                print(f"  valuation {label}: p50 {found[label]['p50_ms']:.0f} ms, p95 {found[label]['p95_ms']:.0f} ms"
                      f" (process CPU p50 {found[label]['process_cpu_p50_ms']:.0f} ms; load {os.getloadavg()[0]:.1f})")
        finally:
            await db.dispose()
    return {"rows": catalog.inventory_rows, "layers": len(layer_rows), "holdings": len(holding_rows), "valuation": found}


USAGE_TARGET_S = 3.0  # issue 17: a usage CSV of 100k records streams in < 3 s


async def load_usage(url: str, records: int) -> None:
    """`records` usage records over a year, spread over the parts and bins, inserted in chunks."""
    db = Database(Settings(database_url=url))
    try:
        async with db.read() as session:
            parts = list(await session.scalars(select(Part.id).order_by(Part.part_number)))
            bins = list(await session.scalars(select(Location.id).order_by(Location.code)))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        kinds = [("remove", "maintenance"), ("scrap", "bent"), ("adjust", "Cycle count CC-1: counted 3, expected 4")]
        for first in range(0, records, 5000):
            rows = []
            for n in range(first, min(records, first + 5000)):
                op_type, reason = kinds[n % 3]
                at = start + timedelta(seconds=n * 315)  # 100k records: a year
                rows.append({
                    "id": uuid.uuid4(), "op_id": uuid.uuid4(), "op_type": op_type, "part_id": parts[n % len(parts)],
                    "location_id": bins[n % len(bins)], "serial": None, "lot": None, "quantity": 1 + n % 5,
                    "cost": Decimal(f"{n % 1000}.{n % 97:02d}"), "reason": reason,
                    "reference": f"WO-{n // 10:06d}" if op_type == "remove" else None, "actor": "rcv", "used_at": at,
                    "created_at": at, "updated_at": at,
                })
            async with db.write() as session:
                await session.execute(insert(UsageRecord), rows)
    finally:
        await db.dispose()


async def read_csv(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, float, int, int]:
    """GET /api/usage.csv as a stream: seconds to the first byte and to the end, bytes and lines."""
    started = time.perf_counter()
    first_byte, size, lines = 0.0, 0, 0
    async with client.stream("GET", "/api/usage.csv", headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for chunk in response.aiter_bytes():
            if not size:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return first_byte, time.perf_counter() - started, size, lines


async def csv_runs(url: str, log: Path, repeats: int, code: Path | None = None) -> list[dict[str, Any]]:
    """GET /api/usage.csv `repeats` times (after a warm-up) from a server of this checkout's code, or `code`'s."""
    runs = []
    async with Server(url, log, **({"code": code} if code else {})) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as client:
            headers = {"Authorization": f"Bearer {await sign_in(client, 'rcv')}"}
            await read_csv(client, headers)  # warm-up
            for _ in range(repeats):
                cpu = server.cpu_seconds() or 0.0
                first_byte, whole, size, lines = await read_csv(client, headers)
                runs.append({"first_byte_s": round(first_byte, 3), "full_body_s": round(whole, 3), "bytes": size,
                             "lines": lines, "server_cpu_s": round((server.cpu_seconds() or 0.0) - cpu, 3)})
    return runs


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(r[key] for r in runs) for key in ("first_byte_s", "full_body_s", "server_cpu_s")}


async def bench_usage_csv(engine: str, tmp: Path, records: int, repeats: int, compare: Path | None) -> dict[str, Any]:
    run_dir = tmp / "usage"
    run_dir.mkdir()
    async with scratch_database(engine, run_dir) as url:
        await prepare(url)
        began = time.perf_counter()
        await load_usage(url, records)
        load_s = time.perf_counter() - began
        print(f"  {records:,} usage records loaded in {load_s:.1f} s")
        db = Database(Settings(database_url=url))
        try:  # the baseline: the same records read in process, straight from the database
            costs, direct = CostQueries(db), []
            for _ in range(repeats):
                began, cpu = time.perf_counter(), time.process_time()
                read = sum([len(batch) async for batch in costs.usage_rows({})])
                direct.append((time.perf_counter() - began, time.process_time() - cpu))
            assert read == records, read
        finally:
            await db.dispose()
        runs, other = [], []
        for _ in range(2 if compare else 1):  # alternately, when comparing: the load of a shared machine changes
            runs += await csv_runs(url, run_dir / "server.log", (repeats + 1) // 2 if compare else repeats)
            if compare:
                other += await csv_runs(url, run_dir / "compared.log", (repeats + 1) // 2, compare)
        assert all(r["lines"] == records + 1 for r in runs + other)  # the header and every record
    full = statistics.median(r["full_body_s"] for r in runs)
    baseline = statistics.median(wall for wall, _ in direct)
    result = {
        "records": records, "load_s": round(load_s, 1), "via": "real HTTP server (uvicorn subprocess), httpx stream",
        "runs": runs, **medians(runs), "bytes": runs[0]["bytes"],
        "baseline_db_read_s": round(baseline, 3),
        "baseline_db_read_cpu_s": round(statistics.median(cpu for _, cpu in direct), 3),
        "ratio_csv_to_db_read": round(full / baseline, 2), "load_average": os.getloadavg(),
        "target_s": USAGE_TARGET_S, "meets_target": full < USAGE_TARGET_S,
    }
    if compare:
        result["compared"] = {"code": str(compare), "runs": other, **medians(other),
                              "ratio_full_body": round(medians(other)["full_body_s"] / full, 2),
                              "ratio_server_cpu": round(medians(other)["server_cpu_s"] / result["server_cpu_s"], 2)}
        print(f"  compared code: full body {result['compared']['full_body_s']:.2f} s, server CPU "
              f"{result['compared']['server_cpu_s']:.2f} s: × {result['compared']['ratio_full_body']} the time, "
              f"× {result['compared']['ratio_server_cpu']} the CPU")
    print(f"  usage.csv: first byte {result['first_byte_s'] * 1000:.0f} ms, full body {full:.2f} s "
          f"({result['bytes'] / 1e6:.1f} MB, server CPU {result['server_cpu_s']:.2f} s); reading the records in process "
          f"{baseline:.2f} s: × {result['ratio_csv_to_db_read']}; load {result['load_average'][0]:.1f}")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--layers", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=20)
    parser.add_argument("--skip", choices=["push", "valuation"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--usage-csv", type=int, default=0, help="instead of (a) and (b): the usage CSV of this many records")
    parser.add_argument("--compare-code", type=Path, help="with --usage-csv: a checkout of other code to serve it too")
    options = parser.parse_args()
    engine = "postgresql" if options.db == "postgres" else "sqlite"
    if options.usage_csv:
        with tempfile.TemporaryDirectory() as tmp:
            usage = await bench_usage_csv(engine, Path(tmp), options.usage_csv, options.repeats, options.compare_code)
        print(write_result("usage_csv" if engine == "sqlite" else "usage_csv_postgres", {"engine": engine, **usage},
                           options.out))
        return
    found: dict[str, Any] = {"engine": engine, "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        if options.skip != "push":
            found["push"] = await bench_push(engine, Path(tmp), options.ops, options.batch, options.repeats)
        if options.skip != "valuation":
            found |= await bench_valuation(engine, Path(tmp), options.rows, options.layers, options.lookups)
    found["load_average_after"] = os.getloadavg()
    name = "costs" if engine == "sqlite" else "costs_postgres"
    print(write_result(name, found, options.out))


if __name__ == "__main__":
    asyncio.run(main())
