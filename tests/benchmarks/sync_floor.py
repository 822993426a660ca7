"""The floor for bench_sync: the writes a push causes on the server, as prepared raw SQL in one process,
and nothing else (no reads, no validation, no HTTP).

It is floor.py's floor (inventory rows, ledger, movement log, op records) applied per push batch instead of
per op, plus what sync adds: a `sync_ops` record per op, a `count_lines` row per count, the device's
`last_seq`, and the change clock set once per batch (the server takes one clock value per chunk of ops
and gives the chunk's ops consecutive versions). One transaction per push batch, as the server commits
a batch of 100 ops in one chunk.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from server.counts.models import CountLine
from tests.benchmarks.common import PG_ADMIN_URL, asyncpg_dsn
from tests.benchmarks.floor import Floor, PostgresFloor, SqliteFloor
from tests.benchmarks.sync_workload import Op

COUNTED = ("inventory", "ledger", "movements", "ops", "sync_ops", "count_lines", "sync_conflicts")
# count_lines' columns follow the model (cycle counts keep adding some): the ones not given get their default
LINE_COLUMNS = tuple(column.name for column in CountLine.__table__.columns if column.name != "sa_orm_sentinel")
LINE_DEFAULTS = {
    column.name: column.default.arg if column.default is not None and not callable(column.default.arg) else None
    for column in CountLine.__table__.columns
}
EXTRA = {
    "sync_op": (
        "INSERT INTO sync_ops (id, op_id, device_id, seq, depends_on, pushed_by, pushed_role, answer, pushed_version,"
        " version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'operator', ?, ?, ?, ?, ?)"
    ),
    "count_line": f"INSERT INTO count_lines ({', '.join(LINE_COLUMNS)}) VALUES ({', '.join('?' * len(LINE_COLUMNS))})",
    "count_record": (
        "INSERT INTO ops (id, op_id, device_id, seq, type, actor, client_time, body_hash, body, status, result,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, 'count', ?, ?, ?, ?, 'applied', ?, ?, ?)"
    ),
    "last_seq": "UPDATE devices SET last_seq = ?, updated_at = ? WHERE id = ?",
    "set_clock": "UPDATE counters SET value = ?, updated_at = ? WHERE key = 'clock'",
}


class _Chunked:
    """floor.py's backend with the transaction and the clock left to the batch: `begin`/`commit` do
    nothing and the clock hands out consecutive versions, written once when the batch ends."""

    def __init__(self, backend: SqliteFloor | PostgresFloor) -> None:
        self.backend = backend
        self.version = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    async def begin(self) -> None:
        return None

    async def commit(self) -> None:
        return None

    async def run(self, name: str, *args: Any) -> Any:
        if name == "clock":
            self.version += 1
            return self.version
        return await self.backend.run(name, *args)


async def extra(backend: SqliteFloor | PostgresFloor, name: str, *args: Any) -> None:
    if isinstance(backend, SqliteFloor):
        backend.cursor.execute(EXTRA[name], args)
        return
    if name not in backend.prepared:
        count = iter(range(1, 100))
        backend.prepared[name] = await backend.con.prepare(re.sub(r"\?", lambda _m: f"${next(count)}", EXTRA[name]))
    await backend.prepared[name].fetchval(*args)


class SyncFloor(Floor):
    def __init__(self, backend: SqliteFloor | PostgresFloor) -> None:
        self.raw = backend
        self.chunked = _Chunked(backend)
        super().__init__(self.chunked, actor="")  # type: ignore[arg-type]

    async def prepare(self) -> None:
        await super().prepare()
        if isinstance(self.raw, SqliteFloor):
            self.chunked.version = self.raw.con.execute("SELECT value FROM counters WHERE key = 'clock'").fetchone()[0]
        else:
            self.chunked.version = await self.raw.con.fetchval("SELECT value FROM counters WHERE key = 'clock'")

    async def push(self, device_id: str, ops: list[Op]) -> None:
        """One push batch of one device in one transaction."""
        raw, device, now = self.raw, self.raw.key(uuid.UUID(device_id)), self.raw.now()
        await raw.begin()
        for op in ops:
            body = op.body
            self.actor = body["actor"]
            if body["type"] == "count":
                await self._count(device, body, now)
            else:
                await self.apply(op)
            answer = json.dumps({"op_id": body["op_id"], "seq": body["seq"], "status": "applied", "result": {}})
            await extra(raw, "sync_op", raw.new_id(), raw.key(uuid.UUID(body["op_id"])), device, body["seq"],
                        json.dumps(body["depends_on"]), body["actor"], answer, self.chunked.version,
                        self.chunked.version, now, now)
        await extra(raw, "last_seq", ops[-1].body["seq"], now, device)
        await extra(raw, "set_clock", self.chunked.version, now)
        await raw.commit()

    async def _count(self, device: Any, body: dict[str, Any], now: Any) -> None:
        raw, args = self.raw, body["args"]
        version = await self.chunked.run("clock")
        op_id = raw.key(uuid.UUID(body["op_id"]))
        line = LINE_DEFAULTS | {
            "id": raw.new_id(), "op_id": op_id, "part_id": self.parts[args["part"]],
            "location_id": self.locations[args["location"]], "tracking": args["tracking"], "serial": args.get("serial"),
            "lot": args.get("lot"), "counted_quantity": args["counted_quantity"],
            "expected_quantity": args["counted_quantity"], "actor": body["actor"], "device_id": device,
            "version": version, "created_at": now, "updated_at": now,
        }
        await extra(raw, "count_line", *(line[name] for name in LINE_COLUMNS))
        text = json.dumps({"type": "count", "args": args}, sort_keys=True)
        result = json.dumps({"count_line_id": str(raw.key(line["id"])), "part": args["part"]})
        await extra(raw, "count_record", raw.new_id(), op_id, device, body["seq"], body["actor"], body["client_time"],
                    "0" * 64, text, result, now, now)


async def run_floor(
    db_kind: str, url: str, phones: list[tuple[str, str]], queues: list[list[Op]], batch: int
) -> tuple[float, float]:
    """Every device's batches, round-robin, one transaction per batch. Returns (seconds, CPU seconds)."""
    backend: Any = SqliteFloor(url.split("///", 1)[1]) if db_kind == "sqlite" else await PostgresFloor.connect(asyncpg_dsn(url))
    try:
        floor = SyncFloor(backend)
        await floor.prepare()
        pushes = [
            [(device_id, queue[i : i + batch]) for i in range(0, len(queue), batch)]
            for (device_id, _), queue in zip(phones, queues, strict=True)
        ]
        order = [push for round_ in zip(*pushes, strict=True) for push in round_]
        cpu, start = time.process_time(), time.perf_counter()
        for device_id, ops in order:
            await floor.push(device_id, ops)
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        await backend.close()


