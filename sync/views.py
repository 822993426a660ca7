"""How parts, locations and inventory rows look to a phone: the `data` of pull changes, and the current
server state shown with a conflict. Status is computed by the database, as everywhere else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from server.rules.quantities import part_places
from server.counts.models import Count, CountLine
from server.models import CostLayer, InventoryRow, Location, Part
from server.ops.holdings import NEWEST_FIRST
from server.rules.money import money_text
from server.rules.status import inventory_status_sql

Parent = aliased(InventoryRow, name="parent_unit")
ParentLocation = aliased(Location, name="parent_location")


# the part's average price: that of its newest cost layer (server/ops/costs.py; a pull sends a part again when it
# has a newer layer: sync/pull.py)
PART_AVERAGE = (
    select(CostLayer.average_price).where(CostLayer.part_id == Part.id)
    .order_by(*NEWEST_FIRST).limit(1).correlate(Part).scalar_subquery()
)


def parts_select() -> Select[Any]:
    """Parts with their average price: rows of (Part, average) for part_data."""
    return select(Part, PART_AVERAGE.label("average_price"))


def part_data(part: Part, average: Decimal | None) -> dict[str, Any]:
    """`average_price`: the decimal string the phone's Receive offers as the unit cost (null before any cost)."""
    return {
        "id": str(part.id),
        "part_number": part.part_number,
        "tracking": part.tracking,
        "description": part.description,
        "revision": part.revision,
        "unit": part.unit,
        "places": part_places(part),
        "packs": part.packs or [],
        "serial_pattern": part.serial_pattern,
        "lot_pattern": part.lot_pattern,
        "average_price": money_text(average) if average is not None else None,
    }


def locations_select() -> Select[Any]:
    return select(Location, ParentLocation.code).outerjoin(ParentLocation, ParentLocation.id == Location.parent_id)


def location_data(location: Location, parent_code: str | None) -> dict[str, Any]:
    return {
        "id": str(location.id),
        "code": location.code,
        "name": location.name,
        "parent": parent_code,
        "kind": location.kind,
        "available": location.available,
        "count_locked": location.count_locked,
        "wip": location.wip,  # an open (or failed) run's WIP location, `<location>/<run>`: the phone's runs
    }


INVENTORY_COLUMNS = [
    InventoryRow.id,
    Part.part_number.label("part"),
    InventoryRow.part_id,
    Part.unit,
    InventoryRow.tracking,
    InventoryRow.serial,
    InventoryRow.lot,
    InventoryRow.expiry,  # the lot's expiry (ISO date or null): the phone's FEFO suggestions in moves and kits
    Location.code.label("location"),
    InventoryRow.location_id,
    InventoryRow.quantity,
    inventory_status_sql(InventoryRow, Location).label("status"),
    Parent.serial.label("installed_in"),
    InventoryRow.isolated,
    InventoryRow.scrapped,
]


def inventory_select(*extra: Any, columns: list[Any] = INVENTORY_COLUMNS) -> Select[Any]:
    """Inventory rows as a phone sees them, with `extra` columns (e.g. the version to order by). `columns`:
    INVENTORY_COLUMNS, or the same read another way (pull reads the ids as text)."""
    return (
        select(*columns, *extra)
        .select_from(InventoryRow)
        .join(Part, Part.id == InventoryRow.part_id)
        .join(Location, Location.id == InventoryRow.location_id)
        .outerjoin(Parent, Parent.id == InventoryRow.installed_in_id)
    )


def inventory_data(row: Any) -> dict[str, Any]:
    mapping = row._mapping
    data = {column.key: mapping[column.key] for column in INVENTORY_COLUMNS}
    for key in ("id", "part_id", "location_id"):
        data[key] = str(data[key])
    return data


def is_gone(row: Any) -> bool:
    """An emptied lot/untracked row is kept on the server (history) but is nothing a phone needs."""
    return row.quantity == 0 and row.serial is None


# ---- cycle counts: what a phone needs to count offline ----------------------------------------------
CountLocation_ = aliased(Location, name="count_location")
CountPart = aliased(Part, name="count_part")


def counts_select() -> Select[Any]:
    return (
        select(Count, CountLocation_.code, CountPart.part_number)
        .outerjoin(CountLocation_, CountLocation_.id == Count.location_id)
        .outerjoin(CountPart, CountPart.id == Count.part_id)
    )


def count_data(count: Count, location_code: str | None, part_number: str | None) -> dict[str, Any]:
    """An open count (or in review: recounts are taken). `location`: the top of the subtree it covers."""
    return {
        "id": str(count.id), "name": count.name, "kind": count.kind, "status": count.status, "blind": count.blind,
        "closes_locations": count.closes_locations, "location": location_code, "part": part_number,
        "due": count.due_date.isoformat() if count.due_date else None,
    }


def count_lines_select() -> Select[Any]:
    return (
        select(
            CountLine.id, CountLine.count_id, Location.code.label("location"), Part.part_number.label("part"),
            CountLine.tracking, CountLine.serial, CountLine.lot, CountLine.counted_quantity, CountLine.actor,
            CountLine.version,
        )
        .join(Location, Location.id == CountLine.location_id)
        .join(Part, Part.id == CountLine.part_id)
        .join(Count, Count.id == CountLine.count_id)
    )


def count_line_data(row: Any) -> dict[str, Any]:
    """A line counted (by anyone) in an open count: no expected quantity (a count may be blind)."""
    return {
        "count_id": str(row.count_id), "location": row.location, "part": row.part, "tracking": row.tracking,
        "serial": row.serial, "lot": row.lot, "counted_quantity": row.counted_quantity, "actor": row.actor,
    }
