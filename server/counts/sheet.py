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
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import Count, CountKind, CountLocation, CountStatus
from server.counts.schemas import SheetLine
from server.db.codecs import raw_id, raw_money
from server.models import InventoryRow, Location, Number, Part, canon, is_stock
from server.queries import location_subtree
from server.rules.money import EXACT, exact, times

INLINE_MAX = 1000  # more locations than this are matched by a subquery instead of a list of ids
CHUNK = 500  # ids per lookup query
CSV_COLUMNS = ["location", "part", "revision", "description", "unit", "tracking", "lot", "serial", "expected", "counted"]


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
    location_id, part_id = raw_id(session, Location.id), raw_id(session, Part.id)
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


class ItemKey(msgspec.Struct, frozen=True, gc=False):
    """One item of a count, a sheet line: where, what, and which lot (none for a serial) or serial. The ids as
    the driver gives them (server/db/codecs.py `raw_id`). Hashable; not tracked by the cyclic garbage
    collector (a site has tens of thousands)."""

    location_id: Any
    part_id: Any
    lot: str | None
    serial: str | None


class Group(msgspec.Struct, gc=False):
    """What should be there of one sheet line: its tracking, quantity (of which isolated), and cost. Not
    tracked by the cyclic garbage collector (it holds no objects): a site has tens of thousands."""

    tracking: str
    expected: int = 0
    isolated: int = 0
    cost_total: Decimal = Decimal(0)  # Σ quantity × unit cost of the rows whose cost is known, exact
    cost_quantity: Number = 0

    @property
    def unit_cost(self) -> Decimal | None:
        """The quantity-weighted unit cost, to 6 places (as the `count` op records it: server/counts/lines.py)."""
        return exact(EXACT.divide(self.cost_total, Decimal(self.cost_quantity))) if self.cost_quantity else None


async def sheet_groups(session: AsyncSession, count: Count, *where: Any) -> dict[ItemKey, Group]:
    """The sheet's lines by item (`where`: more conditions on the inventory rows). The rows are read without
    joins and with their ids as the driver gives them (`raw_id`): a site's 50k rows are read and grouped in a
    fraction of a second."""
    query = select(
        raw_id(session, InventoryRow.location_id), raw_id(session, InventoryRow.part_id), InventoryRow.tracking,
        InventoryRow.lot, InventoryRow.serial, InventoryRow.quantity, InventoryRow.isolated,
        raw_money(session, InventoryRow.unit_cost),
    ).where(
        InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0, is_stock(),
        *where,
    )
    if count.kind == CountKind.part:
        query = query.where(InventoryRow.part_id == count.part_id)
    else:
        query = query.where(InventoryRow.location_id.in_(await scope_location_ids(session, count)))
    groups: dict[ItemKey, Group] = {}
    rows = await (await session.connection()).execute(query)
    for location_id, part_id, tracking, lot, serial, quantity, isolated, cost in rows:
        key = ItemKey(location_id, part_id, None if serial else lot, serial)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(tracking)
        group.expected = canon(group.expected + quantity)  # exact (a decimal quantity's sum in its one form)
        if isolated:
            group.isolated = canon(group.isolated + quantity)
        if cost is not None:
            group.cost_total = EXACT.add(group.cost_total, times(quantity, Decimal(cost)))
            group.cost_quantity = canon(group.cost_quantity + quantity)
    return groups


async def sheet_lines(session: AsyncSession, count: Count, blind: bool) -> list[SheetLine]:
    """The sheet's lines, ordered by location code, part number, lot and serial (no quantities if blind)."""
    groups = await sheet_groups(session, count)
    codes, parts = await names(session, {k.location_id for k in groups}, {k.part_id for k in groups})
    lines = []
    for key, g in groups.items():
        part = parts[key.part_id]
        lines.append(SheetLine(
            location=codes[key.location_id], part=part.number, revision=part.revision, description=part.description,
            unit=part.unit, tracking=g.tracking, lot=key.lot, serial=key.serial, expected=None if blind else g.expected,
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