# ---- databases ------------------------------------------------------------------------------------
async def copy_database(db_kind: str, url: str, tmp: Path, stack: AsyncExitStack) -> str:
    """A copy of the (idle) database at `url`, dropped when `stack` closes (PostgreSQL)."""
    if db_kind == "sqlite":
        source = url.split("///", 1)[1]
        with sqlite3.connect(source) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        target = tmp / "floor.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite+aiosqlite:///{target}"
    source, name = make_url(url).database, f"gemba_floor_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(asyncpg_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    finally:
        await admin.close()

    async def drop() -> None:
        admin = await asyncpg.connect(asyncpg_dsn(PG_ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    stack.push_async_callback(drop)
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def count_rows(db_kind: str, url: str) -> dict[str, int]:
    """Rows per table the push writes, and the sum of the devices' last_seq."""
    queries = {t: f"SELECT count(*) FROM {t}" for t in COUNTED} | {"last_seq": "SELECT sum(last_seq) FROM devices"}
    if db_kind == "sqlite":
        con = sqlite3.connect(url.split("///", 1)[1])
        try:
            return {name: con.execute(sql).fetchone()[0] or 0 for name, sql in queries.items()}
        finally:
            con.close()
    con = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {name: await con.fetchval(sql) or 0 for name, sql in queries.items()}
    finally:
        await con.close()
