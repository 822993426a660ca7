"""Several server processes on one PostgreSQL database, as a site with hundreds of phones runs it: real
`gemba serve` processes (separate ones, and `--workers N` under uvicorn's supervisor), real HTTP.

- Pushes of phones through different processes at once all apply, each op once, while another phone pulls
  page after page: what it pulled bit by bit equals one pull from nothing (no late commit skipped).
- The same batch pushed through two processes at once is applied once and answered as a replay.
- `--workers`: the processes start, a push in flight when they are restarted (SIGHUP) or stopped (SIGTERM)
  finishes and is answered in full.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.auth import AuthService
from server.db import Database
from server.settings import Settings
from tests.dbs import PG_URL, _asyncpg_dsn, fresh_database
from tests.e2e.server import HTTP, free_port

pytestmark = pytest.mark.skipif(not PG_URL, reason="several processes on one database: PostgreSQL")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@contextmanager
def serving(url: str, *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gemba serve` (migrating first) on a free port: (its base URL, its process)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), *extra],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # workers are spawned: each imports the app (slow on a loaded machine)
        while True:
            assert process.poll() is None, process.stdout.read().decode()[-3000:] if process.stdout else ""
            try:
                if HTTP.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gemba serve did not answer"
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgresql", tmp_path) as url:
        yield url


class Phone:
    def __init__(self, client: httpx.AsyncClient, device_id: str, token: str) -> None:
        self.client, self.device_id, self.token, self.seq = client, device_id, token, 0

    def receive(self, location: str, quantity: int) -> dict[str, Any]:
        self.seq += 1
        return {"op_id": str(uuid.uuid4()), "seq": self.seq, "type": "receive", "actor": "olga",
                "client_time": "2026-11-23T09:14:03Z", "depends_on": [],
                "args": {"part": "PN-U", "tracking": "untracked", "location": location, "quantity": quantity}}

    async def post(self, base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(f"{base}{path}", json={"protocol": 1, "device_id": self.device_id, **body},
                                          headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        return response.json()

    async def push(self, base: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.post(base, "/api/sync/push", {"ops": ops})

    async def pull(self, base: str, cursor: str | None) -> dict[str, Any]:
        return await self.post(base, "/api/sync/pull", {"cursor": cursor, "limit": 1000})


@asynccontextmanager
async def shop(url: str, base: str, phones: int) -> AsyncIterator[list[Phone]]:
    """Users, a part and locations A and B (through the HTTP API), and `phones` signed-in devices."""
    db = Database(Settings(database_url=url, scrypt_log2_n=4))
    try:
        await AuthService(db).add_user("olga", "operator", PASSWORD)
        await AuthService(db).add_user("root", "admin", PASSWORD)
    finally:
        await db.dispose()
    async with httpx.AsyncClient(timeout=120) as client:
        token = (await client.post(f"{base}/api/auth/token", json={"username": "root", "password": PASSWORD})).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await client.post(f"{base}/api/parts", json={"part_number": "PN-U", "tracking": "untracked"},
                                  headers=admin)).status_code == 201
        for code in ("A", "B"):
            assert (await client.post(f"{base}/api/locations", json={"code": code}, headers=admin)).status_code == 201
        made = []
        for _ in range(phones):
            device_id = str(uuid.uuid4())
            answer = await client.post(f"{base}/api/auth/token",
                                       json={"username": "olga", "password": PASSWORD, "device_id": device_id})
            made.append(Phone(client, device_id, answer.json()["access_token"]))
        yield made


async def push_until_answered(phone: Phone, base: str, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As the app does: after retry_later, the unanswered ops again."""
    results: list[dict[str, Any]] = []
    while ops:
        body = await phone.push(base, ops)
        results += body["results"]
        ops = ops[len(body["results"]) :]
        assert body["stopped"] is None or body["stopped"]["reason"] == "retry_later", body
    return results


