"""Fresh real databases for tests: a SQLite file, or a new PostgreSQL database — empty, or holding the
models' tables.

PostgreSQL is reached through GEMBA_TEST_PG_URL (the test command sets it when the local server
answers). Each fresh database is created for the caller and dropped afterwards.

A database with the tables is a copy of a template this process makes once (a file copy on SQLite,
`CREATE DATABASE … TEMPLATE` on PostgreSQL): creating an empty PostgreSQL database, its tables and dropping it
took 4–6 s a test on this 2-core machine, the copy and drop about 1 s.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from server.schema import METADATA

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


_templates: dict[str, str] = {}  # engine -> this process's template: a file path (SQLite) or a database name


async def _template(engine: str) -> str:
    if engine in _templates:
        return _templates[engine]
    if engine == "sqlite":
        name = str(Path(tempfile.mkdtemp(prefix="gemba-template-")) / "template.sqlite3")
        url = f"sqlite+aiosqlite:///{name}"
        atexit.register(shutil.rmtree, Path(name).parent, True)
    else:
        name = f"gemba_tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        atexit.register(_drop_at_exit, name)
    sa_engine = create_async_engine(url)
    try:
        async with sa_engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
    finally:
        await sa_engine.dispose()  # a PostgreSQL template must have no connections when it is copied
    _templates[engine] = name
    return name


def _drop_at_exit(name: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    try:
        asyncio.run(drop())
    except Exception:  # the server may be gone at exit; a leftover template is harmless
        pass


# PostgreSQL databases this process made from its template and has finished with, to be emptied and used again:
# copying the template and dropping the copy cost 0.4-1.5 s a test on this 2-core machine (the drop most of it),
# deleting the rows of its 41 tables 0.03-0.09 s.
_spare: list[str] = []


async def _emptied(name: str) -> None:
    """Database `name` back to the template's state: no rows. Any connection a test left behind is ended first
    (a transaction it kept open would hold locks); triggers are off while deleting (`replica`), so the kept sums
    are not recomputed for rows about to go — their tables are emptied too."""
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await admin.close()
    connection = await asyncpg.connect(_asyncpg_dsn(make_url(PG_URL).set(database=name).render_as_string(hide_password=False)))
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            for table in reversed(METADATA.sorted_tables):
                await connection.execute(f'DELETE FROM "{table.name}"')
    finally:
        await connection.close()


@asynccontextmanager
async def database_with_tables(engine: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Yield a SQLAlchemy URL of a database of the given engine holding the models' tables, no rows: a new file
    (SQLite), or on PostgreSQL a copy of the template this process made, emptied and used again by later tests."""
    template = await _template(engine)
    if engine == "sqlite":
        path = tmp_dir / f"gemba-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if _spare:
        name = _spare.pop()
        await _emptied(name)
    else:
        name = f"gemba_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        atexit.register(_drop_at_exit, name)
    yield make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    _spare.append(name)
