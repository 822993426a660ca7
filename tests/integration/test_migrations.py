"""The migrations are the schema: upgrading an empty database to head gives exactly what the models
declare — tables, columns, keys, checks and every index, including the expression index that keeps one
inventory row per tracking key — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Boolean, Float, Integer, String, column, func, inspect, select, table, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from server.migrate import alembic_config, upgrade_to_head
from server.models import InventoryRow, LedgerEntry
from server.schema import METADATA
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
    return compare_metadata(context, METADATA)


@pytest.mark.parametrize("engine", ENGINES)
async def test_upgrade_to_head_builds_exactly_the_models(engine: str, tmp_path: Path) -> None:
    async with fresh_database(engine, tmp_path) as migrated_url, fresh_database(engine, tmp_path) as declared_url:
        await asyncio.to_thread(upgrade_to_head, migrated_url)
        await asyncio.to_thread(upgrade_to_head, migrated_url)  # a second run is a no-op

        migrated = create_async_engine(migrated_url)
        declared = create_async_engine(declared_url)
        try:
            async with declared.begin() as connection:
                await connection.run_sync(METADATA.create_all)
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


@pytest.mark.parametrize("engine", ENGINES)
async def test_exact_money_keeps_the_unit_costs_written_as_floats(engine: str, tmp_path: Path) -> None:
    """Unit costs the float column held (rounded to 6 places by the old code) are the same amounts after
    the migration to exact money, as decimals."""
    written = [0.12, 48.0, 0.1 + 0.2, 1234.567891, 999999.999999, None]
    inventory = table(
        "inventory", column("id", GUID()), column("part_id", GUID()), column("location_id", GUID()),
        column("quantity", Integer()), column("tracking", String()), column("scrapped", Boolean()),
        column("isolated", Boolean()), column("version", Integer()), column("unit_cost", Float()),
        column("created_at", DateTimeUTC()), column("updated_at", DateTimeUTC()),
    )
    async with fresh_database(engine, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "c24e7f1a0009")  # before exact money
        database = create_async_engine(url)
        try:
            async with database.begin() as connection:
                if engine == "postgresql":  # the rows' parts and locations do not matter here
                    await connection.execute(text("SET session_replication_role = replica"))
                now = datetime.now(UTC)
                await connection.execute(inventory.insert(), [
                    {"id": uuid4(), "part_id": uuid4(), "location_id": uuid4(), "quantity": n, "tracking": "untracked",
                     "scrapped": False, "isolated": False, "version": n, "unit_cost": cost, "created_at": now,
                     "updated_at": now}
                    for n, cost in enumerate(written, start=1)
                ])
            await asyncio.to_thread(upgrade_to_head, url)
            async with database.connect() as connection:
                kept = (await connection.execute(
                    select(InventoryRow.unit_cost).order_by(InventoryRow.quantity)
                )).scalars().all()
        finally:
            await database.dispose()
    assert kept == [Decimal("0.12"), Decimal("48"), Decimal("0.3"), Decimal("1234.567891"), Decimal("999999.999999"), None]
    assert [str(cost) for cost in kept[:3]] == ["0.12", "48.00", "0.30"]  # as the wire shows them


@pytest.mark.parametrize("engine", ENGINES)
async def test_decimal_quantities_keep_every_integer_and_the_checks_hold(engine: str, tmp_path: Path) -> None:
    """The integer quantities of a database before decimal quantities are the same quantities after it (SQLite
    holds them as millionths now), and the CHECKs still refuse a negative quantity and a unit of 2 — and take
    a unit of 1 and 2.5 m."""
    def rows(n: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        return [{"id": uuid4(), "part_id": uuid4(), "location_id": uuid4(), "quantity": quantity, "tracking": tracking,
                 "serial": serial, "scrapped": False, "isolated": False, "version": n + i, "created_at": now, "updated_at": now}
                for i, (quantity, tracking, serial) in enumerate([(1, "serial", f"SN-{n}"), (0, "serial", f"SN-{n}-0"),
                                                                  (250, "untracked", None), (1_000_000_000, "untracked", None)])]

    inventory = table(
        "inventory", column("id", GUID()), column("part_id", GUID()), column("location_id", GUID()),
        column("quantity", Integer()), column("tracking", String()), column("serial", String()), column("scrapped", Boolean()),
        column("isolated", Boolean()), column("version", Integer()), column("created_at", DateTimeUTC()),
        column("updated_at", DateTimeUTC()),
    )
    ledger = table("ledger", column("id", GUID()), column("op_id", GUID()), column("bucket", String()), column("part_id", GUID()),
                   column("location_id", GUID()), column("delta", Integer()), column("created_at", DateTimeUTC()),
                   column("updated_at", DateTimeUTC()))
    async with fresh_database(engine, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "f7b2d9c10012")  # before decimal quantities
        database = create_async_engine(url)
        try:
            async with database.begin() as connection:
                if engine == "postgresql":
                    await connection.execute(text("SET session_replication_role = replica"))
                await connection.execute(inventory.insert(), rows(1))
                now = datetime.now(UTC)
                await connection.execute(ledger.insert(), [
                    {"id": uuid4(), "op_id": uuid4(), "bucket": "on_hand", "part_id": uuid4(), "location_id": uuid4(),
                     "delta": delta, "created_at": now, "updated_at": now} for delta in (-3, 250)])
            await asyncio.to_thread(upgrade_to_head, url)
            async with database.connect() as connection:
                kept = (await connection.execute(select(InventoryRow.quantity).order_by(InventoryRow.version))).scalars().all()
                deltas = (await connection.execute(select(LedgerEntry.delta).order_by(LedgerEntry.delta))).scalars().all()
                total = await connection.scalar(select(func.sum(LedgerEntry.delta)))
            refused = []
            for change in ({"quantity": 2, "serial": "SN-1"}, {"quantity": -1, "serial": None}):
                async with database.begin() as connection:
                    try:
                        await connection.execute(update(InventoryRow).where(
                            InventoryRow.serial == change["serial"] if change["serial"] else InventoryRow.tracking == "untracked"
                        ).values(quantity=change["quantity"]))
                    except IntegrityError:
                        refused.append(change["quantity"])
                    await connection.rollback()
            async with database.begin() as connection:
                await connection.execute(update(InventoryRow).where(InventoryRow.tracking == "untracked").values(quantity=Decimal("2.5")))
                await connection.execute(update(InventoryRow).where(InventoryRow.serial == "SN-1-0").values(quantity=1))
                after = (await connection.execute(select(InventoryRow.quantity).order_by(InventoryRow.version))).scalars().all()
        finally:
            await database.dispose()
    assert kept == [1, 0, 250, 1_000_000_000] and all(type(q) is int for q in kept)
    assert deltas == [-3, 250] and total == 247
    assert refused == [2, -1]
    assert after == [1, 1, Decimal("2.5"), Decimal("2.5")]


async def through_upgrade(engine: str, url: str, revision: str, fill: Any, read: Any) -> Any:
    """Upgrade to `revision`, `fill(connection)` the tables as they were (keys not checked on PostgreSQL),
    upgrade to head and return what `read(connection)` finds."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
    database = create_async_engine(url)
    try:
        async with database.begin() as connection:
            if engine == "postgresql":
                await connection.execute(text("SET session_replication_role = replica"))
            await fill(connection)
        await asyncio.to_thread(upgrade_to_head, url)
        async with database.connect() as connection:
            return await read(connection)
    finally:
        await database.dispose()


