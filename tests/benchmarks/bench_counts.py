"""Cycle counts at scale: the count sheet and the review of a location holding 50,000 inventory rows.

    .venv/bin/python -m tests.benchmarks.bench_counts [--rows 100000] [--repeats 5] [--db sqlite|postgres|both]

Builds a fresh database with dataset.py (2 sites of 10 areas × 10 shelves × 9 bins; `--rows` rows, half of
them in each site) and counts one whole site (1,011 locations, ~50,000 inventory rows; its count sheet has
one line per unit, lot and untracked bucket there, without installed, scrapped or emptied stock). Then:
- every sheet line is counted (count lines inserted in bulk, as `count` ops would write them): 95 % right,
  3 % short, 1 % over, 1 % serials missing, plus 500 finds; 5 % of the site's items moved within the last
  60 days, so the review's causes have a movement log to search;
- times, in-process through the ASGI app (what a client waits for, minus the network), the sheet (JSON),
  the sheet (CSV), the review (JSON: its first page of 1,000 lines with causes for their discrepancies,
  totals over every line), the review of the open lines only (`?lines=open`: not counted or wrong; its
  first page) and, for context, every line in one response (`?limit=100000`), `--repeats` times each
  after a warm-up, wall-clock and this process's CPU time. Target: < 1 s each (median) for the sheet and
  the review.
Prints the numbers and writes results/counts.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text

from server.app import create_app
from server.counts.models import Count, CountLine, CountLocation
from server.counts.sheet import sheet_groups
from server.db import Database
from server.models import InventoryRow, Location, Movement
from server.settings import Settings
from tests.benchmarks import dataset
from tests.benchmarks.common import (
    add_users, asyncpg_dsn, create_schema, fmt, percentiles, scratch_database, write_result,
)

TARGET_S = 1.0
SITE = "S1"


async def load(engine: str, url: str, rows: int) -> dataset.Catalog:
    await create_schema(url)
    generator = dataset.Generator(rows)
    if engine == "sqlite":
        return await asyncio.to_thread(dataset.load_sqlite, url.split("///", 1)[1], generator)
    return await dataset.load_postgres(asyncpg_dsn(url), generator)


async def counted_site(db: Database, client: httpx.AsyncClient, headers: dict[str, str], seed: int) -> dict[str, Any]:
    """Plan and start a count of the site, then write its lines in bulk; returns what was made."""
    count = (await client.post("/api/counts", json={"kind": "location", "location": SITE, "name": "Site 1"},
                               headers=headers)).json()
    started = await client.post(f"/api/counts/{count['id']}/start", headers=headers)
    assert started.status_code == 200, started.text
    rng = random.Random(seed)
    now = datetime.now(UTC)
    async with db.read() as session:
        groups = await sheet_groups(session, await session.get_one(Count, uuid.UUID(count["id"])))
        covered = select(CountLocation.location_id).where(CountLocation.count_id == uuid.UUID(count["id"]))
        inventory_rows = await session.scalar(
            select(func.count()).select_from(InventoryRow).where(InventoryRow.location_id.in_(covered))
        )
        version = int(await session.scalar(text("SELECT value FROM counters WHERE key = 'clock'")) or 0)
    lines, moves, shape = [], [], {"right": 0, "short": 0, "over": 0, "missing": 0, "found": 0}
    ids = {key: (_uuid(key.location_id), _uuid(key.part_id)) for key in groups}
    for key, g in groups.items():
        (location_id, part_id), lot, serial = ids[key], key.lot, key.serial
        roll = rng.random()
        got = g.expected
        if roll < 0.03 and not serial:
            got, kind = max(0, g.expected - rng.randint(1, 5)), "short"
        elif roll < 0.04 and not serial:
            got, kind = g.expected + rng.randint(1, 5), "over"
        elif roll < 0.05 and serial:
            got, kind = 0, "missing"
        else:
            kind = "right"
        shape[kind] += 1
        version += 1
        lines.append(_line(count["id"], part_id, location_id, g.tracking, serial, lot, got, g.expected, version, now,
                           g.unit_cost))
        if rng.random() < 0.05:  # a recent movement of it, into this place
            at = now - timedelta(days=rng.randint(1, 60))
            moves.append({"id": uuid.uuid4(), "op_id": uuid.uuid4(), "op_type": "move", "action": "Move", "actor": "bench",
                          "part_id": part_id, "serial": serial, "lot": lot, "quantity": 1,
                          "to_location_id": location_id, "created_at": at, "updated_at": at})
    units = [ids[key] for key in groups if key.serial]
    for n in range(500):  # finds: serials the server never heard of, next to units of their part
        location_id, part_id = units[rng.randrange(len(units))]
        version += 1
        lines.append(_line(count["id"], part_id, location_id, "serial", f"FOUND-{n:04d}", None, 1, 0, version, now, None))
        shape["found"] += 1
    async with db.write() as session:
        for start in range(0, len(lines), 5000):
            await session.execute(insert(CountLine), lines[start:start + 5000])
        if moves:
            await session.execute(insert(Movement), moves)
        await session.execute(text("UPDATE counters SET value = :v WHERE key = 'clock'").bindparams(v=version))
    if db.dialect == "postgresql":
        async with db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    return {"count_id": count["id"], "sheet_lines": len(groups), "inventory_rows_in_location": int(inventory_rows),
            "count_lines": len(lines), "recent_movements": len(moves), "lines": shape}


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))


def _line(count_id: str, part_id: Any, location_id: Any, tracking: str, serial: str | None, lot: str | None,
          counted: int, expected: int, version: int, now: datetime, cost: Decimal | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "op_id": uuid.uuid4(), "count_id": uuid.UUID(count_id), "part_id": part_id,
        "location_id": location_id, "tracking": tracking, "serial": serial, "lot": None if serial else lot,
        "counted_quantity": counted, "expected_quantity": expected, "actor": "bench", "version": version,
        "unit_cost": cost, "superseded": False, "created_at": now, "updated_at": now,
    }


async def timed(client: httpx.AsyncClient, path: str, headers: dict[str, str], repeats: int) -> dict[str, Any]:
    """Wall-clock per request, and the CPU time this process spent on it (on a machine shared with other
    work the steadier measure; with SQLite it includes the database's work, with PostgreSQL it does not)."""
    first = await client.get(path, headers=headers)  # warm-up (and a check)
    assert first.status_code == 200, first.text[:500]
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = await client.get(path, headers=headers)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200
    stats = percentiles(wall)
    return {**stats, "cpu": percentiles(cpu), "bytes": len(first.content), "meets_target": stats["p50_ms"] < TARGET_S * 1000}


async def run(engine: str, rows: int, repeats: int, tmp: Path) -> dict[str, Any]:
    async with scratch_database(engine, tmp) as url:
        started = time.perf_counter()
        catalog = await load(engine, url, rows)
        await add_users(url, ["sam"], role="supervisor")
        load_s = time.perf_counter() - started
        db = Database(Settings(database_url=url))
        try:
            app = create_app(db.settings, db)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                token = (await client.post("/api/auth/token", json={"username": "sam", "password": "bench-password"})).json()
                headers = {"Authorization": f"Bearer {token['access_token']}"}
                made = await counted_site(db, client, headers, seed=7)
                base = f"/api/counts/{made['count_id']}"
                results = {
                    "sheet_json": await timed(client, f"{base}/sheet", headers, repeats),
                    "sheet_csv": await timed(client, f"{base}/sheet.csv", headers, repeats),
                    "review_json": await timed(client, f"{base}/review", headers, repeats),
                    "review_open_json": await timed(client, f"{base}/review?lines=open", headers, repeats),
                    "review_every_line_json": await timed(client, f"{base}/review?limit=100000", headers, repeats),
                }
                review = (await client.get(f"{base}/review?limit=100000", headers=headers)).json()
            async with db.read() as session:
                locations = await session.scalar(select(func.count()).select_from(Location))
                total_rows = await session.scalar(select(func.count()).select_from(InventoryRow))
        finally:
            await db.dispose()
    totals = review["totals"]
    return {
        "engine": engine, "load_s": round(load_s, 1), "inventory_rows": int(total_rows), "locations": int(locations),
        "movements": catalog.movement_rows, **made,
        "review_totals": {k: totals[k] for k in ("lines", "counted", "found", "accurate", "short", "over", "major")},
        "with_causes": sum(1 for line in review["lines"] if line["causes"]),
        "timings": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="inventory rows in all (half in the counted site)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.db == "both" else ["postgresql" if args.db == "postgres" else "sqlite"]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            result = asyncio.run(run(engine, args.rows, args.repeats, Path(tmp)))
            runs.append(result)
            print(f"\n{engine}: site {SITE}: {result['inventory_rows_in_location']:,} inventory rows, "
                  f"{result['sheet_lines']:,} sheet lines, {result['count_lines']:,} count lines "
                  f"(load {result['load_s']} s)")
            print(f"  review: {result['review_totals']}, {result['with_causes']} lines with causes")
            for name, stats in result["timings"].items():
                verdict = "ok" if stats["meets_target"] else f"OVER {TARGET_S:.0f} s"
                print(f"  {name:16s} wall {fmt(stats)}  cpu p50 {stats['cpu']['p50_ms']:7.1f} ms  "
                      f"{stats['bytes'] / 1e6:6.2f} MB  {verdict}")
    path = write_result("counts", {"target_s": TARGET_S, "rows": args.rows, "repeats": args.repeats, "runs": runs})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
