"""Schema migrations (Alembic) for SQLite and PostgreSQL, run by `gemba serve` and `gemba migrate`.

The schema is created and changed only here; tests that need a quick empty schema may use create_all,
and tests/integration/test_migrations.py proves that upgrading an empty database to head gives
exactly the tables, columns, indexes and constraints of the models.

Several processes may start at once on one empty database (`gemba serve` on a few machines, or
replicas): each migrates under one lock per database, so that one does the work while the others wait,
then find the schema at head and go on. PostgreSQL: a session advisory lock on the migration's own
connection (released with it, however the process ends); SQLite: an exclusive `flock` on a file beside
the database (`<database>.migrate-lock`, released when the process ends).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = int.from_bytes(b"gemba-mg")  # one fixed 64-bit key: Gemba's migrations on this database


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the database's migration lock (see the module's docstring) around a migration on `connection`."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()  # a session lock outlives this transaction; the migration begins its own
        try:
            yield
        finally:
            if connection.in_transaction():
                connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # blocks until the process migrating now is done
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
