"""Crash safety (sync protocol §3 rule 2): a real server process is killed with SIGKILL in the middle of a
large push, restarted, and the whole batch is pushed again. The final state equals that of a run without
the crash: the same inventory, the same ledger, the same outcome for every op, one op record per op, and no
op applied twice.

The server is `python -m uvicorn server.app:create_app --factory` on a free port, on a fresh database whose
schema comes from `python -m server.cli migrate`. The kill comes when a side connection to the database sees
the device's `last_seq` past a quarter of the batch. The reference run (another server, another database)
pushes the same batch at the same time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from server.auth import AuthService
from server.db import Database
from server.models import Device, InventoryRow, LedgerEntry, Location, Movement, OpRecord, Part
from server.settings import Settings
from sync.models import SyncConflict, SyncOp
from sync.views import inventory_select
from tests.dbs import ENGINES, fresh_database

ROOT = Path(__file__).resolve().parents[2]
# Two pushes by default (600 ops in pushes of 400), kept to what runs in well under a minute on a busy 2-core
# machine; GEMBA_SOAK=1 pushes 5,000 in pushes of 1,000 (the most the protocol takes).
N = 5000 if os.environ.get("GEMBA_SOAK") else 600
CHUNK = 1000 if os.environ.get("GEMBA_SOAK") else 400
PASSWORD = "crash-test-pass"


def batch(device_name: str) -> list[dict[str, Any]]:
    """N ops with every kind of outcome: applied receives and moves, duplicate serials (rejected + conflict),
    moves of more than there is (held), ops depending on held ones (dependency_held) and on applied ones."""
    ops: list[dict[str, Any]] = []

    def op(op_type: str, depends_on: list[dict[str, Any]] | None = None, **args: Any) -> dict[str, Any]:
        ops.append({
            "op_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{device_name}/{len(ops) + 1}")), "seq": len(ops) + 1,
            "type": op_type, "actor": "admin", "client_time": "2026-11-23T09:14:03Z",
            "depends_on": [dep["op_id"] for dep in depends_on or []], "args": args,
        })
        return ops[-1]

    untracked = {"part": "PN-U", "tracking": "untracked"}
    while len(ops) < N:
        n = len(ops)
        received = op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial=f"SN-{n}")
        op("move", [received], part="PN-S", tracking="serial", serial=f"SN-{n}", from_location="DOCK",
           to_location="A", quantity=1)
        op("receive", part="PN-L", tracking="lot", lot=f"L-{n // 50}", location="A", quantity=3)
        op("move", part="PN-L", tracking="lot", lot=f"L-{n // 50}", from_location="A", to_location="B", quantity=2)
        op("receive", **untracked, location="A", quantity=5)
        op("move", **untracked, from_location="A", to_location="B", quantity=4)
        op("receive", part="PN-S", tracking="serial", location="C", quantity=1, serial=f"SN-{n}")  # duplicate
        held = op("move", **untracked, from_location="B", to_location="C", quantity=100_000)
        op("scrap", **untracked, location="B", quantity=1, reason="damaged")
        op("scrap", [held], **untracked, location="C", quantity=1, reason="waits for the held move")
    return ops[:N]


class Server:
    """One uvicorn process on a free port, its output in a log file."""

    def __init__(self, url: str, log: Path) -> None:
        self.env = {**os.environ, "DATABASE_URL": url, "GEMBA_DATA_DIR": str(log.parent),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.env.pop("GEMBA_DEBUG", None)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "server.cli", "migrate"], env=self.env, cwd=ROOT, check=True,
                       capture_output=True)

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(self.port),
                 "--log-level", "warning"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                assert self.process.poll() is None, self.log.read_text()[-3000:]
                try:
                    if (await client.get(f"{self.base}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not answer: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown handler, no rollback, no flush
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Client:
    """The device: signed in with a token bound to it, pushing the batch in chunks."""

    def __init__(self, server: Server, device_id: str, token: str) -> None:
        self.server, self.device_id, self.token = server, device_id, token

    @classmethod
    async def set_up(cls, server: Server, url: str) -> Client:
        db = Database(Settings(database_url=url))
        try:
            await AuthService(db).add_user("admin", "admin", PASSWORD)
        finally:
            await db.dispose()
        await server.start()
        device_id = str(uuid.uuid4())
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            token = (await http.post("/api/auth/token", json={"username": "admin", "password": PASSWORD,
                                                               "device_id": device_id})).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for number, tracking in (("PN-S", "serial"), ("PN-L", "lot"), ("PN-U", "untracked")):
                created = await http.post("/api/parts", json={"part_number": number, "tracking": tracking}, headers=headers)
                assert created.status_code == 201, created.text
            for code in ("DOCK", "A", "B", "C"):
                assert (await http.post("/api/locations", json={"code": code}, headers=headers)).status_code == 201
        return cls(server, device_id, token)

    async def push_all(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=self.server.base, timeout=300) as http:
            for start in range(0, len(ops), CHUNK):
                body = {"protocol": 1, "device_id": self.device_id, "ops": ops[start:start + CHUNK]}
                response = await http.post("/api/sync/push", json=body, headers={"Authorization": f"Bearer {self.token}"})
                assert response.status_code == 200, response.text
                answer = response.json()
                assert answer["stopped"] is None, answer["stopped"]
                results.extend(answer["results"])
        return results


async def snapshot(url: str) -> dict[str, Any]:
    """What a run leaves behind, without ids or times: inventory rows, ledger sums and on-hand stock per part,
    location and lot, op outcomes, conflicts, and how many movement-log lines and ledger entries each op wrote."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(inventory_select())
            inventory = Counter(
                (row.part, row.serial, row.lot, row.location, row.quantity, row.status, row.installed_in) for row in rows
            )
            total = func.sum(LedgerEntry.delta)
            ledger = {
                (part, location, lot): int(value)
                for part, location, lot, value in await db.execute(
                    select(Part.part_number, Location.code, LedgerEntry.lot, total)
                    .join(Part, Part.id == LedgerEntry.part_id).join(Location, Location.id == LedgerEntry.location_id)
                    .group_by(Part.part_number, Location.code, LedgerEntry.lot).having(total != 0)
                )
            }
            on_hand_total = func.sum(InventoryRow.quantity)
            on_hand = {
                (part, location, lot): int(value)
                for part, location, lot, value in await db.execute(
                    select(Part.part_number, Location.code, InventoryRow.lot, on_hand_total)
                    .join(Part, Part.id == InventoryRow.part_id).join(Location, Location.id == InventoryRow.location_id)
                    .where(InventoryRow.scrapped.is_(False), InventoryRow.installed_in_id.is_(None))
                    .group_by(Part.part_number, Location.code, InventoryRow.lot).having(on_hand_total != 0)
                )
            }
            records = list(await db.execute(select(OpRecord.op_id, OpRecord.seq, OpRecord.status, OpRecord.reason)))
            sync_ops = list(await db.execute(select(SyncOp.op_id, SyncOp.seq)))
            writes = Counter()
            for table in (Movement, LedgerEntry):
                for op_id, count in await db.execute(select(table.op_id, func.count()).group_by(table.op_id)):
                    writes[(table.__tablename__, str(op_id))] = count
            conflicts = Counter(await db.execute(select(SyncConflict.kind, SyncConflict.reason, SyncConflict.status)))
            last_seq = await db.scalar(select(func.max(Device.last_seq)))
    finally:
        await engine.dispose()
    return {
        "inventory": inventory, "ledger": ledger, "on_hand": on_hand, "last_seq": last_seq, "writes": writes, "conflicts": conflicts,
        "outcomes": {str(op_id): (seq, status, reason) for op_id, seq, status, reason in records},
        "records": len(records), "sync_ops": len(sync_ops), "sync_seqs": sorted(seq for _, seq in sync_ops),
    }


