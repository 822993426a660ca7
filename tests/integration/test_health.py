"""Liveness and readiness as a load balancer sees them: no token, 200 or 503 not-ready naming the check
that failed, and nothing of the connection (host, user, password, driver messages) in the answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from advanced_alchemy.base import orm_registry
from sqlalchemy import text

from server.app import create_app
from server.db import Database
from server.health import migrations_head
from server.migrate import upgrade_to_head
from server.settings import Settings
from tests.dbs import PG_URL, fresh_database


async def get(settings: Settings, path: str) -> httpx.Response:
    db = Database(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, db))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            return await client.get(path)
    finally:
        await db.dispose()


async def test_a_migrated_database_is_ready_and_healthz_needs_nothing(db_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, db_url)
    ready = await get(Settings(database_url=db_url), "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": ready.json()["database"], "revision": migrations_head()}
    assert (await get(Settings(database_url=db_url), "/healthz")).json()["status"] == "ok"


async def test_a_schema_made_without_migrations_is_not_ready(db_url: str) -> None:
    db = Database(Settings(database_url=db_url))
    async with db.engine.begin() as connection:  # every table, but no migration recorded
        await connection.run_sync(orm_registry.metadata.create_all)
    await db.dispose()
    answer = await get(Settings(database_url=db_url), "/readyz")
    assert answer.status_code == 503
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert (problem["type"], problem["check"], problem["head"]) == ("/problems/not-ready", "migrations", migrations_head())
    assert "gemba migrate" in problem["detail"]


async def test_an_unreachable_database_is_not_ready_and_its_address_is_not_told(tmp_path: Path) -> None:
    secret = "s3cret-pw"
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'gemba.sqlite3'}"]
    if PG_URL:  # nothing listens on port 1
        urls.append(f"postgresql+asyncpg://gemba-user:{secret}@127.0.0.1:1/gemba-db")
    for url in urls:
        answer = await get(Settings(database_url=url), "/readyz")
        assert answer.status_code == 503, answer.text
        assert (answer.json()["type"], answer.json()["check"]) == ("/problems/not-ready", "database")
        for told in (secret, "gemba-user", "gemba-db", "127.0.0.1", "no-such-dir", "sqlite3"):
            assert told not in answer.text
        health = await get(Settings(database_url=url), "/healthz")
        assert health.status_code == 200  # the process is up: a supervisor must not restart it for the database


async def test_a_database_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path) as url:
        await asyncio.to_thread(upgrade_to_head, url)
        db = Database(Settings(database_url=url))
        async with db.write() as session:  # as if the code were deployed before `gemba migrate` ran
            await session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        await db.dispose()
        answer = await get(Settings(database_url=url), "/readyz")
    assert answer.status_code == 503
    assert (answer.json()["check"], answer.json()["revision"]) == ("migrations", "0001")