async def add_parts(connection: Any, names: dict[Any, str]) -> None:
    """Untracked parts, as the migrations before costs had them."""
    now = datetime.now(UTC)
    parts = table("parts", column("id", GUID()), column("part_number", String()), column("revision", String()),
                  column("description", String()), column("unit", String()), column("tracking", String()),
                  column("version", Integer()), column("created_at", DateTimeUTC()), column("updated_at", DateTimeUTC()))
    await connection.execute(parts.insert(), [
        {"id": owner, "part_number": name, "revision": "", "description": "", "unit": "ea", "tracking": "untracked",
         "version": 1, "created_at": now, "updated_at": now}
        for owner, name in names.items()
    ])


@pytest.mark.parametrize("engine", ENGINES)
async def test_costs_give_the_stock_held_an_opening_layer_per_part(engine: str, tmp_path: Path) -> None:
    """Stock held before costs (not scrapped, not on order) becomes one layer per part at the weighted average of
    its rows' unit costs (none: 0), so that the part's layers cover its stock from then on."""
    from server.models import CostLayer, Money, QuantityType

    part, other = uuid4(), uuid4()
    inventory = table(
        "inventory", column("id", GUID()), column("part_id", GUID()), column("location_id", GUID()),
        column("quantity", QuantityType()), column("tracking", String()), column("scrapped", Boolean()),
        column("isolated", Boolean()), column("version", Integer()), column("unit_cost", Money()),
        column("created_at", DateTimeUTC()), column("updated_at", DateTimeUTC()),
    )
    async def fill(connection: Any) -> None:
        now = datetime.now(UTC)
        await add_parts(connection, {part: "P-1", other: "P-2"})
        await connection.execute(inventory.insert(), [
            {"id": uuid4(), "part_id": owner, "location_id": uuid4(), "quantity": quantity, "tracking": "untracked",
             "scrapped": scrapped, "isolated": False, "version": n, "unit_cost": None if cost is None else Decimal(cost),
             "created_at": now, "updated_at": now}
            for n, (owner, quantity, cost, scrapped) in enumerate([
                (part, 60, "2.10", False), (part, 50, "2.00", False), (part, 5, "9.00", True), (other, 3, None, False),
            ])
        ])

    async def read(connection: Any) -> Any:
        return (await connection.execute(select(
            CostLayer.part_id, CostLayer.kind, CostLayer.quantity_remaining, CostLayer.unit_cost, CostLayer.average_price,
        ))).all()

    async with fresh_database(engine, tmp_path) as url:
        layers = await through_upgrade(engine, url, "f1d2e3c40013", fill, read)  # from before costs
    assert sorted((p == part, kind, q, cost, average) for p, kind, q, cost, average in layers) == [
        (False, "opening", 3, Decimal("0.00"), Decimal("0.00")),
        (True, "opening", 110, Decimal("2.054545"), Decimal("2.054545")),
    ]


