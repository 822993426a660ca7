"""What the data says about the discrepancies of a review, gathered in a few batched queries (never one per
line): where each counted serial is recorded now and its last movement, the movement log of each item at
its location over the window, and the same items sitting at MRB / count-discrepancy locations. The
causes themselves are derived by server/counts/causes.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.counts.causes import Facts, Moved, UnitNow
from server.counts.sheet import ItemKey
from server.models import InventoryRow, Location, LocationKind, Movement, is_stock

FromLocation = aliased(Location, name="from_location")
ToLocation = aliased(Location, name="to_location")
ParentUnit = aliased(InventoryRow, name="parent_unit")
SET_ASIDE_KINDS = (LocationKind.quarantine.value, LocationKind.count_discrepancy.value)


@dataclass(frozen=True, slots=True)
class Item:
    """One discrepant line: what it is, where, expected vs counted."""

    key: ItemKey
    location_id: UUID
    part_id: UUID
    location: str
    part: str
    tracking: str
    lot: str | None
    serial: str | None
    expected: int
    counted: int
    isolated_here: int


def _moved(row: object) -> Moved:
    return Moved(
        action=row.action, at=row.created_at, actor=row.actor, quantity=row.quantity,
        from_code=row.from_code, to_code=row.to_code, parent_serial=row.parent_serial,
    )


def _movements() -> object:
    return (
        select(
            Movement.part_id, Movement.lot, Movement.serial, Movement.action, Movement.created_at, Movement.actor,
            Movement.quantity, Movement.from_location_id, Movement.to_location_id, Movement.parent_serial,
            FromLocation.code.label("from_code"), ToLocation.code.label("to_code"),
        )
        .outerjoin(FromLocation, FromLocation.id == Movement.from_location_id)
        .outerjoin(ToLocation, ToLocation.id == Movement.to_location_id)
    )


async def gather(session: AsyncSession, items: list[Item], window_days: int, now: datetime) -> dict[object, Facts]:
    if not items:
        return {}
    serials = sorted({item.serial for item in items if item.serial})
    parts = sorted({item.part_id for item in items})
    places = sorted({item.location_id for item in items})
    units, last_moves = await _units(session, serials)
    since = now - timedelta(days=window_days)
    recent = await session.execute(
        _movements()
        .where(
            Movement.created_at >= since, Movement.part_id.in_(parts),
            or_(Movement.from_location_id.in_(places), Movement.to_location_id.in_(places)),
        )
        .order_by(Movement.created_at.desc(), Movement.id.desc())
    )
    by_item: dict[tuple[object, ...], list[Moved]] = defaultdict(list)
    assembled: dict[tuple[object, ...], list[Moved]] = defaultdict(list)
    for row in recent:
        for place in {row.from_location_id, row.to_location_id} - {None}:
            ident = row.serial if row.serial else (row.part_id, row.lot)
            by_item[(place, ident)].append(_moved(row))
            if row.action == "Assemble" and place == row.from_location_id:
                assembled[(place, row.part_id)].append(_moved(row))
    set_aside = await _set_aside(session, parts)
    found = {}
    for item in items:
        ident = item.serial if item.serial else (item.part_id, item.lot)
        here = list(by_item.get((item.location_id, ident), []))
        if item.serial:  # other units of the part built in from here say it is a component too
            here += [m for m in assembled.get((item.location_id, item.part_id), []) if m not in here]
            here.sort(key=lambda m: m.at, reverse=True)
        found[item.key] = Facts(
            location=item.location, tracking=item.tracking, expected=item.expected, counted=item.counted,
            part=item.part, isolated_here=item.isolated_here, unit=units.get(item.serial) if item.serial else None,
            recent=here, last_move=last_moves.get(item.serial) if item.serial else None,
            set_aside=[] if item.serial else set_aside.get((item.part_id, item.lot), []), window_days=window_days,
        )
    return found


async def _units(session: AsyncSession, serials: list[str]) -> tuple[dict[str, UnitNow], dict[str, Moved]]:
    if not serials:
        return {}, {}
    rows = await session.execute(
        select(
            InventoryRow.serial, Location.code, ParentUnit.serial.label("parent"), InventoryRow.scrapped,
            InventoryRow.quantity, InventoryRow.isolated,
        )
        .join(Location, Location.id == InventoryRow.location_id)
        .outerjoin(ParentUnit, ParentUnit.id == InventoryRow.installed_in_id)
        .where(InventoryRow.serial.in_(serials))
    )
    units = {
        serial: UnitNow(location=code, installed_in=parent, scrapped=scrapped, quantity=quantity, isolated=isolated)
        for serial, code, parent, scrapped, quantity, isolated in rows
    }
    last: dict[str, Moved] = {}
    moves = await session.execute(
        _movements().where(Movement.serial.in_(serials)).order_by(Movement.created_at.desc(), Movement.id.desc())
    )
    for row in moves:
        last.setdefault(row.serial, _moved(row))
    return units, last


async def _set_aside(session: AsyncSession, parts: list[UUID]) -> dict[tuple[UUID, str | None], list[tuple[str, int]]]:
    rows = await session.execute(
        select(InventoryRow.part_id, InventoryRow.lot, Location.code, func.sum(InventoryRow.quantity))
        .join(Location, Location.id == InventoryRow.location_id)
        .where(
            Location.kind.in_(SET_ASIDE_KINDS), InventoryRow.part_id.in_(parts), InventoryRow.serial.is_(None),
            InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0,
            is_stock(),
        )
        .group_by(InventoryRow.part_id, InventoryRow.lot, Location.code)
        .order_by(Location.code)
    )
    found: dict[tuple[UUID, str | None], list[tuple[str, int]]] = defaultdict(list)
    for part_id, lot, code, quantity in rows:
        found[(part_id, lot)].append((code, quantity))
    return found
