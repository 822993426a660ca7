"""Costs at size: the push of mixed ops that cost (receipts with prices, removes, scraps) against the same push
where the ops that would consume layers are moves instead, and the valuation over many rows and layers.

    .venv/bin/python -m tests.benchmarks.bench_costs [--db sqlite|postgres] [--ops 10000] [--batch 100]
                                                     [--repeats 2] [--receipts 20000] [--lookups 20] [--out DIR]

(a) push: one phone pushes `--ops` ops in batches of `--batch` through the push service in process
    (sync/push.py): a receipt with a unit price every 4th op, else alternately a remove, a scrap and a move of 1
    ("costed"); or the same stream with every remove and scrap a move ("moves"), which takes no layer and writes
    no usage. Every receipt makes a layer either way (every receipt is layered): the ratio moves/costed measures
    what FIFO consumption and usage records cost a push. `--repeats` runs of each, alternately (medians).
(b) valuation: `--receipts` priced receipts (each a layer) spread over parts and bins, then CostQueries.valuation
    (GET /api/valuation) everywhere and for one bin, `--lookups` times each: p50/p95.

Writes results/costs.json (costs_postgres.json with --db postgres).
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

import server.purchasing  # noqa: F401 - receipts ask it whether they lifted a location above a max
from server.actor import Actor
from server.auth import AuthService
from server.costs.read import CostQueries
from server.db import Database
from server.models import Location, Part, Role
from server.settings import Settings
from sync.push import PushService
from sync.wire import Op, PushIn
from tests.benchmarks.common import PASSWORD, add_users, create_schema, percentiles, scratch_database, write_result

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


async def push_all(url: str, device_id: str, ops: list[Op], batch: int) -> float:
    db = Database(Settings(database_url=url))
    actor = Actor("rcv", Role.operator, uuid.UUID(device_id))
    push = PushService(db)
    try:
        started = time.perf_counter()
        for start in range(0, len(ops), batch):
            answer = await push.push(PushIn(protocol=1, device_id=uuid.UUID(device_id), ops=ops[start:start + batch]), actor)
            wrong = [r for r in answer.results if r.status != "applied"]
            assert not wrong and answer.stopped is None, (wrong[:3], answer.stopped)
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def bench_push(engine: str, tmp: Path, count: int, batch: int, repeats: int) -> dict[str, Any]:
    runs: dict[str, list[float]] = {"costed": [], "moves": []}
    for attempt in range(repeats):
        for kind in runs:
            run_dir = tmp / f"{kind}{attempt}"
            run_dir.mkdir()
            async with scratch_database(engine, run_dir) as url:
                device_id = await prepare(url)
                seconds = await push_all(url, device_id, mixed_ops(count, kind == "costed"), batch)
            runs[kind].append(seconds)
            print(f"  {kind:7} {count} ops in {seconds:.1f} s ({count / seconds:.0f}/s)")
    medians = {kind: statistics.median(seconds) for kind, seconds in runs.items()}
    ratio = medians["moves"] / medians["costed"]
    print(f"  throughput costed / moves: {ratio:.2f}")
    return {"ops": count, "batch": batch, "runs_s": runs, "median_s": medians, "ratio": ratio}


async def bench_valuation(engine: str, tmp: Path, receipts: int, lookups: int) -> dict[str, Any]:
    run_dir = tmp / "valuation"
    run_dir.mkdir()
    async with scratch_database(engine, run_dir) as url:
        device_id = await prepare(url)
        ops = [Op(op_id=uuid.uuid4(), seq=n + 1, type="receive", actor="rcv",
                  args={"part": f"C-{n % PARTS:02d}", "tracking": "untracked", "location": f"CB{n % BINS:02d}",
                        "quantity": 2, "unit_cost": f"{1 + n % 9}.10"}) for n in range(receipts)]
        await push_all(url, device_id, ops, 500)
        db = Database(Settings(database_url=url))
        try:
            costs, found = CostQueries(db), {}
            for label, where in (("everywhere", None), ("one bin", "CB03")):
                samples = []
                for _ in range(lookups):
                    began = time.perf_counter()
                    await costs.valuation(where)
                    samples.append(time.perf_counter() - began)
                found[label] = percentiles(samples)
                print(f"  valuation {label}: p50 {found[label]['p50_ms']:.0f} ms, p95 {found[label]['p95_ms']:.0f} ms")
        finally:
            await db.dispose()
    return {"layers": receipts, "valuation": found}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--receipts", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=20)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    engine = "postgresql" if options.db == "postgres" else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        push = await bench_push(engine, Path(tmp), options.ops, options.batch, options.repeats)
        valuation = await bench_valuation(engine, Path(tmp), options.receipts, options.lookups)
    name = "costs" if engine == "sqlite" else "costs_postgres"
    print(write_result(name, {"engine": engine, "push": push, **valuation}, options.out))


if __name__ == "__main__":
    asyncio.run(main())
