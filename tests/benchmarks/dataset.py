"""A large, realistic inventory, bulk-loaded straight into the tables (no ORM, no ops): SQLite through
sqlite3 `executemany`, PostgreSQL through asyncpg `COPY`.

Shape (deterministic for a given seed):
- ~2,000 locations: 2 sites x 10 areas x 10 shelves x 9 bins; ~3% of the bins are quarantine
  locations marked unavailable. 90% of the stock sits in bins, 10% directly on shelves.
- 5,000 parts: 40% serial-, 30% lot-tracked, 30% untracked.
- rows: 60% serialized units, 25% lots, 15% untracked buckets. Units: 2% scrapped, 2% isolated,
  1% written off (quantity 0), 5% installed in another unit (carrying its location). Lots and
  untracked: 3% emptied (quantity 0), 2% isolated, 1% scrapped, 1% of lots installed.
- movements: an Add for every row, an Assemble for every installed row, a Move for 20% of the units.

Indexes other than the unique constraints are dropped during the load and rebuilt after it (what a
restore would do); the schema itself comes from the models (`common.create_schema`).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import uuid_utils

from server import levels
from server.costs import values
from server.models import to_scaled

SITES, AREAS, SHELVES, BINS = 2, 10, 10, 9
PARTS = 5000
CHUNK = 50_000
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=700)

LOCATION_COLUMNS = (
    "id", "code", "name", "parent_id", "kind", "available", "count_locked", "version", "rows_version", "created_at",
    "updated_at",
)
PART_COLUMNS = (
    "id", "part_number", "revision", "description", "unit", "tracking", "serial_pattern", "lot_pattern", "version",
    "created_at", "updated_at",
)
INVENTORY_COLUMNS = (
    "id", "part_id", "location_id", "quantity", "serial", "lot", "tracking", "supplier_id", "unit_cost",
    "installed_in_id", "scrapped", "isolated", "isolation_reason", "package_ref", "po_line", "version",
    "created_at", "updated_at", "removed",
)
MOVEMENT_COLUMNS = (
    "id", "op_id", "op_type", "action", "actor", "device_id", "reason", "part_id", "inventory_id", "serial", "lot",
    "quantity", "from_location_id", "to_location_id", "parent_serial", "created_at", "updated_at",
)
BOOL_COLUMNS = {"available", "count_locked", "scrapped", "isolated", "removed"}
UUID_COLUMNS = {
    "id", "parent_id", "part_id", "location_id", "supplier_id", "installed_in_id", "op_id", "device_id",
    "inventory_id", "from_location_id", "to_location_id",
}


def new_id() -> bytes:
    return uuid_utils.uuid7().bytes


@dataclass
class Catalog:
    """What the benchmarks need to know about the generated data."""

    locations: list[tuple[Any, ...]] = field(default_factory=list)
    parts: list[tuple[Any, ...]] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    rows_per_area: dict[str, int] = field(default_factory=dict)
    serial_sample: list[str] = field(default_factory=list)
    inventory_rows: int = 0
    movement_rows: int = 0


class Generator:
    def __init__(self, rows: int, seed: int = 1) -> None:
        self.rows = rows
        self.rng = random.Random(seed)
        self.catalog = Catalog()
        self._bins: list[tuple[bytes, int]] = []  # (location id, area index)
        self._shelves: list[tuple[bytes, int]] = []
        self._build_locations()
        self._build_parts()

    # ---- the catalog -----------------------------------------------------------------------------
    def _location(self, code: str, parent: bytes | None, *, kind: str = "normal", available: bool = True) -> bytes:
        lid = new_id()
        self.catalog.locations.append((lid, code, code, parent, kind, available, False, 0, 0, START, START))
        return lid

    def _build_locations(self) -> None:
        for s in range(1, SITES + 1):
            site = f"S{s}"
            sid = self._location(site, None)
            self.catalog.sites.append(site)
            for a in range(1, AREAS + 1):
                area = f"{site}/A{a:02d}"
                aid = self._location(area, sid)
                area_index = len(self.catalog.areas)
                self.catalog.areas.append(area)
                self.catalog.rows_per_area[area] = 0
                for h in range(1, SHELVES + 1):
                    shelf = f"{area}/SH{h:02d}"
                    hid = self._location(shelf, aid)
                    self._shelves.append((hid, area_index))
                    for b in range(1, BINS + 1):
                        quarantine = self.rng.random() < 0.03
                        bid = self._location(
                            f"{shelf}/B{b}", hid, kind="quarantine" if quarantine else "normal", available=not quarantine
                        )
                        self._bins.append((bid, area_index))

    def _build_parts(self) -> None:
        for i in range(PARTS):
            tracking = "serial" if i < PARTS * 0.4 else "lot" if i < PARTS * 0.7 else "untracked"
            self.catalog.parts.append(
                (new_id(), f"P-{i:05d}", "A", f"bench part {i} ({tracking})", "ea", tracking, None, None, 0, START, START)
            )
        self._serial_parts = [p for p in self.catalog.parts if p[5] == "serial"]
        self._lot_parts = [p for p in self.catalog.parts if p[5] == "lot"]
        self._untracked_parts = [p for p in self.catalog.parts if p[5] == "untracked"]

    # ---- stock -----------------------------------------------------------------------------------
    def _place(self) -> tuple[bytes, int]:
        return self.rng.choice(self._bins) if self.rng.random() < 0.9 else self.rng.choice(self._shelves)

    def chunks(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """(inventory rows, movement rows) in chunks, in creation order."""
        rng, n = self.rng, self.rows
        n_serial, n_lot = int(n * 0.6), int(n * 0.25)
        kinds = ["serial"] * n_serial + ["lot"] * n_lot + ["untracked"] * (n - n_serial - n_lot)
        rng.shuffle(kinds)
        parents: list[tuple[bytes, str, bytes, int]] = []  # free units that can take components
        buckets: set[tuple[bytes, bytes, bool, bool]] = set()
        sample_every = max(1, n_serial // 5000)
        inventory: list[tuple[Any, ...]] = []
        movements: list[tuple[Any, ...]] = []
        for i, kind in enumerate(kinds):
            at = START + SPAN * (i / n)
            rid = new_id()
            location, area = self._place()
            installed_in = parent_serial = None
            scrapped = isolated = False
            roll = rng.random()
            if kind == "serial":
                part = rng.choice(self._serial_parts)
                serial, lot, quantity = f"{part[1]}-{i:07d}", None, 1
                if roll < 0.05 and parents:
                    installed_in, parent_serial, location, area = rng.choice(parents)
                elif roll < 0.07:
                    scrapped = True
                elif roll < 0.09:
                    isolated = True
                elif roll < 0.10:
                    quantity = 0
                else:
                    parents.append((rid, serial, location, area))
                    if len(parents) > 2000:
                        parents[rng.randrange(len(parents))] = parents.pop()
                if i % sample_every == 0:
                    self.catalog.serial_sample.append(serial)
            else:
                part = rng.choice(self._lot_parts if kind == "lot" else self._untracked_parts)
                serial, lot = None, (f"L{i:08d}" if kind == "lot" else None)
                quantity = rng.randint(1, 500)
                if roll < 0.03:
                    quantity = 0
                elif roll < 0.05:
                    isolated = True
                elif roll < 0.06:
                    scrapped = True
                elif roll < 0.07 and kind == "lot" and parents:
                    installed_in, parent_serial, location, area = rng.choice(parents)
                if kind == "untracked":
                    key = (part[0], location, scrapped, isolated)
                    while key in buckets:
                        location, area = self._place()
                        key = (part[0], location, scrapped, isolated)
                    buckets.add(key)
            self.catalog.rows_per_area[self.catalog.areas[area]] += 1
            inventory.append(
                (rid, part[0], location, quantity, serial, lot, kind, None, round(rng.uniform(0.1, 900), 2),
                 installed_in, scrapped, isolated, "bench hold" if isolated else None, None, None, i + 1, at, at, False)
            )
            op = new_id()
            movements.append(
                (new_id(), op, "receive", "Add", "bench", None, None, part[0], rid, serial, lot, quantity, None,
                 location, None, at, at)
            )
            if installed_in is not None:
                movements.append(
                    (new_id(), new_id(), "install", "Assemble", "bench", None, None, part[0], rid, serial, lot,
                     quantity, location, None, parent_serial, at, at)
                )
            elif kind == "serial" and roll > 0.8:
                other, _ = self._place()
                movements.append(
                    (new_id(), new_id(), "move", "Move", "bench", None, None, part[0], rid, serial, lot, quantity,
                     other, location, None, at, at)
                )
            if len(inventory) >= CHUNK:
                yield inventory, movements
                inventory, movements = [], []
        if inventory:
            yield inventory, movements


# ---- SQLite ----------------------------------------------------------------------------------------
def _sqlite_value(column: str, value: Any) -> Any:
    if column == "quantity":
        return to_scaled(value)  # QuantityType on SQLite: millionths in an INTEGER
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_rows(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_sqlite_value(c, v) for c, v in zip(columns, row, strict=True)) for row in rows]


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def load_sqlite(path: str, generator: Generator) -> Catalog:
    """Bulk-load into a SQLite file whose schema already exists."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA cache_size=-400000")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ('inventory', 'movements')"
    ).fetchall()
    con.execute("BEGIN")
    for name, _ in indexes:
        con.execute(f"DROP INDEX {name}")
    for sql in [*levels.drop_triggers("sqlite"), *values.drop_triggers("sqlite")]:  # the sums the database keeps:
        con.execute(sql)  # made once after the load, not row by row
    catalog = generator.catalog
    con.executemany(_insert_sql("locations", LOCATION_COLUMNS), _sqlite_rows(LOCATION_COLUMNS, catalog.locations))
    con.executemany(_insert_sql("parts", PART_COLUMNS), _sqlite_rows(PART_COLUMNS, catalog.parts))
    inventory_sql, movement_sql = _insert_sql("inventory", INVENTORY_COLUMNS), _insert_sql("movements", MOVEMENT_COLUMNS)
    for inventory, movements in generator.chunks():
        con.executemany(inventory_sql, _sqlite_rows(INVENTORY_COLUMNS, inventory))
        con.executemany(movement_sql, _sqlite_rows(MOVEMENT_COLUMNS, movements))
        catalog.inventory_rows += len(inventory)
        catalog.movement_rows += len(movements)
    for _, sql in indexes:
        con.execute(sql)
    for sql in [*levels.rebuild(), *levels.create_triggers("sqlite"), *values.rebuild("sqlite"),
                *values.create_triggers("sqlite")]:
        con.execute(sql)
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return catalog


