"""The pull after costed ops: what sending parts again with their average price (sync/pull.py: a part with a cost
layer newer than the cursor comes again) costs a phone's pull.

    .venv/bin/python -m tests.benchmarks.bench_pull_costs [--db sqlite|postgres] [--ops 8000] [--out DIR]

A phone pulls after half of `--ops` costed ops (bench_costs.mixed_ops: a priced receipt every 4th op, else a remove,
a scrap, a move, over 20 parts in 20 bins); the other half is pushed; its next pull (pages of 500) is timed with and
without that source, alternately, 7 times each: medians of wall and CPU time, and their ratio. Writes
results/pull_costs.json (pull_costs_postgres.json with --db postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from server.actor import Actor
from server.db import Database
from server.models import Role
from server.settings import Settings
from sync import pull as pulling
from sync.pull import PullService
from sync.wire import PullIn
from tests.benchmarks.bench_costs import mixed_ops, prepare, push_all
from tests.benchmarks.common import scratch_database, write_result


async def bench_pull(engine: str, tmp: Path, count: int) -> dict[str, Any]:
    run_dir = tmp / "pull"
    run_dir.mkdir()
    async with scratch_database(engine, run_dir) as url:
        device_id = await prepare(url)
        ops = mixed_ops(count, True)
        await push_all(url, device_id, ops[: count // 2], 100)
        db = Database(Settings(database_url=url))
        actor, device = Actor("rcv", Role.operator, uuid.UUID(device_id)), uuid.UUID(device_id)
        service = PullService(db)

        async def drain(cursor: str | None) -> str:
            while True:
                page = await service.pull(PullIn(protocol=1, device_id=device, cursor=cursor, limit=500), actor)
                cursor = page.cursor
                if not page.has_more:
                    return cursor

        try:
            middle = await drain(None)
            await push_all(url, device_id, ops[count // 2:], 100)
            every = list(pulling.SOURCES)
            variants = {"with": every, "without": [s for s in every if not (s.entity == "part" and s.resend)]}
            samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for _ in range(7):
                for name, sources in variants.items():
                    pulling.SOURCES[:] = sources
                    wall, cpu = time.perf_counter(), time.process_time()
                    await drain(middle)
                    samples[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        finally:
            pulling.SOURCES[:] = every
            await db.dispose()
    found = {name: {"wall_ms": 1000 * statistics.median(s[0] for s in runs), "cpu_ms": 1000 * statistics.median(s[1] for s in runs)}
             for name, runs in samples.items()}
    for name, figures in found.items():
        print(f"  pull after {count - count // 2} ops, {name} the parts' averages: {figures['wall_ms']:.0f} ms, CPU {figures['cpu_ms']:.0f} ms")
    return {"ops_after_cursor": count - count // 2, "pull": found, "ratio": found["with"]["wall_ms"] / found["without"]["wall_ms"]}



async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ops", type=int, default=8_000)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    engine = "postgresql" if options.db == "postgres" else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        pull = await bench_pull(engine, Path(tmp), options.ops)
    name = "pull_costs" if engine == "sqlite" else "pull_costs_postgres"
    print(write_result(name, {"engine": engine, **pull}, options.out))


if __name__ == "__main__":
    asyncio.run(main())
