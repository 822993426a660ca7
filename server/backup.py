"""`gemba backup FILE` and `gemba restore FILE [--force]`: a consistent copy of the whole database, taken
while the server serves, and put back into an empty (or, with --force, any) database.

- SQLite: SQLite's online backup API copies the database in one step, as one read transaction: a
  snapshot of the last commit before it began (writers go on meanwhile, in WAL mode). The copy is
  checked (`PRAGMA quick_check`), switched to a single file (no WAL beside it) and renamed into place.
  FILE is a SQLite database: `sqlite3 FILE` opens it. Restoring copies it back with the same API.
- PostgreSQL: `pg_dump --format=custom` (one REPEATABLE READ snapshot), `pg_restore` to restore, found on
  PATH (Debian: `postgresql-client`, of the server's major version or newer). Without them, the command says
  so and does nothing. The connection comes from DATABASE_URL, the password given through the environment
  (`PGPASSWORD`), never on a command line.

Restore refuses a database that holds any row (a fresh `gemba migrate` leaves none) unless `--force`, which
first empties it: SQLite's copy replaces every page; PostgreSQL's schema `public` is dropped and made
again. Then the restored database is migrated to the code's head (a backup from an older version).
Stop the server before restoring.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from server.migrate import upgrade_to_head

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_TOOLS_HINT = "install PostgreSQL's client programs (Debian: apt-get install postgresql-client)"
T = TypeVar("T")


class BackupError(Exception):
    """Why a backup or restore did nothing (said to the person at the terminal)."""


def backup(database_url: str, target: Path) -> str:
    """Copy the database into `target` (replaced only once the copy is whole); returns what was done."""
    url = make_url(database_url)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        else:
            _pg(["pg_dump", "--format=custom", f"--file={partial}"], url)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return f"backed up {_shown(url)} to {target} ({target.stat().st_size:,} bytes)"


def restore(database_url: str, source: Path, force: bool = False) -> str:
    """Put the backup `source` into the database (empty, or any with `force`), then migrate it to head."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    url = make_url(database_url)
    holding = _tables_with_rows(url)
    if holding and not force:
        raise BackupError(
            f"{_shown(url)} is not empty ({', '.join(holding[:5])}{' …' if len(holding) > 5 else ''} hold rows): "
            "restore into an empty database, or add --force to replace everything in it"
        )
    if url.get_backend_name() == "sqlite":
        _sqlite_restore(source, _sqlite_file(url))
    else:
        _pg(["pg_restore", "--list", str(source)], url, f"{source} is not a pg_dump archive")  # before changing anything
        if force:
            _pg_empty(url)
        _pg(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={url.database}",
             str(source)], url)
    upgrade_to_head(database_url)
    return f"restored {source} into {_shown(url)} and migrated it to the latest schema"


# ---- SQLite -------------------------------------------------------------------------------------
def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names no SQLite file")
    return Path(url.database)


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)) as connection:
        yield connection


def _sqlite_backup(database: Path, partial: Path) -> None:
    if not database.is_file():
        raise BackupError(f"{database}: no such database file")
    with _sqlite(database) as source, _sqlite(partial) as copy:
        source.backup(copy)  # all pages in one step: one snapshot
        if (check := copy.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"the copy of {database} fails its check: {check}")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def _sqlite_restore(source: Path, database: Path) -> None:
    with _sqlite(source) as backup_file:
        try:
            gemba = backup_file.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        except sqlite3.DatabaseError:  # not a SQLite file at all
            gemba = None
        if not gemba:
            raise BackupError(f"{source} is not a backup of a Gemba database (no alembic_version table)")
        database.parent.mkdir(parents=True, exist_ok=True)
        with _sqlite(database) as target:
            backup_file.backup(target)
            target.execute("PRAGMA journal_mode=WAL")


# ---- PostgreSQL ---------------------------------------------------------------------------------
def _pg(command: list[str], url: URL, failure: str | None = None) -> None:
    """Run one of PostgreSQL's client programs on the database; `failure` says what its failing means."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not on PATH: {PG_TOOLS_HINT}")
    environment = {**os.environ, "PGDATABASE": url.database or ""}
    connection = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password}
    for variable, value in connection.items():
        if value is not None:
            environment[variable] = str(value)
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    if finished.returncode != 0:
        said = finished.stderr.strip()[-2000:]
        raise BackupError(f"{failure or command[0] + ' failed'} ({finished.returncode}): {said}")


def _pg_empty(url: URL) -> None:
    async def empty(connection: AsyncConnection) -> None:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
        await connection.commit()

    asyncio.run(_on(url, empty))


# ---- both ---------------------------------------------------------------------------------------
async def _on(url: URL, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` on one connection of a short-lived engine (these commands run outside the server)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await work(connection)
    finally:
        await engine.dispose()


def _tables_with_rows(url: URL) -> list[str]:
    if url.get_backend_name() == "sqlite" and not _sqlite_file(url).is_file():
        return []

    async def holding(connection: AsyncConnection) -> list[str]:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        return [
            name for name in tables
            if name != "alembic_version" and (await connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1'))).first()
        ]

    return asyncio.run(_on(url, holding))


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)
