"""The count sheet: what should be there, per location, part (with revision), lot and serial, excluding
installed stock (consumed into assemblies), scrapped stock and written-off units. Isolated stock is listed
(it is physically there) with how much of it is isolated.

One line per serialized unit, and one per part and lot (or part, for untracked stock) and location, the
way the `count` op records a line. A blind sheet leaves the expected quantities out (SOP: "hide the
'total quantity' column during the counting process").
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import Count, CountKind, CountLocation, CountStatus
from server.counts.schemas import SheetLine
from server.models import InventoryRow, Location, Part
from server.queries import location_subtree

INLINE_MAX = 1000  # more locations than this are matched by a subquery instead of a list of ids
CHUNK = 500  # ids per lookup query
CSV_COLUMNS = ["location", "part", "revision", "description", "unit", "tracking", "lot", "serial", "expected", "counted"]


@contextmanager
def bulk() -> Iterator[None]:
    """A burst of tens of thousands of small objects (a site's rows): the cyclic garbage collector would walk
    all of them again and again while they are made (a 50k-line review: ~100-200 ms of collections); it
    runs once afterwards instead. Around a whole request's work too (`build_review`, `sheet_lines`): other
    requests served meanwhile also run without cyclic collections for that time (under a second), and
    their cyclic garbage, if any, waits for the next one. Nested or overlapping, the block that turned it
    off turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def raw(session: AsyncSession, column: Any) -> Any:
    """An id column as the driver returns it — bytes on SQLite, asyncpg's UUID on PostgreSQL — instead of a
    `uuid.UUID` built per row in Python: reading 50k rows' ids then costs nothing. Values stay hashable."""
    return type_coerce(column, LargeBinary) if session.bind.dialect.name == "sqlite" else column


@dataclass(frozen=True, slots=True)
class PartInfo:
    number: str
    revision: str
    description: str
    unit: str


async def names(session: AsyncSession, location_ids: set[Any], part_ids: set[Any]) -> tuple[dict[Any, str], dict[Any, PartInfo]]:
    """Location codes and part facts by raw id, a few hundred ids per query."""
    codes: dict[Any, str] = {}
    parts: dict[Any, PartInfo] = {}
    location_id, part_id = raw(session, Location.id), raw(session, Part.id)
    wanted = list(location_ids)
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(select(location_id, Location.code).where(location_id.in_(wanted[start:start + CHUNK])))
        codes.update((i, code) for i, code in rows)
    wanted = list(part_ids)
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(
            select(part_id, Part.part_number, Part.revision, Part.description, Part.unit)
            .where(part_id.in_(wanted[start:start + CHUNK]))
        )
        parts.update((i, PartInfo(number, revision, description, unit)) for i, number, revision, description, unit in rows)
    return codes, parts


async def scope_location_ids(session: AsyncSession, count: Count) -> Any:
    """The locations a location count covers: as when it was started, or (planned) the subtree now. A list
    of ids, or a subquery when there are many. None for a part count (every location)."""
    if count.kind == CountKind.part:
        return None
    if count.status == CountStatus.planned:
        code = await session.scalar(select(Location.code).where(Location.id == count.location_id))
        query = location_subtree(str(code))
    else:
        query = select(CountLocation.location_id).where(CountLocation.count_id == count.id)
    ids = list(await session.scalars(query.limit(INLINE_MAX + 1)))
    return ids if len(ids) <= INLINE_MAX else query


RawKey = tuple[Any, Any, str | None, str | None]  # raw location id, raw part id, lot (none for a serial), serial


@dataclass(slots=True)
class Group:
    """What should be there of one sheet line: its tracking, quantity (of which isolated), and cost."""

    tracking: str
    expected: int = 0
    isolated: int = 0
    cost_total: float = 0.0  # Σ quantity × unit cost of the rows whose cost is known
    cost_quantity: int = 0

    @property
    def unit_cost(self) -> float | None:
        return self.cost_total / self.cost_quantity if self.cost_quantity else None


async def sheet_groups(session: AsyncSession, count: Count, *where: Any) -> dict[RawKey, Group]:
    """The sheet's lines by raw key (`where`: more conditions on the inventory rows). The rows are read
    without joins and with their ids as the driver gives them (see `raw`): a site's 50k rows are read and
    grouped in a fraction of a second."""
    query = select(
        raw(session, InventoryRow.location_id), raw(session, InventoryRow.part_id), InventoryRow.tracking,
        InventoryRow.lot, InventoryRow.serial, InventoryRow.quantity, InventoryRow.isolated, InventoryRow.unit_cost,
    ).where(InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0, *where)
    if count.kind == CountKind.part:
        query = query.where(InventoryRow.part_id == count.part_id)
    else:
        query = query.where(InventoryRow.location_id.in_(await scope_location_ids(session, count)))
    groups: dict[RawKey, Group] = {}
    rows = await (await session.connection()).execute(query)
    with bulk():
        for location_id, part_id, tracking, lot, serial, quantity, isolated, cost in rows:
            key = (location_id, part_id, None if serial else lot, serial)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(tracking)
            group.expected += quantity
            if isolated:
                group.isolated += quantity
            if cost is not None:
                group.cost_total += quantity * cost
                group.cost_quantity += quantity
    return groups


async def sheet_lines(session: AsyncSession, count: Count, blind: bool) -> list[SheetLine]:
    """The sheet's lines, ordered by location code, part number, lot and serial (no quantities if blind)."""
    with bulk():
        groups = await sheet_groups(session, count)
        codes, parts = await names(session, {k[0] for k in groups}, {k[1] for k in groups})
        lines = []
        for (location_id, part_id, lot, serial), g in groups.items():
            part = parts[part_id]
            lines.append(SheetLine(
                location=codes[location_id], part=part.number, revision=part.revision, description=part.description,
                unit=part.unit, tracking=g.tracking, lot=lot, serial=serial, expected=None if blind else g.expected,
                isolated=None if blind or not g.isolated else g.isolated,
            ))
        lines.sort(key=lambda e: (e.location, e.part, e.lot or "", e.serial or ""))
    return lines


def sheet_csv(lines: list[SheetLine], blind: bool) -> str:
    """The sheet as CSV, with an empty `counted` column to fill in on the floor (no `expected` if blind)."""
    columns = [c for c in CSV_COLUMNS if not (blind and c == "expected")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for e in lines:
        row: list[Any] = [e.location, e.part, e.revision, e.description, e.unit, e.tracking, e.lot or "", e.serial or ""]
        writer.writerow([*row, e.expected, ""] if not blind else [*row, ""])
    return buffer.getvalue()
