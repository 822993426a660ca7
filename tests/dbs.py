"""Fresh, empty, real databases for tests: a SQLite file, or a new PostgreSQL database.

PostgreSQL is reached through GEMBA_TEST_PG_URL (the test command sets it when the local server
answers). Each fresh database is created for the caller and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("GEMBA_TEST_PG_URL", "")
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(engine: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Yield a SQLAlchemy URL of an empty database of the given engine."""
    if engine == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_dir / f'gemba-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"gemba_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
