"""Engines and sessions: SQLite (WAL, foreign keys, BEGIN IMMEDIATE for writes) or PostgreSQL.

Reads run in ordinary transactions from advanced-alchemy's per-request session. Writes go through
`Database.write()`, one transaction each; on SQLite it starts with BEGIN IMMEDIATE so that two writers
never deadlock on a lock upgrade, and waits (busy_timeout) instead of failing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, echo=settings.sql_echo)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url, echo=settings.sql_echo, pool_size=10, max_overflow=10, pool_pre_ping=True
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
        mode = "IMMEDIATE" if connection.get_execution_options().get("gemba_write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine plus two session factories: plain reads, and serialised writes."""

    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(
            self.engine.execution_options(gemba_write=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self.write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session, session.begin():
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