def stock_of(changes: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {c["data"]["location"]: c["data"]["quantity"] for c in changes.values() if c["entity"] == "inventory"}


async def test_postgres_pushes_through_two_processes_apply_once_and_pulls_skip_no_late_commit(
    pg_url: str,
) -> None:
    with serving(pg_url) as (first, _), serving(pg_url) as (second, _):
        async with shop(pg_url, first, phones=7) as (watcher, *phones):
            pulled: dict[str, dict[str, Any]] = {}
            cursor: str | None = None
            pushing = True

            async def watch() -> None:  # pulls page after page, alternating processes, while the others push
                nonlocal cursor
                turn, since_pushes_ended = 0, 0
                while since_pushes_ended < 2:  # until a pull through each process began after every push was answered
                    ended = not pushing  # (a pull begun before the last push was answered may miss its commit)
                    page = await watcher.pull((first, second)[turn % 2], cursor)
                    pulled.update({c["id"]: c for c in page["changes"]})
                    cursor, turn, since_pushes_ended = page["cursor"], turn + 1, since_pushes_ended + ended

            async def phone_pushes(index: int, phone: Phone) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
                answered = []
                for round_ in range(4):
                    ops = [phone.receive(("A", "B")[(index + n) % 2], 1 + n) for n in range(3)]  # shared rows
                    both = await asyncio.gather(*(push_until_answered(phone, base, ops) for base in (first, second)))
                    answered.append((ops, [r for results in both for r in results]))
                return answered

            watching = asyncio.create_task(watch())
            try:
                pushed = await asyncio.gather(*(phone_pushes(i, p) for i, p in enumerate(phones)))
            finally:
                pushing = False
                await watching
            total: dict[str, int] = {"A": 0, "B": 0}
            for answered in pushed:
                for ops, results in answered:
                    for op in ops:
                        statuses = sorted(r["status"] for r in results if r["op_id"] == op["op_id"])
                        assert statuses == ["applied", "duplicate"], (op, statuses)  # applied once, a replay
                        total[op["args"]["location"]] += op["args"]["quantity"]
            fresh = await watcher.pull(second, None)
            assert not fresh["has_more"]
            assert stock_of({c["id"]: c for c in fresh["changes"]}) == total  # every receipt counted once
            assert stock_of(pulled) == total  # bit by bit: the same (a commit behind a cursor would be missing)


def children(process: subprocess.Popen[bytes]) -> set[int]:
    """The worker processes of a `gemba serve --workers N` (the supervisor's children)."""
    found = set()
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.add(int(pid))
            except FileNotFoundError:  # ended meanwhile
                pass
    return found


async def push_in_flight(url: str) -> None:
    """Until a push chunk holds the writers' lock shared (server/clock.py): a push is being applied."""
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        while not await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted"
        ):
            await asyncio.sleep(0.005)
    finally:
        await connection.close()


@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGTERM])
async def test_postgres_workers_finish_the_push_in_flight_when_restarted_or_stopped(
    pg_url: str, stop: signal.Signals
) -> None:
    with serving(pg_url, "--workers", "2") as (base, process):
        while len(workers := children(process)) < 2:
            await asyncio.sleep(0.05)
        async with shop(pg_url, base, phones=1) as (phone,):
            ops = [phone.receive("A", 1) for _ in range(1000)]  # the most a push may hold
            pushing = asyncio.create_task(phone.push(base, ops))
            waiting = asyncio.create_task(push_in_flight(pg_url))
            await asyncio.wait({pushing, waiting}, return_when=asyncio.FIRST_COMPLETED)
            assert waiting.done(), "the push ended before it was seen in flight"
            process.send_signal(stop)
            body = await pushing
            assert body["last_seq"] == 1000 and body["stopped"] is None
            assert {r["status"] for r in body["results"]} == {"applied"}
            if stop == signal.SIGTERM:
                assert process.wait(30) == 0
                return
            while (now := children(process)) & workers or len(now) < 2:  # replaced one by one
                await asyncio.sleep(0.05)
            again = await phone.pull(base, None)
            assert [c["data"]["quantity"] for c in again["changes"] if c["entity"] == "inventory"] == [1000]
