"""The world of the sync simulation (test_sync_simulation.py): twin servers, phones with a queue and a
pulled copy, ops made on that (stale) copy, and the invariants asked of a server with SQL.

Twins: every action happens on two servers (two databases of the same engine) that differ only in the
phones' clocks — each op carries another `client_time` on each twin (skewed at random, even running
backwards). Since the server never decides by a device clock, both twins must give every op the same
outcome and end in the same state.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.models import Device, InventoryRow, LedgerEntry, Location, Movement, OpRecord, Part
from server.settings import Settings
from sync.models import SyncConflict, SyncOp
from sync.views import inventory_select, is_gone
from tests.dbs import database_with_tables
from tests.integration.ops_support import ledger_sums, on_hand

PASSWORD = "simulation-pass"
USERS = {"ada": "admin", "sam": "supervisor", "olga": "operator", "oleg": "operator"}
PHONES = ["olga", "olga", "oleg"]  # three devices; olga has two
LOCATIONS = ["DOCK", "A", "B", "C"]
PARTS = {"P-SER": "serial", "P-ASM": "serial", "P-LOT": "lot", "P-UNT": "untracked", "P-FLIP": "untracked"}
SEED_STOCK = [
    {"part": "P-ASM", "serial": "ASM-1", "location": "A", "quantity": 1},
    {"part": "P-ASM", "serial": "ASM-2", "location": "B", "quantity": 1},
    {"part": "P-SER", "serial": "S-1", "location": "DOCK", "quantity": 1},
    {"part": "P-SER", "serial": "S-2", "location": "A", "quantity": 1},
    {"part": "P-LOT", "lot": "L-1", "location": "A", "quantity": 10},
    {"part": "P-UNT", "location": "A", "quantity": 20},
    {"part": "P-FLIP", "location": "B", "quantity": 6},
]
# Ledger entries and movement-log lines an applied op of each type writes (none if not applied): one
# application, never two, never half.
WRITES = {"receive": (1, 1), "move": (2, 1), "install": (1, 1), "count": (0, 0)}
VIEW = ("part", "serial", "lot", "location", "quantity", "status", "installed_in")
EPOCH = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


class Twin:
    """One server: its database, the app in-process, tokens for the admin, the supervisor and each phone."""

    def __init__(self, name: str, db: Database, client: httpx.AsyncClient) -> None:
        self.name, self.db, self.client = name, db, client
        self.tokens: dict[str, str] = {}

    @classmethod
    async def open(cls, name: str, engine: str, tmp: Path, stack: AsyncExitStack, device_ids: list[str]) -> Twin:
        url = await stack.enter_async_context(database_with_tables(engine, tmp))
        db = Database(Settings(database_url=url, scrypt_log2_n=4))
        stack.push_async_callback(db.dispose)
        auth = AuthService(db)
        for username, role in USERS.items():
            await auth.add_user(username, role, PASSWORD)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db.settings, db)), base_url="http://sim")
        stack.push_async_callback(client.aclose)
        twin = cls(name, db, client)
        for username in ("ada", "sam"):
            twin.tokens[username] = (await auth.issue(username, PASSWORD)).access_token
        for device_id, username in zip(device_ids, PHONES, strict=True):
            twin.tokens[device_id] = (await auth.issue(username, PASSWORD, uuid.UUID(device_id), username)).access_token
        for number, tracking in PARTS.items():
            await twin.ok("POST", "/api/parts", "ada", {"part_number": number, "tracking": tracking})
        for code in LOCATIONS:
            await twin.ok("POST", "/api/locations", "ada", {"code": code})
        for n, stock in enumerate(SEED_STOCK):
            op = {"op_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"seed/{n}")), "type": "receive",
                  "args": {**stock, "tracking": PARTS[stock["part"]]}}
            await twin.ok("POST", "/api/ops", "ada", op)
        return twin

    async def call(self, method: str, path: str, who: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    async def ok(self, method: str, path: str, who: str, body: Any = None) -> Any:
        response = await self.call(method, path, who, body)
        assert response.status_code < 300, f"{self.name} {method} {path}: {response.text}"
        return response.json()

    async def push(self, device_id: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.ok("POST", "/api/sync/push", device_id, {"protocol": 1, "device_id": device_id, "ops": ops})

    async def open_conflicts(self) -> list[dict[str, Any]]:
        return (await self.ok("GET", "/api/sync/conflicts?status=open&limit=500", "sam"))["items"]

    # ---- the state, as plain data ---------------------------------------------------------------------
    async def state(self) -> dict[str, Any]:
        """What both twins must agree on: inventory (without ids), every device op's outcome, the ops
        supervisors applied, open conflicts, parts' tracking, count locks and each device's last_seq."""
        async with self.db.read() as session:
            rows = [row for row in await session.execute(inventory_select()) if not is_gone(row)]
            records = (await session.execute(select(OpRecord))).scalars().all()
            conflicts = await session.execute(
                select(SyncConflict.op_id, SyncConflict.kind, SyncConflict.reason).where(SyncConflict.status == "open")
            )
            return {
                "inventory": Counter(tuple(row._mapping[key] for key in VIEW) for row in rows),
                "device_ops": {str(r.op_id): (r.status, r.reason) for r in records if r.device_id is not None},
                "other_ops": Counter(
                    (r.type, str(sorted((r.body or {}).get("args", {}).items())), r.status)
                    for r in records if r.device_id is None
                ),
                "conflicts": {str(op_id): (kind, reason) for op_id, kind, reason in conflicts},
                "parts": dict((await session.execute(select(Part.part_number, Part.tracking))).all()),
                "locks": dict((await session.execute(select(Location.code, Location.count_locked))).all()),
                "last_seq": {str(d): s for d, s in await session.execute(select(Device.id, Device.last_seq))},
            }

    async def inventory_by_id(self) -> dict[str, dict[str, Any]]:
        async with self.db.read() as session:
            rows = await session.execute(inventory_select())
            return {str(row.id): {key: row._mapping[key] for key in VIEW} for row in rows if not is_gone(row)}

    async def check(self, phones: list[Phone]) -> None:
        """The invariants, asked of the database after every step."""
        async with self.db.read() as session:
            twice = await session.execute(
                select(InventoryRow.serial).where(InventoryRow.serial.is_not(None))
                .group_by(InventoryRow.serial).having(func.count() > 1)
            )
            assert twice.all() == [], "a serial exists twice"
            assert (await session.scalar(select(func.min(InventoryRow.quantity)))) >= 0, "negative quantity"
            parent = aliased(InventoryRow)
            astray = await session.execute(
                select(InventoryRow.serial).join(parent, parent.id == InventoryRow.installed_in_id)
                .where((parent.location_id != InventoryRow.location_id) | InventoryRow.scrapped)
            )
            assert astray.all() == [], "an installed unit is not with its assembly"
            assert await ledger_sums(session) == await on_hand(session), "ledger != on hand"

            records = {str(r.op_id): r for r in (await session.execute(select(OpRecord))).scalars()}
            sync_ops = {str(s.op_id): s for s in (await session.execute(select(SyncOp))).scalars()}
            writes: Counter[tuple[str, str]] = Counter()
            for table in (LedgerEntry, Movement):
                for op_id, count in await session.execute(select(table.op_id, func.count()).group_by(table.op_id)):
                    writes[(table.__tablename__, str(op_id))] = count
            last_seq = {str(d): s for d, s in await session.execute(select(Device.id, Device.last_seq))}

        for op_id, record in records.items():
            expected = WRITES[record.type] if record.status == "applied" else (0, 0)
            found = (writes[("ledger", op_id)], writes[("movements", op_id)])
            assert found == expected, f"op {op_id} ({record.type}, {record.status}) wrote {found}"
        for phone in phones:
            seqs = sorted(s.seq for s in sync_ops.values() if str(s.device_id) == phone.device_id)
            assert seqs == list(range(1, last_seq.get(phone.device_id, 0) + 1)), f"seq gap on {phone.device_id}"
            for op in phone.made.values():
                on_server = records.get(op["op_id"])
                if op["seq"] <= last_seq.get(phone.device_id, 0):
                    assert on_server is not None and on_server.seq == op["seq"], f"op {op['seq']} lost"
                else:
                    assert on_server is None and op in phone.queue, f"op {op['seq']} neither queued nor received"
        for op_id, sync_op in sync_ops.items():  # no dependant applied before its parents
            if records[op_id].status != "applied":
                continue
            for parent_id in sync_op.depends_on:
                assert records[parent_id].status == "applied", f"{op_id} applied, its parent {parent_id} not"
                assert sync_ops[parent_id].version <= sync_op.version, f"{op_id} applied before its parent"

    async def effective_status(self) -> dict[str, str]:
        """Each device op's final word as its phone should know it: a rejected op a supervisor applied with
        corrected args counts as applied."""
        async with self.db.read() as session:
            rows = await session.execute(select(OpRecord.op_id, OpRecord.status, SyncOp.applied_as).join(
                SyncOp, SyncOp.op_id == OpRecord.op_id))
            return {str(op_id): "applied" if applied_as else status for op_id, status, applied_as in rows}


@dataclass
class Phone:
    """A device: its queue, what it made, what it heard of each op, and its pulled copy."""

    device_id: str
    username: str
    skews: tuple[timedelta, timedelta]  # its clock's error on each twin
    online: bool = True
    seq: int = 0
    queue: list[dict[str, Any]] = field(default_factory=list)
    made: dict[str, dict[str, Any]] = field(default_factory=dict)
    heard: dict[str, str] = field(default_factory=dict)  # op_id → status (applied, rejected, held)
    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # pulled copy
    cursor: str | None = None
    last_on: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial → this phone's last op on it
    believed: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # serial → part, where (None: installed)

    def wire(self, op: dict[str, Any], twin: int) -> dict[str, Any]:
        """The op as sent to a twin: the same but for its clock (the second twin's runs backwards)."""
        direction = 1 if twin == 0 else -1
        moment = EPOCH + self.skews[twin] + timedelta(minutes=direction * op["seq"])
        return {**op, "client_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def hear(self, results: list[dict[str, Any]]) -> None:
        answered = set()
        for result in results:
            # A replay repeats the first answer (held, say); what became of the op since comes with pulls.
            if result["status"] != "duplicate" or result["op_id"] not in self.heard:
                self.heard[result["op_id"]] = result.get("original_status") or result["status"]
            answered.add(result["op_id"])
        self.queue = [op for op in self.queue if op["op_id"] not in answered]

    def take(self, page: dict[str, Any]) -> None:
        if page["reset"]:
            self.rows.clear()
        for change in page["changes"]:
            key = (change["entity"], change["id"])
            if change["op"] == "del":
                self.rows.pop(key, None)
            else:
                self.rows[key] = change["data"]
        for result in page["op_results"]:
            self.heard[result["op_id"]] = result["status"]
        self.cursor = page["cursor"]

    def of(self, entity: str) -> list[dict[str, Any]]:
        return [data for (kind, _), data in sorted(self.rows.items(), key=lambda item: item[0]) if kind == entity]

    # ---- making ops on the pulled (stale) copy ---------------------------------------------------------
    def make(self, rnd: random.Random) -> dict[str, Any] | None:
        maker = rnd.choice([self._receive, self._receive, self._move, self._move, self._install, self._count])
        made = maker(rnd)
        if made is None:
            return None
        op_type, args, depends_on = made
        self.seq += 1
        op = {"op_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)), "seq": self.seq, "type": op_type,
              "actor": self.username, "depends_on": [dep["op_id"] for dep in depends_on if dep], "args": args}
        self.queue.append(op)
        self.made[op["op_id"]] = op
        for key in ("serial", "parent_serial"):
            if args.get(key):
                self.last_on[args[key]] = op
        return op

    def tracking(self, part: str) -> str:
        return next((p["tracking"] for p in self.of("part") if p["part_number"] == part), PARTS[part])

    def _item(self, row: dict[str, Any]) -> dict[str, Any]:
        """Args naming a row of the pulled copy, with the tracking this phone believes its part has."""
        args = {"part": row["part"], "tracking": self.tracking(row["part"])}
        args.update({key: row[key] for key in ("serial", "lot") if row.get(key)})
        return args

    def _receive(self, rnd: random.Random) -> tuple[str, dict[str, Any], list[Any]]:
        part = rnd.choice(["P-SER", "P-LOT", "P-UNT", "P-FLIP"])
        args: dict[str, Any] = {"part": part, "tracking": self.tracking(part), "location": rnd.choice(LOCATIONS)}
        args["quantity"] = 1 if args["tracking"] == "serial" else rnd.randint(1, 6)
        if args["tracking"] == "serial":
            args["serial"] = f"S-{rnd.randint(1, 12)}"  # a small pool: phones receive the same serial
            self.believed[args["serial"]] = (part, args["location"])
        elif args["tracking"] == "lot":
            args["lot"] = f"L-{rnd.randint(1, 3)}"
        return "receive", args, []

    def _units(self) -> list[tuple[str, str, str]]:
        """(part, serial, location) of free units as this phone believes: pulled, then its own ops."""
        units = {row["serial"]: (row["part"], row["location"]) for row in self.of("inventory")
                 if row["serial"] and row["quantity"] > 0 and not row["installed_in"] and row["status"] != "scrapped"}
        for serial, (part, where) in self.believed.items():
            units.pop(serial, None)
            if where is not None:
                units[serial] = (part, where)
        return sorted((part, serial, where) for serial, (part, where) in units.items())

    def _move(self, rnd: random.Random) -> tuple[str, dict[str, Any], list[Any]] | None:
        units = [unit for unit in self._units() if unit[0] != "P-ASM" or rnd.random() < 0.3]
        stock = [row for row in self.of("inventory") if not row["serial"] and row["quantity"] > 0
                 and not row["installed_in"] and row["status"] == "available"]
        if units and (not stock or rnd.random() < 0.5):
            part, serial, where = rnd.choice(units)
            target = rnd.choice([code for code in LOCATIONS if code != where])
            args = {**self._item({"part": part, "serial": serial}), "from_location": where, "to_location": target,
                    "quantity": 1}
            self.believed[serial] = (part, target)
            return "move", args, [self.last_on.get(serial)]
        if not stock:
            return None
        row = rnd.choice(stock)
        target = rnd.choice([code for code in LOCATIONS if code != row["location"]])
        args = {**self._item(row), "from_location": row["location"], "to_location": target,
                "quantity": rnd.randint(1, row["quantity"] + 2)}  # sometimes more than there is
        return "move", args, []

    def _install(self, rnd: random.Random) -> tuple[str, dict[str, Any], list[Any]] | None:
        units = self._units()
        parents = [unit for unit in units if unit[0] == "P-ASM"]
        children = [unit for unit in units if unit[0] == "P-SER"]
        if not parents:
            return None
        _, parent, where = rnd.choice(parents)
        if children and rnd.random() < 0.7:
            part, serial, at = rnd.choice(children)
            args = {"parent_serial": parent, **self._item({"part": part, "serial": serial}), "from_location": at,
                    "quantity": 1}
            self.believed[serial] = (part, None)
            return "install", args, [self.last_on.get(serial), self.last_on.get(parent)]
        args = {"parent_serial": parent, "part": "P-UNT", "tracking": self.tracking("P-UNT"), "quantity": rnd.randint(1, 3)}
        return "install", args, [self.last_on.get(parent)]

    def _count(self, rnd: random.Random) -> tuple[str, dict[str, Any], list[Any]] | None:
        rows = [row for row in self.of("inventory") if not row["installed_in"] and row["status"] != "scrapped"]
        if not rows:
            return None
        row = rnd.choice(rows)
        args = {**self._item(row), "location": row["location"]}
        counted = rnd.choice([0, 1]) if row["serial"] else max(0, row["quantity"] + rnd.randint(-2, 1))
        return "count", {**args, "counted_quantity": counted}, []
