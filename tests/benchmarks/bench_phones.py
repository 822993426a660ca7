"""Many phones at once: N phones each push small batches and pull after each push, against real servers.

    .venv/bin/python -m tests.benchmarks.bench_phones [--setups pg3,pg1,sqlite1] [--phones 1,10,50,200]
                                                     [--ops 1,10] [--pushes 240] [--code DIR] [--name NAME]

A setup is an engine and a number of server processes (`pg3`: PostgreSQL, `uvicorn --workers 3`, as
`gemba serve --workers 3` runs it). Each setup gets a fresh database and one server on 127.0.0.1; then,
for each ops-per-push K and phone count N, N new phones (devices bound to tokens, bins of their own:
sync_workload.py, so every op is valid and must come back `applied`) all start from the same cursor and
each pushes ceil(`--pushes` / N) batches of K ops (at least 2), pulling after each push until
`has_more` is false. The number of requests is fixed, not the duration. A `retry_later` is answered as
the app does (the unanswered ops again after RETRY_AFTER_S), and so is a transport error (the request sent
again at once, up to RECONNECTS times: pushes and pulls are safe to repeat; counted as `reconnects`); any
other failure is an error.

Reported per round: pushes/s, ops/s, p50/p95/p99 of push and pull latency, errors, retries; at the end of
each setup, exactly once: every op answered once, each device's `last_seq` the number of its ops, and the
ledger equal to the stock on hand. `--code DIR` serves another checkout (e.g. `git worktree add /tmp/before
<commit>`) against the same client, for before/after pairs. Writes results/<name>.json (default `phones`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server.auth import AuthService
from server.db import Database
from server.models import Device, Location, Part
from server.settings import Settings
from sqlalchemy import func, select
from sync.models import SyncOp
from tests.benchmarks import common
from tests.benchmarks.common import REPO, Server, create_schema, percentiles, scratch_database, write_result
from tests.benchmarks.sync_workload import Op, generate
from tests.integration.ops_support import ledger_sums, on_hand

common.PORTS = range(18400, 18500)  # this benchmark's servers listen here
PARTS = {"serial": 10, "lot": 5, "untracked": 5}
BINS_PER_PHONE = 4
RETRY_AFTER_S = 0.2
RECONNECTS = 2  # a request that meets a transport error is sent again this many times before it is an error
PASSWORD = "bench-phones-pw"
SETUPS = {"pg3": ("postgres", 3), "pg1": ("postgres", 1), "sqlite1": ("sqlite", 1)}


async def prepare(url: str) -> None:
    await create_schema(url)
    db = Database(Settings(database_url=url, scrypt_log2_n=4))
    try:
        async with db.write() as session:
            session.add_all(Part(part_number=p, tracking=t) for t, n in PARTS.items() for p in part_numbers(t, n))
        await AuthService(db).add_user("phone", "operator", PASSWORD)
    finally:
        await db.dispose()


def part_numbers(tracking: str, n: int) -> list[str]:
    return [f"P-{tracking}-{i:02d}" for i in range(n)]


async def new_phones(url: str, round_name: str, n: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Bins for `n` phones and `n` devices signed in (cheap hashing: the server verifies by the stored cost)."""
    bins = [f"{round_name}/B{i:04d}" for i in range(n * BINS_PER_PHONE)]
    db = Database(Settings(database_url=url, scrypt_log2_n=4))
    try:
        async with db.write() as session:
            session.add_all(Location(code=code, name=code) for code in bins)
        auth, phones = AuthService(db), []
        for i in range(n):
            device_id = uuid.uuid4()
            issued = await auth.issue("phone", PASSWORD, device_id, f"{round_name} phone {i}")
            phones.append((str(device_id), issued.access_token))
    finally:
        await db.dispose()
    return bins, phones


