"""How statements reach SQLite: SQLAlchemy's aiosqlite adapter, subclassed, and the connection set-up.

- Each statement is one hop to aiosqlite's thread (execute, fetch and close the cursor there) instead of
  SQLAlchemy's four (cursor, execute, fetchall, close): a hop costs ~60 µs on an idle machine (far more
  under load), more than most of our statements take in SQLite itself.
- Inside a write transaction (after BEGIN IMMEDIATE succeeded, until COMMIT or ROLLBACK) statements run
  right on the event loop, with no hop at all: holding SQLite's write lock in WAL mode, a statement never
  waits for a lock, so it cannot block the loop for longer than it computes. BEGIN IMMEDIATE, COMMIT (which
  may checkpoint the WAL) and ROLLBACK of a write still run in aiosqlite's thread.
- Quick reads (`Database.read(quick=True)`: a few indexed lookups, such as a token's or a push's replays)
  run on the event loop too, BEGIN and COMMIT included: in WAL mode a reader takes no lock and never
  waits for a writer. Other reads run in aiosqlite's thread, so that a long one (a first pull's page, a
  count's review) leaves the loop free.
- Python's sqlite3 module loses transaction control (no implicit BEGIN: SAVEPOINTs work); every connection
  gets WAL, `synchronous`, foreign keys and busy_timeout.

The classes subclassed here are SQLAlchemy's private adapter (`sqlalchemy.dialects.sqlite.aiosqlite`):
tests/unit/test_sqlalchemy_internals.py pins the SQLAlchemy versions they were checked against.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def one_hop_module() -> _OneHopDbapi:
    """The DBAPI module to hand `create_async_engine(module=...)` for SQLite."""
    return _OneHopDbapi(aiosqlite, sqlite3)


def tune_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    """Take transaction control away from Python's sqlite3 module and begin them ourselves. `synchronous`:
    FULL syncs the WAL at every commit (an answered write survives a power cut), NORMAL only at checkpoints."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # no implicit BEGIN: SAVEPOINTs work, we choose the mode
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
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
