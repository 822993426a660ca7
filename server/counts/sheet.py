"""The count sheet: what should be there, per location, part (with revision), lot and serial, excluding
installed stock (consumed into assemblies), scrapped stock and written-off units. Isolated stock is listed
(it is physically there) with how much of it is isolated.

One line per serialized unit, and one per part and lot (or part, for untracked stock) and location, the
way the `count` op records a line. A blind sheet leaves the expected quantities out (SOP: "hide the
'total quantity' column during the counting process").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import Count, CountKind, CountLocation, CountStatus
from server.counts.schemas import SheetLine
from server.models import InventoryRow, Location, Part
from server.queries import location_subtree

Key = tuple[UUID, UUID, str | None, str | None]  # location id, part id, lot (none for a serial), serial
INLINE_MAX = 1000  # more locations than this are matched by a subquery instead of a list of ids
CSV_COLUMNS = ["location", "part", "revision", "description", "unit", "tracking", "lot", "serial", "expected", "counted"]


def line_key(location_id: UUID, part_id: UUID, lot: str | None, serial: str | None) -> Key:
    return (location_id, part_id, None if serial else lot, serial)


@dataclass(slots=True)
class Expected:
    location_id: UUID
    part_id: UUID
    location: str
    part: str
    revision: str
    description: str
    unit: str
    tracking: str
    lot: str | None
    serial: str | None
    expected: int = 0
    isolated: int = 0
    cost_total: float = 0.0  # Σ quantity × unit cost of the rows whose cost is known
    cost_quantity: int = 0

    @property
    def key(self) -> Key:
        return line_key(self.location_id, self.part_id, self.lot, self.serial)

    @property
    def unit_cost(self) -> float | None:
        return self.cost_total / self.cost_quantity if self.cost_quantity else None


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


async def expected_lines(session: AsyncSession, count: Count) -> list[Expected]:
    """The sheet's lines, ordered by location code, part number, lot and serial."""
    query = (
        select(
            InventoryRow.location_id, InventoryRow.part_id, Location.code, Part.part_number, Part.revision,
            Part.description, Part.unit, InventoryRow.tracking, InventoryRow.lot, InventoryRow.serial,
            InventoryRow.quantity, InventoryRow.isolated, InventoryRow.unit_cost,
        )
        .select_from(InventoryRow)
        .join(Part, Part.id == InventoryRow.part_id)
        .join(Location, Location.id == InventoryRow.location_id)
        .where(InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0)
    )
    if count.kind == CountKind.part:
        query = query.where(InventoryRow.part_id == count.part_id)
    else:
        query = query.where(InventoryRow.location_id.in_(await scope_location_ids(session, count)))
    lines: dict[Key, Expected] = {}
    for (location_id, part_id, code, number, revision, description, unit, tracking, lot, serial, quantity, isolated,
         cost) in await session.execute(query):
        key = line_key(location_id, part_id, lot, serial)
        line = lines.get(key)
        if line is None:
            line = lines[key] = Expected(
                location_id, part_id, code, number, revision, description, unit, tracking, lot if not serial else None,
                serial,
            )
        line.expected += quantity
        if isolated:
            line.isolated += quantity
        if cost is not None:
            line.cost_total += quantity * cost
            line.cost_quantity += quantity
    return sorted(lines.values(), key=lambda e: (e.location, e.part, e.lot or "", e.serial or ""))


def sheet_lines(lines: list[Expected], blind: bool) -> list[SheetLine]:
    return [
        SheetLine(
            location=e.location, part=e.part, revision=e.revision, description=e.description, unit=e.unit,
            tracking=e.tracking, lot=e.lot, serial=e.serial,
            expected=None if blind else e.expected, isolated=None if blind or not e.isolated else e.isolated,
        )
        for e in lines
    ]


def sheet_csv(lines: list[Expected], blind: bool) -> str:
    """The sheet as CSV, with an empty `counted` column to fill in on the floor (no `expected` if blind)."""
    columns = [c for c in CSV_COLUMNS if not (blind and c == "expected")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for e in lines:
        row: list[Any] = [e.location, e.part, e.revision, e.description, e.unit, e.tracking, e.lot or "", e.serial or ""]
        writer.writerow([*row, e.expected, ""] if not blind else [*row, ""])
    return buffer.getvalue()
