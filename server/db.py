"""Engines and sessions: SQLite (WAL, foreign keys, BEGIN IMMEDIATE for writes) or PostgreSQL.

Reads run in ordinary transactions from advanced-alchemy's per-request session. Writes go through
`Database.write()`, one transaction each; on SQLite it starts with BEGIN IMMEDIATE so that two writers
never deadlock on a lock upgrade, and waits (busy_timeout) instead of failing.

SQLite, two things for speed under many concurrent writers:
- writers of this process queue on an asyncio lock (first come, first served) before BEGIN IMMEDIATE,
  instead of all polling SQLite's busy handler, whose growing sleeps let a writer starve until its
  busy_timeout runs out. Waiting longer than busy_timeout raises SQLite's own "database is locked"
  (a transient error: push answers retry_later). Other processes still meet busy_timeout.
- each statement is one hop to aiosqlite's thread (execute, fetch and close the cursor there) instead
  of SQLAlchemy's four (cursor, execute, fetchall, close): a hop costs ~60 µs on an idle machine (far
  more under load), far more than most of our statements take in SQLite itself. And inside a write
  transaction (after BEGIN IMMEDIATE succeeded, until COMMIT or ROLLBACK) statements run right on the
  event loop, with no hop at all: holding SQLite's write lock in WAL mode, a statement never waits for
  a lock, so it cannot block the loop for longer than it computes. BEGIN IMMEDIATE, COMMIT (which may
  checkpoint the WAL) and ROLLBACK of a write still run in aiosqlite's thread.
- quick reads (`Database.read(quick=True)`: a few indexed lookups, such as a token's or a push's replays)
  run on the event loop too, BEGIN and COMMIT included: in WAL mode a reader takes no lock and never
  waits for a writer. Other reads run in aiosqlite's thread, so that a long one (a first pull's page, a
  count's review) leaves the loop free.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 32


def _run_statement(connection: sqlite3.Connection, many: bool, operation: str, parameters: Any) -> tuple[Any, ...]:
    """Runs in aiosqlite's thread: the whole statement, rows included."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.fetchall() if description else None, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


async def _right_now(*args: Any) -> tuple[Any, ...]:
    return _run_statement(*args)


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _run(self, many: bool, operation: Any, parameters: Any) -> None:
        connection = self._connection
        try:
            if self._adapt_connection.inline:  # type: ignore[attr-defined]
                statement = _right_now(connection._conn, many, operation, parameters)
            else:
                statement = connection._execute(_run_statement, connection._conn, many, operation, parameters)
            description, rows, lastrowid, rowcount = self.await_(statement)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows)
        else:
            self.lastrowid, self.rowcount = lastrowid, rowcount

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(False, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(True, operation, seq_of_parameters)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("inline", "quick_read")

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.inline = False  # statements run on the loop: after BEGIN IMMEDIATE, or in a quick read (_tune_sqlite)
        self.quick_read = False  # a quick read: its COMMIT too

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return super().cursor(server_side) if server_side else _OneHopCursor(self)

    def commit(self) -> None:
        self.inline = False
        if self.quick_read:
            self.quick_read = False
            self._connection._conn.commit()  # ends a read: nothing to write, no checkpoint
        else:
            super().commit()

    def rollback(self) -> None:
        self.inline = self.quick_read = False
        if self._connection._conn.in_transaction:  # not when the pool resets a connection that is done already
            super().rollback()


class _OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kw: Any) -> _OneHopConnection:
        return _OneHopConnection(self, super().connect(*args, **kw)._connection)


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns (op bodies and results, sync answers) through msgspec: several per op, ~5x faster than json
JSON = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.sql_echo,
            module=_OneHopDbapi(aiosqlite, sqlite3),
            connect_args={"check_same_thread": False},  # write transactions run on the event loop's thread
            # Connections kept for the requests in flight (a phone each): past the pool's size a connection is
            # closed when it is given back and opened again for the next request (a thread and four PRAGMAs).
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
            **JSON,
        )
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url, echo=settings.sql_echo, pool_size=10, max_overflow=10, pool_pre_ping=True, **JSON
    )


def _tune_sqlite(engine: AsyncEngine) -> None:
    """Take transaction control away from Python's sqlite3 module and begin them ourselves."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # no implicit BEGIN: SAVEPOINTs work, we choose the mode
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        options = connection.get_execution_options()
        write, dbapi_connection = bool(options.get("gemba_write")), connection.connection.dbapi_connection
        if options.get("gemba_quick_read"):
            dbapi_connection.inline = dbapi_connection.quick_read = True  # BEGIN DEFERRED on the loop too
        connection.exec_driver_sql(f"BEGIN {'IMMEDIATE' if write else 'DEFERRED'}")
        if write:
            dbapi_connection.inline = True


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