# ---- PostgreSQL --------------------------------------------------------------------------------------
def _pg_value(column: str, value: Any) -> Any:
    if column in UUID_COLUMNS and value is not None:
        return uuid.UUID(bytes=value)
    return value


def _pg_rows(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_pg_value(c, v) for c, v in zip(columns, row, strict=True)) for row in rows]


async def load_postgres(dsn: str, generator: Generator) -> Catalog:
    """Bulk-load with COPY into a PostgreSQL database whose schema already exists."""
    con = await asyncpg.connect(dsn)
    try:
        indexes = await con.fetch(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename IN ('inventory', 'movements')
                 AND i.indexname NOT IN (SELECT conname FROM pg_constraint)"""
        )
        async with con.transaction():
            await con.execute("SET LOCAL session_replication_role = replica")  # no FK triggers during the load
            for row in indexes:
                await con.execute(f'DROP INDEX "{row["indexname"]}"')
            catalog = generator.catalog
            await con.copy_records_to_table(
                "locations", records=_pg_rows(LOCATION_COLUMNS, catalog.locations), columns=LOCATION_COLUMNS
            )
            await con.copy_records_to_table("parts", records=_pg_rows(PART_COLUMNS, catalog.parts), columns=PART_COLUMNS)
            for inventory, movements in generator.chunks():
                await con.copy_records_to_table(
                    "inventory", records=_pg_rows(INVENTORY_COLUMNS, inventory), columns=INVENTORY_COLUMNS
                )
                await con.copy_records_to_table(
                    "movements", records=_pg_rows(MOVEMENT_COLUMNS, movements), columns=MOVEMENT_COLUMNS
                )
                catalog.inventory_rows += len(inventory)
                catalog.movement_rows += len(movements)
            for row in indexes:
                await con.execute(row["indexdef"])
            for sql in [*levels.rebuild(), *values.rebuild("postgresql")]:  # the load ran without triggers (replica):
                await con.execute(sql)  # the sums the database keeps made once
        await con.execute("VACUUM ANALYZE")  # what autovacuum would have done by the time anyone queries
    finally:
        await con.close()
    return catalog