@pytest.mark.parametrize("engine", ENGINES)
async def test_exact_count_values_keep_the_floats_the_counts_wrote(engine: str, tmp_path: Path) -> None:
    """A count's summary values, a count line's unit cost and a count result's unit cost and values, written as
    floats, are the same amounts after the migration to exact money — their 6-place form (0.3, not
    0.30000000000000004), a negative zero 0 — read back as decimals (and shown "0.30", "-15.00" on the wire)."""
    from server.counts.models import Count, CountLine, CountResult

    written = [0.1 + 0.2, 1234.567891, -15.0, -0.0, 999999.999999, 2.5 * 3 / 7, None]
    kept = [Decimal("0.3"), Decimal("1234.567891"), Decimal("-15"), Decimal("0"), Decimal("999999.999999"),
            Decimal("1.071429"), None]
    def stamps() -> list[Any]:
        return [column("created_at", DateTimeUTC()), column("updated_at", DateTimeUTC())]

    counts = table("counts", column("id", GUID()), column("name", String()), column("kind", String()),
                   column("status", String()), column("location_id", GUID()), column("blind", Boolean()),
                   column("closes_locations", Boolean()), column("created_by", String()), column("version", Integer()),
                   *(column(name, Float()) for name in ("value_expected", "value_difference", "value_not_counted")),
                   *stamps())
    lines = table("count_lines", column("id", GUID()), column("op_id", GUID()), column("part_id", GUID()),
                  column("location_id", GUID()), column("tracking", String()), column("counted_quantity", Integer()),
                  column("expected_quantity", Integer()), column("actor", String()), column("version", Integer()),
                  column("superseded", Boolean()), column("unit_cost", Float()), *stamps())
    results = table("count_results", column("id", GUID()), column("count_id", GUID()), column("location_id", GUID()),
                    column("part_id", GUID()), column("expected", Integer()), column("major", Boolean()),
                    column("causes", JsonB),
                    *(column(name, Float()) for name in ("unit_cost", "value_expected", "value_difference")), *stamps())
    async with fresh_database(engine, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "e1a2b3c40018")  # before exact count values
        database = create_async_engine(url)
        try:
            async with database.begin() as connection:
                if engine == "postgresql":  # the rows' counts, parts and locations do not matter here
                    await connection.execute(text("SET session_replication_role = replica"))
                now = {"created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
                await connection.execute(counts.insert(), [
                    {"id": uuid4(), "name": f"C{n}", "kind": "location", "status": "closed", "location_id": uuid4(),
                     "blind": False, "closes_locations": False, "created_by": "sam", "version": n, "value_expected": value,
                     "value_difference": value, "value_not_counted": value, **now}
                    for n, value in enumerate(written)
                ])
                await connection.execute(lines.insert(), [
                    {"id": uuid4(), "op_id": uuid4(), "part_id": uuid4(), "location_id": uuid4(), "tracking": "lot",
                     "counted_quantity": 1, "expected_quantity": 1, "actor": "sam", "version": n, "superseded": False,
                     "unit_cost": value, **now}
                    for n, value in enumerate(written)
                ])
                await connection.execute(results.insert(), [  # NOT NULL there
                    {"id": uuid4(), "count_id": uuid4(), "location_id": uuid4(), "part_id": uuid4(), "expected": n,
                     "major": False, "causes": [], "unit_cost": value, "value_expected": value, "value_difference": value,
                     **now}
                    for n, value in enumerate(written[:-1])
                ])
            await asyncio.to_thread(upgrade_to_head, url)
            async with database.connect() as connection:
                summaries = (await connection.execute(
                    select(Count.value_expected, Count.value_difference, Count.value_not_counted).order_by(Count.version)
                )).all()
                costs = (await connection.execute(select(CountLine.unit_cost).order_by(CountLine.version))).scalars().all()
                recorded = (await connection.execute(
                    select(CountResult.unit_cost, CountResult.value_expected, CountResult.value_difference)
                    .order_by(CountResult.expected)
                )).all()
            await asyncio.to_thread(command.downgrade, alembic_config(url), "e1a2b3c40018")  # and back: floats again
            await database.dispose()  # asyncpg's statements prepared before the change
            async with database.connect() as connection:
                floats = (await connection.execute(select(lines.c.unit_cost).order_by(lines.c.version))).scalars().all()
        finally:
            await database.dispose()
    assert [tuple(row) for row in summaries] == [(value, value, value) for value in kept]
    assert costs == kept
    assert [tuple(row) for row in recorded] == [(value, value, value) for value in kept[:-1]]
    assert [str(value) for value in costs[:4]] == ["0.30", "1234.567891", "-15.00", "0.00"]
    assert floats == [0.3, 1234.567891, -15.0, 0.0, 999999.999999, 1.071429, None]


@pytest.mark.parametrize("engine", ENGINES)
async def test_cost_holdings_spread_each_parts_layers_over_its_rows_oldest_first(engine: str, tmp_path: Path) -> None:
    """The layers that exist when holdings come are held by the rows of their part's stock: the oldest layer by
    the oldest rows, each row given what it holds before the next; rows scrapped, removed or empty hold none."""
    from server.models import CostHolding, Money, QuantityType

    part, layer_old, layer_new = uuid4(), uuid4(), uuid4()
    rows = [uuid4() for _ in range(4)]
    now = datetime.now(UTC)
    inventory = table(
        "inventory", column("id", GUID()), column("part_id", GUID()), column("location_id", GUID()),
        column("quantity", QuantityType()), column("tracking", String()), column("scrapped", Boolean()),
        column("removed", Boolean()), column("isolated", Boolean()), column("version", Integer()),
        column("created_at", DateTimeUTC()), column("updated_at", DateTimeUTC()),
    )
    layers = table(
        "cost_layers", column("id", GUID()), column("part_id", GUID()), column("op_id", GUID()),
        column("version", Integer()), column("kind", String()), column("received_at", DateTimeUTC()),
        column("quantity_received", QuantityType()), column("quantity_remaining", QuantityType()),
        column("unit_cost", Money()), column("average_price", Money()), column("created_at", DateTimeUTC()),
        column("updated_at", DateTimeUTC()),
    )
    async def fill(connection: Any) -> None:
        await add_parts(connection, {part: "P-1"})
        await connection.execute(inventory.insert(), [
            {"id": row, "part_id": part, "location_id": uuid4(), "quantity": quantity, "tracking": "untracked",
             "scrapped": scrapped, "removed": False, "isolated": False, "version": n,
             "created_at": now.replace(microsecond=n), "updated_at": now}
            for n, (row, quantity, scrapped) in enumerate(zip(rows, (30, 5, 80, 0), (False, True, False, False)))
        ])
        await connection.execute(layers.insert(), [
            {"id": layer, "part_id": part, "op_id": uuid4(), "version": version, "kind": "receipt",
             "received_at": now, "quantity_received": received, "quantity_remaining": left,
             "unit_cost": cost, "average_price": cost, "created_at": now, "updated_at": now}
            for layer, version, received, left, cost in ((layer_old, 1, 60, 60, Decimal("2.10")),
                                                         (layer_new, 2, 50, 50, Decimal("2.00")))
        ])

    async def read(connection: Any) -> Any:
        return (await connection.execute(
            select(CostHolding.layer_id, CostHolding.inventory_id, CostHolding.quantity)
        )).all()

    async with fresh_database(engine, tmp_path) as url:
        held = await through_upgrade(engine, url, "c0575a170014", fill, read)  # from before holdings
    assert sorted(held, key=lambda h: (h.layer_id != layer_old, rows.index(h.inventory_id))) == [
        (layer_old, rows[0], 30), (layer_old, rows[2], 30), (layer_new, rows[2], 50),
    ]


async def _part_site_and_shelf(connection: Any, part: UUID, site: UUID, shelf: UUID) -> None:
    """Part P-1 (untracked), locations SITE and SITE/S1 in it: where the stock-sum migrations' tests start."""
    from sqlalchemy import insert

    from server.models import Location, Part

    await connection.execute(insert(Part.__table__).values(id=part, part_number="P-1", tracking="untracked"))
    await connection.execute(insert(Location.__table__).values(id=site, code="SITE"))
    await connection.execute(insert(Location.__table__).values(id=shelf, code="SITE/S1", parent_id=site))


@pytest.mark.parametrize("engine", ENGINES)
async def test_constraint_levels_are_filled_from_the_rows_and_kept_from_then_on(engine: str, tmp_path: Path) -> None:
    """The migrations that add the stock levels (0020: the tree of locations; 0021: the sums on each constraint,
    server/levels.py) fill them from the stock and the constraints already there, and the triggers keep them for
    what is written after; `stock_levels` (0020's sums for every part and location) is gone."""
    from sqlalchemy import insert

    from server.purchasing.models import StockConstraint

    part, site, shelf = uuid4(), uuid4(), uuid4()
    row = {"part_id": part, "tracking": "untracked", "scrapped": False, "removed": False, "isolated": False, "version": 1}
    constraint = {"part_id": part, "min_quantity": 1, "updated_by": "sam", "created_at": datetime.now(UTC),
                  "updated_at": datetime.now(UTC)}
    async with fresh_database(engine, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "f2b3c4d50019")  # before the stock levels
        database = create_async_engine(url)
        try:
            async with database.begin() as connection:
                await _part_site_and_shelf(connection, part, site, shelf)
                for values in ({"location_id": shelf, "quantity": 7},
                               {"location_id": shelf, "quantity": 2, "isolated": True},  # Unavailable
                               {"location_id": site, "quantity": 4, "po_state": "open", "po_line_id": uuid4()}):
                    await connection.execute(insert(InventoryRow.__table__).values({**row, "id": uuid4(), **values}))
                await connection.execute(insert(StockConstraint.__table__).values(  # only the columns it had then
                    {**constraint, "id": uuid4(), "location_id": site}))
            await asyncio.to_thread(command.upgrade, alembic_config(url), "a3c4d5e60020")
            await asyncio.to_thread(upgrade_to_head, url)
            async with database.begin() as connection:
                await connection.execute(insert(InventoryRow.__table__).values(
                    {**row, "id": uuid4(), "location_id": site, "quantity": 1, "serial": "SN-1", "tracking": "serial"}))
                await connection.execute(insert(StockConstraint.__table__).values(
                    {**constraint, "id": uuid4(), "location_id": shelf}))  # summed by its trigger
            async with database.connect() as connection:
                c = StockConstraint.__table__.c
                levels = {place: (available, on_order) for place, available, on_order
                          in await connection.execute(select(c.location_id, c.available, c.on_order))}
                tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await database.dispose()
    assert levels == {site: (8, 4), shelf: (7, 0)}
    assert "stock_levels" not in tables and "location_tree" in tables


@pytest.mark.parametrize("engine", ENGINES)
async def test_stock_values_are_filled_from_the_holdings_and_kept_from_then_on(engine: str, tmp_path: Path) -> None:
    """The migration that adds the stock values (server/costs/values.py) fills them from the holdings already there
    (rows scrapped hold nothing that counts), and its triggers keep them for what is written after."""
    from sqlalchemy import insert

    from server.costs.values import stock_values, value_of
    from server.models import CostHolding, CostLayer

    part, site, shelf, layer = uuid4(), uuid4(), uuid4(), uuid4()
    rows = {"on the shelf": uuid4(), "scrapped": uuid4(), "at the site": uuid4()}
    now = datetime.now(UTC)
    row = {"part_id": part, "tracking": "untracked", "scrapped": False, "removed": False, "isolated": False, "version": 1}
    async with fresh_database(engine, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "b4c5d6e70021")  # before the stock values
        database = create_async_engine(url)
        try:
            async with database.begin() as connection:
                await _part_site_and_shelf(connection, part, site, shelf)
                for key, location, quantity, scrapped in (("on the shelf", shelf, 7, False), ("scrapped", shelf, 2, True),
                                                          ("at the site", site, Decimal("0.5"), False)):
                    await connection.execute(insert(InventoryRow.__table__).values(
                        {**row, "id": rows[key], "location_id": location, "quantity": quantity, "scrapped": scrapped}))
                await connection.execute(insert(CostLayer.__table__).values(
                    id=layer, part_id=part, op_id=uuid4(), version=1, kind="receipt", received_at=now,
                    quantity_received=10, quantity_remaining=Decimal("7.5"), unit_cost=Decimal("2.123457"),
                    average_price=Decimal("2.123457")))
                for key, quantity in (("on the shelf", 7), ("scrapped", 2), ("at the site", Decimal("0.5"))):
                    await connection.execute(insert(CostHolding.__table__).values(
                        id=uuid4(), layer_id=layer, inventory_id=rows[key], quantity=quantity))
            await asyncio.to_thread(upgrade_to_head, url)
            async with database.connect() as connection:
                filled = {place: (quantity, value_of(limbs))
                          for place, _, quantity, *limbs in await connection.execute(select(stock_values))}
            async with database.begin() as connection:  # 3 of the shelf's 7 move to the site's row
                await connection.execute(CostHolding.__table__.update().where(CostHolding.inventory_id == rows["on the shelf"])
                                         .values(quantity=4))
                await connection.execute(CostHolding.__table__.update().where(CostHolding.inventory_id == rows["at the site"])
                                         .values(quantity=Decimal("3.5")))
            async with database.connect() as connection:
                kept = {place: (quantity, value_of(limbs))
                        for place, _, quantity, *limbs in await connection.execute(select(stock_values))}
        finally:
            await database.dispose()
    assert filled == {site: (Decimal("7.5"), Decimal("15.9259275")), shelf: (7, Decimal("14.864199"))}
    assert kept == {site: (Decimal("7.5"), Decimal("15.9259275")), shelf: (4, Decimal("8.493828"))}
