"""SQLite durability: every connection the server opens syncs its commits (`PRAGMA synchronous=FULL`),
unless GEMBA_SQLITE_SYNCHRONOUS says otherwise — pooled, overflow and reopened connections alike."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db import SQLITE_POOL_SIZE, Database
from server.settings import Settings

FULL, NORMAL = 2, 1  # what `PRAGMA synchronous` answers


async def synchronous_of_every_connection(db: Database) -> list[int]:
    """The pragma on more connections than the pool keeps (all held at once: each is a different one),
    then through the server's own write, read and quick-read sessions."""
    seen = []
    async with AsyncExitStack() as stack:
        connections = [await stack.enter_async_context(db.engine.connect()) for _ in range(SQLITE_POOL_SIZE + 3)]
        assert len({id(await c.get_raw_connection()) for c in connections}) == len(connections)
        for connection in connections:
            seen.append((await connection.execute(text("PRAGMA synchronous"))).scalar_one())
    for session_of in (db.write, db.read, lambda: db.read(quick=True)):
        async with session_of() as session:
            seen.append((await session.execute(text("PRAGMA synchronous"))).scalar_one())
    return seen


async def test_every_connection_syncs_each_commit_by_default_also_after_reconnects(tmp_path: Path) -> None:
    db = Database(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'gemba.sqlite3'}"))
    try:
        assert set(await synchronous_of_every_connection(db)) == {FULL}
        # a connection thrown away (as after an error) and the whole pool closed: the new ones are FULL too
        async with db.engine.connect() as connection:
            await connection.invalidate()
        await db.engine.dispose()
        assert set(await synchronous_of_every_connection(db)) == {FULL}
    finally:
        await db.dispose()


async def test_normal_when_chosen(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gemba.sqlite3'}"
    db = Database(Settings.from_env({"DATABASE_URL": url, "GEMBA_SQLITE_SYNCHRONOUS": "normal"}))
    try:
        assert set(await synchronous_of_every_connection(db)) == {NORMAL}
    finally:
        await db.dispose()


def test_only_full_or_normal() -> None:
    with pytest.raises(ValueError, match="GEMBA_SQLITE_SYNCHRONOUS='OFF'"):
        Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite://", "GEMBA_SQLITE_SYNCHRONOUS": "off"})
