"""Schema migrations (Alembic) for SQLite and PostgreSQL, run by `gemba serve` and `gemba migrate`.

The schema is created and changed only here; tests that need a quick empty schema may use create_all,
and tests/integration/test_migrations.py proves that upgrading an empty database to head gives
exactly the tables, columns, indexes and constraints of the models.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


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
