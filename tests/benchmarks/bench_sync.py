"""Sync throughput: phones handing over a shift's queue, replaying it, and a phone's first pull.

    .venv/bin/python -m tests.benchmarks.bench_sync [--db sqlite|postgres] [--ops 10000] [--devices 20]
                                                   [--batch 100] [--rows 100000] [--repeats 3] [--preload N]

(a) push: `--devices` phones (each signed in with its own device-bound token) push their queues
    (sync_workload.py: receives, moves, installs and counts with the app's `depends_on`) concurrently to a
    real server (`uvicorn server.app:create_app --factory`, one process), in batches of `--batch` ops as the
    app does (100). Every op must come back `applied`. Then the floor (sync_floor.py) applies the same
    ops to a copy of the same starting database as raw prepared SQL in one process: the same rows.
    `--preload N`: the database already holds N inventory rows (dataset.py) of other parts elsewhere.
(c) replay: the same batches are pushed again; every op must come back `duplicate`. A replay lasts a few
    tenths of a second, so it is timed REPLAY_ROUNDS (3) times per run and the median round counts.
(b) pull: a fresh database bulk-loaded with `--rows` inventory rows (dataset.py); one phone pulls from
    nothing, page after page (`--pull-limit`, the app's 500), with and without `Accept-Encoding: gzip`:
    time and bytes on the wire.

Each phase runs `--repeats` times on fresh databases; the medians are reported (and every run kept in
the JSON). Writes results/sync.json (sync_postgres.json with --db postgres, _preloadN with --preload).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import update

from server.auth import AuthService
from server.clock import CLOCK, bump_counter
from server.db import Database
from server.models import Counter as CounterRow
from server.models import Location, Part
from server.settings import Settings
from tests.benchmarks import common, dataset
from tests.benchmarks.common import (
    PASSWORD, Server, add_users, asyncpg_dsn, create_schema, percentiles, scratch_database, write_result,
)
from tests.benchmarks.sync_floor import copy_database, count_rows, run_floor
from tests.benchmarks.sync_workload import Op, generate

common.PORTS = range(18300, 18400)  # this benchmark's servers listen here (others use 18100-18199)
PARTS = {"serial": 20, "lot": 10, "untracked": 10}
BINS_PER_DEVICE = 12
REPLAY_ROUNDS = 3  # the replay phase is timed this many times per run (the median counts)
RETRY_AFTER_S = 0.5  # how long a phone waits after `retry_later` here (the app backs off for longer)


# ---- (a) and (c): push, replay ------------------------------------------------------------------
async def prepare_push(
    db_kind: str, url: str, devices: int, preload: int = 0
) -> tuple[list[str], dict[str, list[str]], list[tuple[str, str]]]:
    """Schema, `preload` inventory rows of other parts elsewhere, the phones' parts and bins, one operator
    and one bound device per phone. Returns (bins, parts, [(device_id, token)])."""
    await create_schema(url)
    if preload:
        await load_stock(db_kind, url, preload)
    parts = {tracking: [f"Q-{tracking}-{i:02d}" for i in range(n)] for tracking, n in PARTS.items()}
    bins = [f"SYNC/B{i:03d}" for i in range(devices * BINS_PER_DEVICE)]
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            session.add_all(Part(part_number=p, tracking=t) for t, numbers in parts.items() for p in numbers)
            session.add_all(Location(code=code, name=code) for code in bins)
        names = [f"dev{i:02d}" for i in range(devices)]
        await add_users(url, names)
        auth, phones = AuthService(db), []
        for name in names:
            device_id = uuid.uuid4()
            issued = await auth.issue(name, PASSWORD, device_id, f"{name}'s phone")
            phones.append((str(device_id), issued.access_token))
    finally:
        await db.dispose()
    return bins, parts, phones


def batches(queue: list[Op], size: int) -> list[list[dict[str, Any]]]:
    return [[op.body for op in queue[i : i + size]] for i in range(0, len(queue), size)]


async def push_all(
    client: httpx.AsyncClient, phones: list[tuple[str, str]], queues: list[list[Op]], size: int, expect: str
) -> tuple[float, list[float], Counter[str]]:
    """Every phone pushes its queue, batch after batch, all phones at once. Returns (seconds, latency of
    each push, statuses)."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    failures: list[str] = []

    async def phone(device_id: str, token: str, queue: list[Op]) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for ops in batches(queue, size):
            while ops:  # as the app does: after retry_later, the unanswered ops again, a little later
                request = msgspec.json.encode({"protocol": 1, "device_id": device_id, "ops": ops})
                began = time.perf_counter()
                response = await client.post("/api/sync/push", content=request, headers=headers)
                latencies.append(time.perf_counter() - began)
                body = msgspec.json.decode(response.content)
                stopped = body.get("stopped") if response.status_code == 200 else None
                if response.status_code != 200 or (stopped and stopped["reason"] != "retry_later"):
                    failures.append(f"{response.status_code} {str(body)[:400]}")
                    return
                for result in body["results"]:
                    statuses[result["status"]] += 1
                    if result["status"] != expect:
                        failures.append(str(result)[:400])
                ops = ops[len(body["results"]) :]
                if stopped:
                    statuses["retry_later"] += 1
                    await asyncio.sleep(RETRY_AFTER_S)

    start = time.perf_counter()
    await asyncio.gather(*(phone(d, t, q) for (d, t), q in zip(phones, queues, strict=True)))
    seconds = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} pushes/ops did not come back {expect!r}: {failures[:3]}")
    return seconds, latencies, statuses


