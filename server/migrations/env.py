"""Alembic environment: runs migrations on the engine named by `server.migrate` (SQLite or PostgreSQL).

Like the app factory, this is wiring: server/schema.py imports every module that defines tables.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from server.db import create_engine
from server.migrate import migration_lock
from server.schema import METADATA
from server.settings import Settings

config = context.config
TARGET = METADATA


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
    with migration_lock(connection):  # another process migrating this database first: wait, then find it done
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
