"""`gemba backup` while phones push to a real server, and `gemba restore` of that backup: the restored
database is consistent (the ledger equals the stock on hand, every device's last_seq is the number and the
highest seq of its op records); restore refuses a database that holds rows unless --force."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import sync.models  # noqa: F401 - the sync tables
from server.auth import AuthService
from server.db import Database
from server.models import Device
from server.settings import Settings
from sync.models import SyncOp
from tests.dbs import ENGINES, PG_URL, fresh_database
from tests.e2e.server import HTTP, free_port
from tests.integration.ops_support import ledger_sums, on_hand
from tests.integration.test_cli import gemba_here as cli_here

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
PHONES = 4
PUSHES = 10  # per phone, at least: the load stops once the backup is taken and each phone has pushed this many
HANG_S = 300  # a backup that takes longer while the phones push is taken as hung (a busy machine's backup may take many pushes)


def gemba(url: str, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), **({"PATH": path} if path is not None else {})}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True)


async def gemba_here(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`gemba ARGS` run by `server.cli.main` in this process (test_cli.gemba_here: the same exit status and output,
    without ~2 s of CPU to start a Python and import the server), in a thread: the command runs its own event loop.
    The backup taken under load, and the one with another PATH, stay real subprocesses."""
    return await asyncio.to_thread(cli_here, url, *args)


async def gemba_async(url: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@contextmanager
def serving(url: str, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1200):
                assert process.poll() is None, log.read_text()[-3000:]
                try:
                    if HTTP.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(60)


async def consistency(url: str) -> dict[str, Any]:
    """What must hold of any database a backup restores: ledger = stock; per device, last_seq = the number
    of its op records = their highest seq."""
    db = Database(Settings(database_url=url))
    try:
        async with db.read() as session:
            devices = dict((await session.execute(select(Device.id, Device.last_seq))).all())
            records = {
                device: (count, highest) for device, count, highest in await session.execute(
                    select(SyncOp.device_id, func.count(), func.max(SyncOp.seq)).group_by(SyncOp.device_id)
                )
            }
            ledger, stock = await ledger_sums(session), await on_hand(session)
    finally:
        await db.dispose()
    return {"devices": devices, "records": records, "ledger": ledger, "stock": stock}


class Phone:
    def __init__(self, client: httpx.AsyncClient, device_id: str, token: str, bins: tuple[str, str]) -> None:
        self.client, self.device_id, self.token, self.bins, self.seq, self.pushes = client, device_id, token, bins, 0, 0

    def op(self, op_type: str, **args: Any) -> dict[str, Any]:
        self.seq += 1
        return {"op_id": str(uuid.uuid4()), "seq": self.seq, "type": op_type, "actor": "olga",
                "args": {"part": "PN-B", "tracking": "untracked", **args}}

    async def push_until(self, stop: asyncio.Event) -> None:
        """Batches of a receive and a move, as the app sends them (after retry_later: the rest again)."""
        a, b = self.bins
        deadline = time.monotonic() + HANG_S
        while not stop.is_set() or self.pushes < PUSHES:
            ops = [self.op("receive", location=a, quantity=3), self.op("move", from_location=a, to_location=b, quantity=2)]
            while ops:
                answer = await self.client.post("/api/sync/push", json={"protocol": 1, "device_id": self.device_id, "ops": ops},
                                                headers={"Authorization": f"Bearer {self.token}"})
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert all(result["status"] == "applied" for result in body["results"]), body
                ops = ops[len(body["results"]) :]
            self.pushes += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"the backup did not finish in {HANG_S} s while the phones pushed")


