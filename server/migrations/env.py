"""Alembic environment: runs migrations on the engine named by `server.migrate` (SQLite or PostgreSQL).

Like the app factory, this is wiring: it imports every module that defines tables, inventory and sync.
"""

from __future__ import annotations

import asyncio

from advanced_alchemy.base import orm_registry
from alembic import context
from sqlalchemy.engine import Connection

import server.models  # noqa: F401 - registers the inventory tables
import server.counts.models  # noqa: F401 - registers the cycle-count tables
import server.scan.models  # noqa: F401 - registers the scan tables
import sync.models  # noqa: F401 - registers the sync tables

from server.db import create_engine
from server.settings import Settings

config = context.config
TARGET = orm_registry.metadata


def configure(connection: Connection | None = None) -> None:
    options = {
        "target_metadata": TARGET,
        # SQLite reflects GUID columns as NUMERIC: comparing types there would invent changes.
        "compare_type": connection is not None and connection.dialect.name != "sqlite",
        "render_as_batch": True,  # SQLite alters tables by copying them
        "user_module_prefix": "sa_types.",
    }
    if connection is None:
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
    else:
        context.configure(connection=connection, **options)


def run_on(connection: Connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    # The app's own engine factory: on SQLite it emits BEGIN itself, so a failed migration's DDL rolls back.
    engine = create_engine(Settings(database_url=config.get_main_option("sqlalchemy.url")))
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


if context.is_offline_mode():
    configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
