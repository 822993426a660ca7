"""The floor for bench_ops: the same writes each op causes on the server — the change-clock bump, the
inventory rows inserted or updated, the ledger entries, the movement-log line and the op record — as
prepared raw SQL in one process, one transaction per op, and nothing else (no reads: the floor knows
the state, having applied every earlier op itself).

SQLite through the stdlib sqlite3 module with the server's pragmas (WAL, synchronous as the server's
GEMBA_SQLITE_SYNCHRONOUS, foreign keys, BEGIN IMMEDIATE); PostgreSQL through one asyncpg connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uuid_utils

from server.settings import Settings
from tests.benchmarks.workload import Op

CLOCK = "UPDATE counters SET value = value + 1, updated_at = ? WHERE key = 'clock' RETURNING value"
NEW_ROW = (
    "INSERT INTO inventory (id, part_id, location_id, quantity, serial, lot, tracking, unit_cost, installed_in_id,"
    " scrapped, isolated, removed, version, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, FALSE, ?, ?, ?)"
)
ADD = "UPDATE inventory SET quantity = quantity + ?, version = ?, updated_at = ? WHERE id = ?"
RELOCATE = "UPDATE inventory SET location_id = ?, version = ?, updated_at = ? WHERE id = ?"
INSTALL = "UPDATE inventory SET installed_in_id = ?, location_id = ?, version = ?, updated_at = ? WHERE id = ?"
LEDGER = (
    "INSERT INTO ledger (id, op_id, bucket, part_id, location_id, lot, delta, created_at, updated_at)"
    " VALUES (?, ?, 'on_hand', ?, ?, ?, ?, ?, ?)"
)
MOVEMENT = (
    "INSERT INTO movements (id, op_id, op_type, action, actor, part_id, inventory_id, serial, lot, quantity,"
    " from_location_id, to_location_id, parent_serial, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
OP_RECORD = (
    "INSERT INTO ops (id, op_id, type, actor, body_hash, body, status, result, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 'applied', ?, ?, ?)"
)
STATEMENTS = {
    "clock": CLOCK, "new_row": NEW_ROW, "add": ADD, "relocate": RELOCATE, "install": INSTALL,
    "ledger": LEDGER, "movement": MOVEMENT, "op_record": OP_RECORD,
}


def _numbered(sql: str) -> str:
    count = iter(range(1, 1000))
    return re.sub(r"\?", lambda _m: f"${next(count)}", sql)


class _Backend:
    """What differs between SQLite and PostgreSQL: ids, booleans, times, and how statements run."""

    def new_id(self) -> Any:
        raise NotImplementedError

    def now(self) -> Any:
        raise NotImplementedError

    async def run(self, name: str, *args: Any) -> Any:
        raise NotImplementedError


class SqliteFloor(_Backend):
    def __init__(self, path: str) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # as the server started from the same environment
        synchronous = Settings.from_env({**os.environ, "DATABASE_URL": f"sqlite:///{path}"}).sqlite_synchronous
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON", "busy_timeout=10000"):
            self.con.execute(f"PRAGMA {pragma}")
        self.cursor = self.con.cursor()

    def new_id(self) -> bytes:
        return uuid_utils.uuid7().bytes

    def key(self, value: uuid.UUID | bytes) -> bytes:
        return value.bytes if isinstance(value, uuid.UUID) else value

    def now(self) -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def flag(self, value: bool) -> int:
        return int(value)

    async def begin(self) -> None:
        self.cursor.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        self.cursor.execute("COMMIT")

    async def run(self, name: str, *args: Any) -> Any:
        row = self.cursor.execute(STATEMENTS[name], args).fetchone()
        return row[0] if row else None

    async def catalog(self) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = dict(self.con.execute("SELECT part_number, id FROM parts"))
        locations = dict(self.con.execute("SELECT code, id FROM locations"))
        return parts, locations

    async def ensure_clock(self) -> None:
        self.con.execute(
            "INSERT INTO counters (id, key, value, created_at, updated_at) VALUES (?, 'clock', 0, ?, ?)"
            " ON CONFLICT DO NOTHING", (self.new_id(), self.now(), self.now()),
        )

    async def close(self) -> None:
        self.con.close()


class PostgresFloor(_Backend):
    def __init__(self, con: asyncpg.Connection) -> None:
        self.con = con
        self.prepared: dict[str, Any] = {}
        self.tx: Any = None

    @classmethod
    async def connect(cls, dsn: str) -> PostgresFloor:
        floor = cls(await asyncpg.connect(dsn))
        for name, sql in STATEMENTS.items():
            floor.prepared[name] = await floor.con.prepare(_numbered(sql))
        return floor

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(bytes=uuid_utils.uuid7().bytes)

    def key(self, value: uuid.UUID | bytes) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(bytes=value)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def flag(self, value: bool) -> bool:
        return value

    async def begin(self) -> None:
        self.tx = self.con.transaction()
        await self.tx.start()

    async def commit(self) -> None:
        await self.tx.commit()

    async def run(self, name: str, *args: Any) -> Any:
        return await self.prepared[name].fetchval(*args)

    async def catalog(self) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = {r["part_number"]: r["id"] for r in await self.con.fetch("SELECT part_number, id FROM parts")}
        locations = {r["code"]: r["id"] for r in await self.con.fetch("SELECT code, id FROM locations")}
        return parts, locations

    async def ensure_clock(self) -> None:
        await self.con.execute(
            "INSERT INTO counters (id, key, value, created_at, updated_at) VALUES ($1, 'clock', 0, $2, $2)"
            " ON CONFLICT DO NOTHING", self.new_id(), self.now(),
        )

    async def close(self) -> None:
        await self.con.close()


class Floor:
    """Applies workload ops as raw writes, tracking the state it needs to know which rows to touch."""

    def __init__(self, backend: SqliteFloor | PostgresFloor, actor: str) -> None:
        self.db = backend
        self.actor = actor
        self.units: dict[str, Any] = {}  # serial -> row id
        self.children: dict[str, list[str]] = {}
        self.unit_at: dict[str, str] = {}  # serial -> location code
        self.buckets: dict[tuple[str, str | None, str], Any] = {}  # (part, lot, location) -> row id

    async def prepare(self) -> None:
        parts, locations = await self.db.catalog()
        self.parts = {k: self.db.key(v) for k, v in parts.items()}
        self.locations = {k: self.db.key(v) for k, v in locations.items()}
        await self.db.ensure_clock()

    async def apply(self, op: Op) -> None:
        db, args, now = self.db, op.body["args"], self.db.now()
        op_id = db.key(uuid.UUID(op.body["op_id"]))
        await db.begin()
        version = await db.run("clock", now)
        part = self.parts[args["part"]]
        quantity, lot = args["quantity"], args.get("lot")
        if op.body["type"] == "receive":
            row, target = await self._receive(args, part, version, now), self.locations[args["location"]]
            await db.run("ledger", db.new_id(), op_id, part, target, lot, quantity, now, now)
            await self._log(op_id, op.body["type"], "Add", part, row, args, None, target, None, now)
        elif op.body["type"] == "move":
            source, target = self.locations[args["from_location"]], self.locations[args["to_location"]]
            row = await self._move(args, part, source, target, version, now)
            await db.run("ledger", db.new_id(), op_id, part, source, lot, -quantity, now, now)
            await db.run("ledger", db.new_id(), op_id, part, target, lot, quantity, now, now)
            await self._log(op_id, "move", "Move", part, row, args, source, target, None, now)
        else:  # install a serialized unit
            source = self.locations[args["from_location"]]
            row = self.units[args["serial"]]
            parent_location = self.locations[self._location_of(args["parent_serial"])]
            await db.run("install", self.units[args["parent_serial"]], parent_location, version, now, row)
            await self._relocate_children(args["serial"], parent_location, version, now)
            self.children.setdefault(args["parent_serial"], []).append(args["serial"])
            self.unit_at[args["serial"]] = self._location_of(args["parent_serial"])
            await db.run("ledger", db.new_id(), op_id, part, source, lot, -quantity, now, now)
            await self._log(op_id, "install", "Assemble", part, row, args, source, None, args["parent_serial"], now)
        body = json.dumps({"type": op.body["type"], "args": args}, sort_keys=True)
        result = json.dumps({"inventory_id": str(db.key(row)), "part": args["part"], "quantity": quantity})
        digest = hashlib.sha256(body.encode()).hexdigest()
        await db.run("op_record", db.new_id(), op_id, op.body["type"], self.actor, digest, body, result, now, now)
        await db.commit()

    # ---- the writes of each op type -------------------------------------------------------------------
    def _location_of(self, serial: str) -> str:
        return self.unit_at[serial]

    async def _receive(self, args: dict[str, Any], part: Any, version: int, now: Any) -> Any:
        db, location = self.db, self.locations[args["location"]]
        if args["tracking"] == "serial":
            row = db.new_id()
            await db.run("new_row", row, part, location, 1, args["serial"], None, "serial", args.get("unit_cost"),
                         db.flag(False), db.flag(False), version, now, now)
            self.units[args["serial"]] = row
            self.unit_at[args["serial"]] = args["location"]
            return row
        return await self._put(args, part, location, args["location"], version, now)

    async def _put(self, args: dict[str, Any], part: Any, location: Any, code: str, version: int, now: Any) -> Any:
        db, key = self.db, (args["part"], args.get("lot"), code)
        row = self.buckets.get(key)
        if row is None:
            row = self.buckets[key] = db.new_id()
            await db.run("new_row", row, part, location, args["quantity"], None, args.get("lot"), args["tracking"],
                         args.get("unit_cost"), db.flag(False), db.flag(False), version, now, now)
        else:
            await db.run("add", args["quantity"], version, now, row)
        return row

    async def _move(self, args: dict[str, Any], part: Any, source: Any, target: Any, version: int, now: Any) -> Any:
        db = self.db
        if args["tracking"] == "serial":
            row = self.units[args["serial"]]
            await db.run("relocate", target, version, now, row)
            await self._relocate_children(args["serial"], target, version, now)
            self.unit_at[args["serial"]] = args["to_location"]
            return row
        taken = self.buckets[(args["part"], args.get("lot"), args["from_location"])]
        await db.run("add", -args["quantity"], version, now, taken)
        return await self._put(args, part, target, args["to_location"], version, now)

    async def _relocate_children(self, serial: str, location: Any, version: int, now: Any) -> None:
        for child in self.children.get(serial, []):
            await self.db.run("relocate", location, version, now, self.units[child])
            await self._relocate_children(child, location, version, now)

    async def _log(
        self, op_id: Any, op_type: str, action: str, part: Any, row: Any, args: dict[str, Any], source: Any,
        target: Any, parent_serial: str | None, now: Any,
    ) -> None:
        await self.db.run(
            "movement", self.db.new_id(), op_id, op_type, action, self.actor, part, row, args.get("serial"),
            args.get("lot"), args["quantity"], source, target, parent_serial, now, now,
        )


async def run_floor(backend: SqliteFloor | PostgresFloor, plans: list[list[Op]], actor: str) -> tuple[float, list[float]]:
    """Apply every client's ops, round-robin, one transaction each. Returns (seconds, per-op latencies)."""
    floor = Floor(backend, actor)
    await floor.prepare()
    order = [op for batch in zip(*plans, strict=True) for op in batch]
    latencies = []
    start = time.perf_counter()
    for op in order:
        began = time.perf_counter()
        await floor.apply(op)
        latencies.append(time.perf_counter() - began)
    return time.perf_counter() - start, latencies