async def phones(url: str, client: httpx.AsyncClient) -> list[Phone]:
    db = Database(Settings(database_url=url, scrypt_log2_n=4))
    try:
        await AuthService(db).add_user("olga", "operator", PASSWORD)
        await AuthService(db).add_user("root", "admin", PASSWORD)
    finally:
        await db.dispose()
    admin = (await client.post("/api/auth/token", json={"username": "root", "password": PASSWORD})).json()["access_token"]
    headers = {"Authorization": f"Bearer {admin}"}
    assert (await client.post("/api/parts", json={"part_number": "PN-B", "tracking": "untracked"}, headers=headers)).status_code == 201
    made = []
    for n in range(PHONES):
        bins = (f"BIN-{n}-A", f"BIN-{n}-B")
        for code in bins:
            assert (await client.post("/api/locations", json={"code": code}, headers=headers)).status_code == 201
        device_id = str(uuid.uuid4())
        signed_in = await client.post("/api/auth/token", json={"username": "olga", "password": PASSWORD, "device_id": device_id})
        made.append(Phone(client, device_id, signed_in.json()["access_token"], bins))
    return made


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_backup_taken_while_phones_push_restores_into_a_consistent_database(engine: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "gemba.backup"
    async with fresh_database(engine, tmp_path) as url, fresh_database(engine, tmp_path) as restored_url:
        with serving(url, tmp_path / "serve.log") as base:
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                floor = await phones(url, client)
                stop = asyncio.Event()
                load = asyncio.gather(*(phone.push_until(stop) for phone in floor))
                while sum(phone.pushes for phone in floor) < PHONES * 5:  # the load is well under way
                    await asyncio.sleep(0.05)
                pushed_before = sum(phone.pushes for phone in floor)
                code, output = await gemba_async(url, "backup", str(backup_file))
                pushed_during = sum(phone.pushes for phone in floor) - pushed_before
                stop.set()
                await load
        assert code == 0, output
        assert f"to {backup_file}" in output

        restored = await gemba_here(restored_url, "restore", str(backup_file))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        copy = await consistency(restored_url)
        assert copy["ledger"] == copy["stock"] and copy["stock"]
        assert set(copy["devices"]) == {uuid.UUID(phone.device_id) for phone in floor}
        for device, last_seq in copy["devices"].items():  # the snapshot holds whole pushes only
            assert copy["records"].get(device, (0, 0)) == (last_seq, last_seq)
        in_copy = sum(copy["devices"].values())  # every push answered before the backup began; maybe one in flight each
        assert 2 * pushed_before <= in_copy <= 2 * (pushed_before + pushed_during + PHONES)
        final = await consistency(url)
        assert final["ledger"] == final["stock"] and sum(final["devices"].values()) > in_copy  # the load went on

        refused = await gemba_here(restored_url, "restore", str(backup_file))
        assert refused.returncode == 1 and "is not empty" in refused.stderr and "--force" in refused.stderr
        assert await consistency(restored_url) == copy
        replaced = await gemba_here(url, "restore", "--force", str(backup_file))  # the live database, back to the backup
        assert replaced.returncode == 0, replaced.stdout + replaced.stderr
        assert await consistency(url) == copy


async def test_restore_takes_only_a_backup_and_changes_nothing_otherwise(tmp_path: Path) -> None:
    other_database = tmp_path / "other.sqlite3"
    subprocess.run([sys.executable, "-c", f"import sqlite3; sqlite3.connect({str(other_database)!r}).execute('CREATE TABLE t (x)')"], check=True)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n" * 100)
    target = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    for wrong in (other_database, text_file):
        answer = await gemba_here(target, "restore", str(wrong))
        assert answer.returncode == 1 and "not a backup of a Gemba database" in answer.stderr, answer.stderr
    missing = await gemba_here(target, "restore", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    if PG_URL:  # a --force restore of something that is no pg_dump archive leaves the database as it was
        async with fresh_database("postgresql", tmp_path) as url:
            assert (await gemba_here(url, "migrate")).returncode == 0
            db = Database(Settings(database_url=url, scrypt_log2_n=4))
            await AuthService(db).add_user("olga", "operator", PASSWORD)
            await db.dispose()
            refused = await gemba_here(url, "restore", "--force", str(text_file))
            assert refused.returncode == 1 and "is not a pg_dump archive" in refused.stderr, refused.stderr
            db = Database(Settings(database_url=url))
            assert [user.username for user in await AuthService(db).list_users()] == ["olga"]
            await db.dispose()


@pytest.mark.skipif(not PG_URL, reason="pg_dump: PostgreSQL")
async def test_without_pg_dump_on_path_backup_says_so_and_writes_nothing(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as url:
        answer = gemba(url, "backup", str(tmp_path / "x.dump"), path=str(tmp_path))  # a PATH without PostgreSQL's tools
    assert answer.returncode == 1
    assert "pg_dump is not on PATH" in answer.stderr and "postgresql-client" in answer.stderr
    assert not list(tmp_path.glob("*x.dump*"))