class Round:
    """One round's numbers: latencies, statuses, errors."""

    def __init__(self) -> None:
        self.push: list[float] = []
        self.pull: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []
        self.retries = 0
        self.reconnects = 0

    async def phone(self, client: httpx.AsyncClient, device_id: str, token: str, queue: list[Op], size: int,
                    cursor: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for start in range(0, len(queue), size):
            ops = [op.body for op in queue[start : start + size]]
            while ops:
                body = await self.post(client, "/api/sync/push", {"ops": ops}, device_id, headers, self.push)
                if body is None:
                    return
                for result in body["results"]:
                    self.statuses[result["status"]] += 1
                    if result["status"] != "applied":
                        self.errors.append(str(result)[:300])
                ops = ops[len(body["results"]) :]
                if body["stopped"]:
                    if body["stopped"]["reason"] != "retry_later":
                        self.errors.append(str(body["stopped"]))
                        return
                    self.retries += 1
                    await asyncio.sleep(RETRY_AFTER_S)
            more = True
            while more:
                page = await self.post(client, "/api/sync/pull", {"cursor": cursor, "limit": 500}, device_id, headers,
                                       self.pull)
                if page is None:
                    return
                cursor, more = page["cursor"], page["has_more"]

    async def post(self, client: httpx.AsyncClient, path: str, body: dict[str, Any], device_id: str,
                   headers: dict[str, str], latencies: list[float]) -> Any:
        request = msgspec.json.encode({"protocol": 1, "device_id": device_id, **body})
        for attempt in range(1 + RECONNECTS):
            began = time.perf_counter()
            try:
                response = await client.post(path, content=request, headers=headers)
                break
            except httpx.TransportError as error:  # e.g. a kept-alive connection the server closed as it was reused
                if attempt == RECONNECTS:
                    self.errors.append(f"{path}: {error!r}")
                    return None
                self.reconnects += 1  # sent again, as the app does (pushes and pulls are safe to repeat)
        latencies.append(time.perf_counter() - began)
        if response.status_code != 200:
            self.errors.append(f"{path}: {response.status_code} {response.text[:300]}")
            return None
        return msgspec.json.decode(response.content)


async def start_cursor(client: httpx.AsyncClient, device_id: str, token: str) -> str:
    """Where phones that synced just now stand: one phone's pull from nothing, page after page."""
    cursor, more = None, True
    while more:
        response = await client.post("/api/sync/pull", headers={"Authorization": f"Bearer {token}"},
                                     json={"protocol": 1, "device_id": device_id, "cursor": cursor, "limit": 1000})
        response.raise_for_status()
        cursor, more = response.json()["cursor"], response.json()["has_more"]
    return cursor


async def run_round(
    url: str, client: httpx.AsyncClient, name: str, phones_n: int, size: int, pushes: int, first: int
) -> dict[str, Any]:
    bins, phones = await new_phones(url, name, phones_n)
    per_phone = max(2, math.ceil(pushes / phones_n))
    parts = {t: part_numbers(t, n) for t, n in PARTS.items()}
    queues = generate(phones_n, per_phone * size, bins, parts, first=first)  # serials of their own
    cursor = await start_cursor(client, *phones[0])
    numbers = Round()
    load = os.getloadavg()
    began = time.perf_counter()
    await asyncio.gather(*(numbers.phone(client, d, t, q, size, cursor) for (d, t), q in zip(phones, queues, strict=True)))
    seconds = time.perf_counter() - began
    ops = sum(len(q) for q in queues)
    result = {
        "phones": phones_n, "ops_per_push": size, "pushes": len(numbers.push), "ops": ops, "seconds": round(seconds, 3),
        "pushes_per_s": round(len(numbers.push) / seconds, 1), "ops_per_s": round(ops / seconds, 1),
        "push_latency": percentiles(numbers.push) if numbers.push else None,
        "pull_latency": percentiles(numbers.pull) if numbers.pull else None,
        "pulls": len(numbers.pull), "retry_later": numbers.retries, "reconnects": numbers.reconnects, "errors": len(numbers.errors),
        "error_samples": numbers.errors[:3], "statuses": dict(numbers.statuses),
        "load_average": [round(x, 2) for x in load],
        "expected": {d: len(q) for (d, _), q in zip(phones, queues, strict=True)},
    }
    push, pull = result["push_latency"] or {}, result["pull_latency"] or {}
    print(f"  {phones_n:>4} phones x {size:>2} ops/push: {result['pushes_per_s']:>7} pushes/s {result['ops_per_s']:>8} ops/s"
          f"  push p50/p95/p99 {push.get('p50_ms')}/{push.get('p95_ms')}/{push.get('p99_ms')} ms"
          f"  pull p50/p95/p99 {pull.get('p50_ms')}/{pull.get('p95_ms')}/{pull.get('p99_ms')} ms"
          f"  errors {result['errors']} retries {result['retry_later']} reconnects {result['reconnects']}  load {result['load_average'][0]}", flush=True)
    return result


async def exactly_once(url: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Every op answered once (`applied`, counted per round), each device's last_seq its number of ops, and
    the ledger equal to the stock on hand."""
    expected = {uuid.UUID(d): n for r in rounds for d, n in r.pop("expected").items()}
    db = Database(Settings(database_url=url))
    try:
        async with db.read() as session:
            last_seqs = dict((await session.execute(select(Device.id, Device.last_seq).where(Device.id.in_(expected)))).all())
            ledger, stock = await ledger_sums(session), await on_hand(session)
            records = await session.scalar(select(func.count()).select_from(SyncOp))
    finally:
        await db.dispose()
    answered = all(sum(r["statuses"].values()) == r["ops"] == r["statuses"].get("applied", 0) for r in rounds)
    return {"every_op_applied_once": answered and records == sum(expected.values()),
            "last_seq_matches": last_seqs == expected, "ledger_equals_stock": ledger == stock}


async def run_setup(setup: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    engine, workers = SETUPS[setup]
    extra = ["--workers", str(workers), "--timeout-worker-healthcheck", "60"] if workers > 1 else []
    # as `gemba serve --workers N` runs them: the metrics of several workers in prometheus-client's files
    metrics = {"PROMETHEUS_MULTIPROC_DIR": str(tmp / f"{setup}-metrics")} if workers > 1 else {}
    for directory in metrics.values():
        Path(directory).mkdir()
    print(f"{setup}: {engine}, {workers} process(es), code {args.code}", flush=True)
    async with scratch_database(engine, tmp) as url:
        await prepare(url)
        async with Server(url, tmp / f"{setup}.log", extra, code=args.code, start_seconds=300, env=metrics) as server:
            limits = httpx.Limits(max_connections=max(args.phones), max_keepalive_connections=max(args.phones))
            async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=300) as client:
                rounds, first = [], 0
                for size in args.ops:
                    for n in args.phones:
                        rounds.append(await run_round(url, client, f"{setup}-k{size}-n{n}", n, size, args.pushes, first))
                        first += n
        checks = await exactly_once(url, rounds)
    print(f"  exactly once: {checks}", flush=True)
    return {"engine": engine, "processes": workers, "rounds": rounds, "checks": checks}


def numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gemba-phones-") as tmp:
        setups = {setup: await run_setup(setup, args, Path(tmp)) for setup in args.setups.split(",")}
    return {"code": str(args.code), "pushes_per_round": args.pushes, "retry_after_s": RETRY_AFTER_S, "setups": setups}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="pg3,pg1,sqlite1", help=f"comma-separated, of {', '.join(SETUPS)}")
    parser.add_argument("--phones", type=numbers, default=[1, 10, 50, 200])
    parser.add_argument("--ops", type=numbers, default=[1, 10], help="ops per push")
    parser.add_argument("--pushes", type=int, default=240, help="pushes per round, shared out between the phones")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout to serve (default: this one)")
    parser.add_argument("--name", default="phones")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default tests/benchmarks/results)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(f"wrote {write_result(args.name, result, args.out)}")
    failed = [s for s, r in result["setups"].items() if not all(r["checks"].values()) or any(x["errors"] for x in r["rounds"])]
    if failed:
        raise SystemExit(f"errors or exactly-once checks failed in {failed}")


if __name__ == "__main__":
    main()