@pytest.mark.parametrize("engine", ENGINES)
async def test_kill_9_mid_push_then_push_again_equals_a_run_without_the_crash(engine: str, tmp_path: Path) -> None:
    ops = batch("phone-1")
    async with AsyncExitStack() as stack:
        crash_url = await stack.enter_async_context(fresh_database(engine, tmp_path))
        calm_url = await stack.enter_async_context(fresh_database(engine, tmp_path))
        crash, calm = Server(crash_url, tmp_path / "crash.log"), Server(calm_url, tmp_path / "calm.log")
        stack.callback(crash.stop)
        stack.callback(calm.stop)
        await asyncio.gather(asyncio.to_thread(crash.migrate), asyncio.to_thread(calm.migrate))

        reference_client, client = await asyncio.gather(Client.set_up(calm, calm_url), Client.set_up(crash, crash_url))
        reference_push = asyncio.create_task(reference_client.push_all(ops))  # the run without a crash

        # the crash: SIGKILL once a quarter of the batch is committed, while the push is still going
        pushing = asyncio.create_task(client.push_all(ops))
        watcher = create_async_engine(crash_url)
        try:
            while (seen := await _last_seq(watcher)) < N // 4:
                assert not pushing.done(), "the push ended before the kill"
                await asyncio.sleep(0.005)
        finally:
            await watcher.dispose()
        crash.kill()
        with pytest.raises(httpx.TransportError):
            await pushing
        after_crash = await snapshot(crash_url)
        committed = after_crash["last_seq"]
        assert seen <= committed < N, "the kill came after the whole batch"
        # every op is either fully there (op record, sync record, effects) or not at all
        assert after_crash["records"] == after_crash["sync_ops"] == committed
        assert after_crash["sync_seqs"] == list(range(1, committed + 1))
        assert after_crash["ledger"] == after_crash["on_hand"]

        await crash.start()
        results = await client.push_all(ops)  # the client never heard back: it sends everything again
        crash.stop()
        final = await snapshot(crash_url)
        reference_results = await reference_push
        calm.stop()
        reference = await snapshot(calm_url)

    assert reference["last_seq"] == N and reference["records"] == N
    before_kill = {op["op_id"] for op in ops[:committed]}
    assert {op_id: outcome for op_id, outcome in reference["outcomes"].items() if op_id in before_kill} == (
        after_crash["outcomes"]
    )
    assert {key: count for key, count in reference["writes"].items() if key[1] in before_kill} == after_crash["writes"]
    assert [r["status"] for r in results[:committed]] == ["duplicate"] * committed
    assert [r.get("original_status", r["status"]) for r in results] == [r["status"] for r in reference_results]
    assert final["last_seq"] == N and final["records"] == final["sync_ops"] == N
    assert final["sync_seqs"] == list(range(1, N + 1))
    assert final["outcomes"] == reference["outcomes"]  # one outcome per op, the same as without the crash
    assert final["writes"] == reference["writes"]  # no op applied twice (nor half)
    assert final["inventory"] == reference["inventory"]
    assert final["ledger"] == reference["ledger"] == final["on_hand"]
    assert final["conflicts"] == reference["conflicts"]
    statuses = Counter(status for _, status, _ in reference["outcomes"].values())
    assert statuses["applied"] and statuses["rejected"] and statuses["held"]  # every kind of outcome was at stake


async def _last_seq(engine: Any) -> int:
    async with engine.connect() as db:
        return int(await db.scalar(select(func.coalesce(func.max(Device.last_seq), 0))) or 0)