async def push_once(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_database(args.db, tmp))
        bins, parts, phones = await prepare_push(args.db, url, args.devices, args.preload)
        floor_url = await copy_database(args.db, url, tmp, stack)
        queues = generate(args.devices, args.ops // args.devices, bins, parts)
        n = sum(len(queue) for queue in queues)
        before = await count_rows(args.db, url)
        async with Server(url, tmp / "server.log") as server:
            limits = httpx.Limits(max_connections=args.devices, max_keepalive_connections=args.devices)
            async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=300) as client:
                cpu = server.cpu_seconds()
                seconds, latencies, statuses = await push_all(client, phones, queues, args.batch, "applied")
                cpu = server.cpu_seconds() - cpu if cpu is not None else None
                rounds = []  # a replay takes a few tenths of a second: timed REPLAY_ROUNDS times, the median kept
                for _ in range(REPLAY_ROUNDS):
                    replay_cpu = server.cpu_seconds()
                    replay_s, replay_latencies, _ = await push_all(client, phones, queues, args.batch, "duplicate")
                    rounds.append((replay_s, replay_latencies, server.cpu_seconds() - replay_cpu if replay_cpu is not None else None))
                replay_s, replay_latencies, replay_cpu = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        written = {t: v - before[t] for t, v in (await count_rows(args.db, url)).items()}
        floor_s, floor_cpu = await run_floor(args.db, floor_url, phones, queues, args.batch)
        floor_written = {t: v - before[t] for t, v in (await count_rows(args.db, floor_url)).items()}
    return {
        "ops": n,
        "preload_rows": args.preload,
        "mix": dict(Counter(op.kind for queue in queues for op in queue)),
        "with_depends_on": sum(bool(op.body["depends_on"]) for queue in queues for op in queue),
        "statuses": dict(statuses),
        "push": {"seconds": round(seconds, 3), "ops_per_s": round(n / seconds, 1), "latency_per_push": percentiles(latencies),
                 "server_cpu_ms_per_op": None if cpu is None else round(cpu / n * 1000, 3)},
        "replay": {"seconds": round(replay_s, 3), "ops_per_s": round(n / replay_s, 1),
                   "rounds_seconds": [round(r[0], 3) for r in rounds],
                   "latency_per_push": percentiles(replay_latencies), "speedup_over_push": round(seconds / replay_s, 1),
                   "server_cpu_ms_per_op": None if replay_cpu is None else round(replay_cpu / n * 1000, 3)},
        "floor": {"seconds": round(floor_s, 3), "ops_per_s": round(n / floor_s, 1),
                  "cpu_ms_per_op": round(floor_cpu / n * 1000, 3)},
        "ratio_push_over_floor": round(floor_s / seconds, 4),
        "rows_written": {"gemba": written, "floor": floor_written},
        "same_writes": written == floor_written,
    }


# ---- (b): a first pull ----------------------------------------------------------------------------
async def load_stock(db_kind: str, url: str, rows: int) -> None:
    """`rows` inventory rows bulk-loaded (dataset.py) into a fresh schema, the change clock set past them
    (the loaded rows have versions 1..rows)."""
    generator = dataset.Generator(rows, seed=1)
    if db_kind == "sqlite":
        await asyncio.to_thread(dataset.load_sqlite, url.split("///", 1)[1], generator)
    else:
        await dataset.load_postgres(asyncpg_dsn(url), generator)
    db = Database(Settings(database_url=url))
    try:
        async with db.write() as session:
            await bump_counter(session, CLOCK)
            await session.execute(update(CounterRow).where(CounterRow.key == CLOCK).values(value=rows + 1))
    finally:
        await db.dispose()


async def prepare_pull(db_kind: str, url: str, rows: int) -> tuple[str, str]:
    """`rows` inventory rows and one phone."""
    await create_schema(url)
    await load_stock(db_kind, url, rows)
    db = Database(Settings(database_url=url))
    try:
        await add_users(url, ["puller"])
        device_id = uuid.uuid4()
        issued = await AuthService(db).issue("puller", PASSWORD, device_id, "puller's phone")
    finally:
        await db.dispose()
    return str(device_id), issued.access_token


