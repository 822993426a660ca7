"""The migrations are the schema: upgrading an empty database to head gives exactly what the models
declare — tables, columns, keys, checks and every index, including the expression index that keeps one
inventory row per tracking key — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from advanced_alchemy.base import orm_registry
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import server.counts.models  # noqa: F401
import server.models  # noqa: F401
import server.scan.models  # noqa: F401
import sync.models  # noqa: F401
from server.migrate import upgrade_to_head
from tests.dbs import ENGINES, fresh_database


def schema_of(connection: Connection) -> dict[str, Any]:
    """Everything a migration could get wrong, as plain data."""
    inspector = inspect(connection)
    tables = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        tables[table] = {
            "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),  # added columns come last
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "checks": sorted((c["name"] or "", " ".join(c["sqltext"].split())) for c in inspector.get_check_constraints(table)),
        }
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    else:
        rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
    indexes = {name: " ".join(sql.split()) for name, sql in rows if name != "alembic_version_pkc"}
    return {"tables": tables, "indexes": indexes}


def differences(connection: Connection) -> list[Any]:
    # SQLite reflects advanced-alchemy's BINARY(16) GUIDs as NUMERIC, so Alembic's type comparison would
    # cry wolf there; schema_of() compares the reflected types of both databases instead.
    compare_type = connection.dialect.name != "sqlite"
    context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
    return compare_metadata(context, orm_registry.metadata)


@pytest.mark.parametrize("engine", ENGINES)
async def test_upgrade_to_head_builds_exactly_the_models(engine: str, tmp_path: Path) -> None:
    async with fresh_database(engine, tmp_path) as migrated_url, fresh_database(engine, tmp_path) as declared_url:
        await asyncio.to_thread(upgrade_to_head, migrated_url)
        await asyncio.to_thread(upgrade_to_head, migrated_url)  # a second run is a no-op

        migrated = create_async_engine(migrated_url)
        declared = create_async_engine(declared_url)
        try:
            async with declared.begin() as connection:
                await connection.run_sync(orm_registry.metadata.create_all)
                expected = await connection.run_sync(schema_of)
            async with migrated.connect() as connection:
                actual = await connection.run_sync(schema_of)
                assert await connection.run_sync(differences) == []
                head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        finally:
            await migrated.dispose()
            await declared.dispose()

    assert len(head) == 1
    assert actual["tables"].keys() == expected["tables"].keys()
    for table, shape in expected["tables"].items():
        assert actual["tables"][table] == shape, table
    assert actual["indexes"] == expected["indexes"]
    assert "uq_inventory_bucket" in actual["indexes"]
