"""Importing a site: parts, locations and 100,000 rows of opening stock from CSV files, in process.

    .venv/bin/python -m tests.benchmarks.bench_import [--rows 100000] [--parts 2000] [--db sqlite|postgres] [--out DIR]

Builds a fresh database (the schema, nothing else), writes the files a site would bring and imports them with
`run_import` (what `gemba import` and the upload page run), timing each file: the parts (40 % serialized
with a serial pattern, 30 % lot-tracked, 30 % untracked), the locations (2 plants × 10 areas × 10 shelves ×
`--bins` bins as paths: their parents are made), the suppliers, then the stock — a dry run of it, the real
import, and the same file again (every row found imported already). Stock rows: 50 % serialized units, 30 % lots
(a lot per part and bin), 20 % untracked quantities, 2 % of the units and lots without their number (made from
the part's pattern); unit costs on most, a supplier on half. Checked at the end: nothing refused, as many op
records, movements and ledger lines as rows, and the ledger's sum per part equal to the stock's. CPU time is
reported beside wall time: on a shared machine the wall time follows the load.
Target: the 100,000 stock rows in < 60 s on SQLite. Prints the numbers and writes results/bench_import.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from server.app import GC_THRESHOLDS
from server.db import Database
from server.importing.service import Options, run_import
from server.importing.table import csv_bytes
from server.models import InventoryRow, LedgerEntry, Movement, OpRecord, Part, Role
from server.actor import Actor
from server.settings import Settings
from tests.benchmarks.common import create_schema, scratch_database, write_result

TARGET_S = 60.0
ACTOR = Actor("bench", Role.admin)


def site(rows: int, parts: int, bins: int, seed: int) -> dict[str, bytes]:
    """The four CSV files of a site moving in."""
    rng = random.Random(seed)
    kinds = ["serial"] * 4 + ["lot"] * 3 + ["untracked"] * 3
    catalogue = [(f"P-{n:05d}", kinds[n % 10]) for n in range(parts)]
    part_rows = [[number, f"Part {number}", "ea", tracking, "A", "{part}-{seq:06}" if tracking == "serial" else "",
                  "LOT-{yyyy}-{seq:05}" if tracking == "lot" else ""] for number, tracking in catalogue]
    places = [f"PLANT-{p}/AREA-{a:02d}/SHELF-{s:02d}/BIN-{b}" for p in (1, 2) for a in range(10) for s in range(10)
              for b in range(bins)]
    location_rows = [[code, code.rsplit("/", 1)[-1], "", "normal", "true"] for code in places]
    suppliers = [f"Supplier {n:02d}" for n in range(20)]
    by_kind = {kind: [number for number, tracking in catalogue if tracking == kind] for kind in ("serial", "lot", "untracked")}
    stock_rows = []
    for n in range(rows):
        roll = rng.random()
        kind = "serial" if roll < 0.5 else "lot" if roll < 0.8 else "untracked"
        part, bin_number = rng.choice(by_kind[kind]), rng.randrange(len(places))
        place = places[bin_number]
        numbered = rng.random() < 0.02  # a serial or lot to make from the part's pattern
        serial = f"SN-{n:07d}" if kind == "serial" and not numbered else ""
        lot = f"L-{part[-3:]}-{bin_number % 50:02d}" if kind == "lot" and not numbered else ""
        quantity = 1 if kind == "serial" else rng.randint(1, 500)
        cost = f"{rng.randint(1, 100000) / 100:.2f}" if rng.random() < 0.8 else ""
        supplier = rng.choice(suppliers) if rng.random() < 0.5 else ""
        stock_rows.append([part, place, str(quantity), serial, lot, cost, "", "", "", supplier])
    return {
        "parts": csv_bytes(["part_number", "description", "unit", "tracking", "revision", "serial_pattern", "lot_pattern"],
                           part_rows),
        "locations": csv_bytes(["code", "name", "parent", "kind", "available"], location_rows),
        "suppliers": csv_bytes(["name", "code"], [[name, f"S{n:02d}"] for n, name in enumerate(suppliers)]),
        "stock": csv_bytes(["part", "location", "quantity", "serial", "lot", "unit_cost", "package_price", "package_ref",
                            "expiry", "supplier"], stock_rows),
    }


async def timed(db: Database, kind: str, data: bytes, **options: Any) -> dict[str, Any]:
    phases: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def progress(phase: str, done: int, total: int) -> None:
        if phase != last[1]:
            last[:] = [time.perf_counter(), phase]
        phases[phase] = time.perf_counter() - last[0]

    cpu = time.process_time()
    started = time.perf_counter()
    report = await run_import(db, kind, data, ACTOR, Options(**options), progress)
    seconds = time.perf_counter() - started
    assert report.file_error is None, report.file_error
    refused = report.refused
    assert not refused, [(o.row, o.error_text()) for o in refused[:5]]
    return {"rows": len(report.rows), "bytes": len(data), "seconds": round(seconds, 2),
            "rows_per_s": round(len(report.rows) / seconds) if seconds else None,
            "cpu_seconds": round(time.process_time() - cpu, 2), "phases_s": {k: round(v, 2) for k, v in phases.items()},
            "counts": report.counts, "applied": report.applied}


async def run(engine: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    files = site(args.rows, args.parts, args.bins, seed=11)
    async with scratch_database(engine, tmp) as url:
        await create_schema(url)
        db = Database(Settings(database_url=url))
        try:
            results = {kind: await timed(db, kind, files[kind]) for kind in ("parts", "locations", "suppliers")}
            results["stock_dry_run"] = await timed(db, "stock", files["stock"], dry_run=True)
            results["stock"] = await timed(db, "stock", files["stock"])
            results["stock_again"] = await timed(db, "stock", files["stock"])
            async with db.read() as session:
                counted = {model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                           for model in (InventoryRow, OpRecord, Movement, LedgerEntry)}
                ledger = dict((await session.execute(
                    select(Part.part_number, func.sum(LedgerEntry.delta)).join(Part, Part.id == LedgerEntry.part_id)
                    .group_by(Part.part_number))).all())
                held = dict((await session.execute(
                    select(Part.part_number, func.sum(InventoryRow.quantity)).join(Part, Part.id == InventoryRow.part_id)
                    .group_by(Part.part_number))).all())
        finally:
            await db.dispose()
    assert counted["ops"] == counted["movements"] == counted["ledger"] == args.rows, counted
    assert ledger == held
    assert results["stock_again"]["counts"]["unchanged"] == args.rows
    return {"engine": engine, **results, "rows_written": counted,
            "meets_target": results["stock"]["seconds"] < TARGET_S}


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)  # as `gemba import` and the server run
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="stock rows")
    parser.add_argument("--parts", type=int, default=2_000)
    parser.add_argument("--bins", type=int, default=5, help="bins per shelf (2 plants x 10 areas x 10 shelves)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--out", type=Path, default=None, help="where to write bench_import.json")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.db == "both" else ["postgresql" if args.db == "postgres" else "sqlite"]
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            result = asyncio.run(run(engine, args, Path(tmp)))
            runs.append(result)
            print(f"\n{engine}:")
            for name in ("parts", "locations", "suppliers", "stock_dry_run", "stock", "stock_again"):
                r = result[name]
                print(f"  {name:14s} {r['rows']:>8,} rows {r['bytes'] / 1e6:6.2f} MB  {r['seconds']:7.2f} s "
                      f"({r['rows_per_s'] or 0:>7,} rows/s, cpu {r['cpu_seconds']:.1f} s)  {r['phases_s']}")
            verdict = "ok" if result["meets_target"] else f"OVER {TARGET_S:.0f} s"
            print(f"  stock import: {verdict}; rows written {result['rows_written']}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = write_result("bench_import", {
        "target_s": TARGET_S, "rows": args.rows, "parts": args.parts, "bins": args.bins, "runs": runs,
        "peak_rss_mb": round(peak_mb), "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }, args.out)
    print(f"\npeak RSS {peak_mb:.0f} MB; wrote {path}")


if __name__ == "__main__":
    main()
