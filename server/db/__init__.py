"""Engines and sessions: SQLite (WAL, foreign keys, BEGIN IMMEDIATE for writes) or PostgreSQL.

Reads run in ordinary transactions from advanced-alchemy's per-request session. Writes go through
`Database.write()`, one transaction each; on SQLite it starts with BEGIN IMMEDIATE so that two writers
never deadlock on a lock upgrade, and waits (busy_timeout) instead of failing.

SQLite: writers of this process queue on an asyncio lock (first come, first served) before BEGIN IMMEDIATE,
instead of all polling SQLite's busy handler, whose growing sleeps let a writer starve until its
busy_timeout runs out. Waiting longer than busy_timeout raises SQLite's own "database is locked" (a
transient error: push answers retry_later). Other processes still meet busy_timeout. How statements reach
SQLite (one hop to aiosqlite's thread, or none inside a write transaction): server/db/sqlite.py.

The package is the one home of what depends on the engine or on SQLAlchemy's internals: the SQLite adapter
(`sqlite.py`), bulk writes (`bulk.py`) and the codecs that read ids and times as the driver gives them
(`codecs.py`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import msgspec
from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.db.sqlite import SQLITE_BUSY_TIMEOUT_MS, one_hop_module, tune_sqlite
from server.settings import Settings

MIGRATIONS = Path(__file__).parents[1] / "migrations"
SQLITE_POOL_SIZE = 32
PG_POOL_SIZE = 20


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns (op bodies and results, sync answers) through msgspec: several per op, ~5x faster than json
JSON = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.sql_echo,
            module=one_hop_module(),
            connect_args={"check_same_thread": False},  # write transactions run on the event loop's thread
            # Connections kept for the requests in flight (a phone each): past the pool's size a connection is
            # closed when it is given back and opened again for the next request (a thread and four PRAGMAs).
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
            **JSON,
        )
        tune_sqlite(engine, settings.sqlite_synchronous)
        return engine
    # PostgreSQL: as many connections as before (20 a process), all kept: a connection opened past the pool's
    # size was closed when given back, and the next one cost the server a process start and asyncpg its type
    # introspection queries, under load several per push
    return create_async_engine(
        settings.database_url, echo=settings.sql_echo, pool_size=PG_POOL_SIZE, max_overflow=0, pool_pre_ping=True,
        **JSON,
    )


_HOLDS_WRITE_LOCK: ContextVar[bool] = ContextVar("gemba_holds_write_lock", default=False)


class Database:
    """The engine plus two session factories: plain reads, and serialised writes."""

    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.quick_read_sessions = async_sessionmaker(
            self.engine.execution_options(gemba_quick_read=True), expire_on_commit=False
        )
        self.write_sessions = async_sessionmaker(
            self.engine.execution_options(gemba_write=True), expire_on_commit=False
        )
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self._writer_turn(), self.write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """SQLite: this process's writers one after another, in arrival order (see the module's docstring).
        A task already inside a write transaction does not queue again (it would wait for itself)."""
        if self.dialect != "sqlite" or _HOLDS_WRITE_LOCK.get():
            yield
            return
        lock = self._write_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000)
        except TimeoutError:
            locked = sqlite3.OperationalError("database is locked (waited for this process's other writers)")
            raise OperationalError("BEGIN IMMEDIATE", None, locked) from None
        token = _HOLDS_WRITE_LOCK.set(True)
        try:
            yield
        finally:
            _HOLDS_WRITE_LOCK.reset(token)
            lock.release()

    @asynccontextmanager
    async def read(self, *, quick: bool = False) -> AsyncIterator[AsyncSession]:
        """One read transaction. `quick`: a few indexed lookups, run on the event loop with SQLite (see the
        module's docstring); PostgreSQL ignores it."""
        async with (self.quick_read_sessions if quick else self.read_sessions)() as session, session.begin():
            yield session

    def alchemy_config(self) -> SQLAlchemyAsyncConfig:
        """advanced-alchemy's view of the same engine: request sessions and Alembic."""
        return SQLAlchemyAsyncConfig(
            engine_instance=self.engine,
            session_config=AsyncSessionConfig(expire_on_commit=False),
            before_send_handler="autocommit",
            alembic_config=AlembicAsyncConfig(
                script_location=str(MIGRATIONS),
                version_table_name="alembic_version",
                render_as_batch=True,
                compare_type=True,
            ),
            create_all=False,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def dialect_insert(dialect: str, entity: Any) -> Any:
    """An INSERT of the engine's own dialect, for its ON CONFLICT clauses (the same on SQLite and PostgreSQL)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(entity)