async def pull_all(client: httpx.AsyncClient, device_id: str, token: str, limit: int, encoding: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": encoding}
    cursor, pages, changes, wire, body_bytes = None, 0, Counter(), 0, 0
    start = time.perf_counter()
    while True:
        response = await client.post("/api/sync/pull", json={"protocol": 1, "device_id": device_id, "cursor": cursor,
                                                              "limit": limit}, headers=headers)
        response.raise_for_status()
        page = msgspec.json.decode(response.content)  # a fast client: the phone's JSON.parse is native too
        pages += 1
        wire += response.num_bytes_downloaded
        body_bytes += len(response.content)
        changes.update(f"{c['entity']}:{c['op']}" for c in page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "pages": pages, "changes": dict(changes), "bytes_on_wire": wire,
            "bytes_json": body_bytes, "encoding": response.headers.get("content-encoding", "identity")}


async def pull_once(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_database(args.db, tmp))
        device_id, token = await prepare_pull(args.db, url, args.rows)
        async with Server(url, tmp / "server-pull.log") as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as client:
                return {
                    "gzip": await pull_all(client, device_id, token, args.pull_limit, "gzip"),
                    "identity": await pull_all(client, device_id, token, args.pull_limit, "identity"),
                }


# ---- the runs ---------------------------------------------------------------------------------------
def median_of(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        for key in path:
            run = run[key]
        values.append(run)
    return round(statistics.median(values), 3)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    push_runs, pull_runs = [], []
    with tempfile.TemporaryDirectory(prefix="gemba-bench-sync-") as tmp_name:
        for i in range(args.repeats if args.ops else 0):
            tmp = Path(tmp_name) / f"push{i}"
            tmp.mkdir()
            print(f"push run {i + 1}/{args.repeats}: {args.ops:,} ops from {args.devices} devices, batches of {args.batch} …",
                  flush=True)
            push_runs.append(await push_once(args, tmp))
            last = push_runs[-1]
            print(f"  push {last['push']['ops_per_s']:8.1f} ops/s   replay {last['replay']['ops_per_s']:8.1f} ops/s "
                  f"({last['replay']['speedup_over_push']}x)   floor {last['floor']['ops_per_s']:8.1f} ops/s   "
                  f"ratio {last['ratio_push_over_floor']}   same writes {last['same_writes']}", flush=True)
        for i in range(args.repeats if args.rows else 0):
            tmp = Path(tmp_name) / f"pull{i}"
            tmp.mkdir()
            print(f"pull run {i + 1}/{args.repeats}: {args.rows:,} rows, pages of {args.pull_limit} …", flush=True)
            pull_runs.append(await pull_once(args, tmp))
            last = pull_runs[-1]
            print(f"  gzip {last['gzip']['seconds']} s, {last['gzip']['bytes_on_wire']:,} B on the wire "
                  f"({last['gzip']['encoding']}); identity {last['identity']['seconds']} s, "
                  f"{last['identity']['bytes_on_wire']:,} B; {last['gzip']['pages']} pages", flush=True)
    summary: dict[str, Any] = {}
    if push_runs:
        summary |= {
        "push_ops_per_s": median_of(push_runs, "push", "ops_per_s"),
        "replay_ops_per_s": median_of(push_runs, "replay", "ops_per_s"),
        "replay_speedup": median_of(push_runs, "replay", "speedup_over_push"),
        "floor_ops_per_s": median_of(push_runs, "floor", "ops_per_s"),
        "ratio_push_over_floor": median_of(push_runs, "ratio_push_over_floor"),
        "server_cpu_ms_per_op": median_of(push_runs, "push", "server_cpu_ms_per_op"),
        }
    if pull_runs:
        summary |= {
            "pull_seconds_gzip": median_of(pull_runs, "gzip", "seconds"),
            "pull_bytes_gzip": median_of(pull_runs, "gzip", "bytes_on_wire"),
            "pull_seconds_identity": median_of(pull_runs, "identity", "seconds"),
            "pull_bytes_identity": median_of(pull_runs, "identity", "bytes_on_wire"),
        }
    print("medians:", summary)
    return {
        "db": args.db, "ops": args.ops, "devices": args.devices, "batch": args.batch, "rows": args.rows,
        "pull_limit": args.pull_limit, "repeats": args.repeats, "summary": summary,
        "sqlite_synchronous": Settings.from_env({**os.environ, "DATABASE_URL": "sqlite://"}).sqlite_synchronous,
        "push_runs": push_runs, "pull_runs": pull_runs,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ops", type=int, default=10_000, help="ops pushed (0: no push)")
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100, help="ops per push (the phone app sends 100)")
    parser.add_argument("--rows", type=int, default=100_000, help="inventory rows for the first pull (0: no pull)")
    parser.add_argument("--pull-limit", type=int, default=500, help="changes per pull page (the phone app asks 500)")
    parser.add_argument("--preload", type=int, default=0, help="push onto a database holding this many rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="results directory (default tests/benchmarks/results)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    name = "sync" + ("_postgres" if args.db == "postgres" else "") + (f"_preload{args.preload}" if args.preload else "")
    print(f"wrote {write_result(name, result, args.out)}")
    if not all(run["same_writes"] for run in result["push_runs"]):
        raise SystemExit("the floor's writes differ from the server's: the comparison is void")


if __name__ == "__main__":
    main()
