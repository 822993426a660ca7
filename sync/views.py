"""How parts, locations and inventory rows look to a phone: the `data` of pull changes, and the current
server state shown with a conflict. Status is computed by the database, as everywhere else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from server.models import InventoryRow, Location, Part
from server.rules.status import inventory_status_sql

Parent = aliased(InventoryRow, name="parent_unit")
ParentLocation = aliased(Location, name="parent_location")


def part_data(part: Part) -> dict[str, Any]:
    return {
        "id": str(part.id),
        "part_number": part.part_number,
        "tracking": part.tracking,
        "description": part.description,
        "revision": part.revision,
        "unit": part.unit,
        "serial_pattern": part.serial_pattern,
        "lot_pattern": part.lot_pattern,
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
    }


INVENTORY_COLUMNS = [
    InventoryRow.id,
    Part.part_number.label("part"),
    InventoryRow.part_id,
    Part.unit,
    InventoryRow.tracking,
    InventoryRow.serial,
    InventoryRow.lot,
    Location.code.label("location"),
    InventoryRow.location_id,
    InventoryRow.quantity,
    inventory_status_sql(InventoryRow, Location).label("status"),
    Parent.serial.label("installed_in"),
    InventoryRow.isolated,
    InventoryRow.scrapped,
]


def inventory_select(*extra: Any) -> Select[Any]:
    """Inventory rows as a phone sees them, with `extra` columns (e.g. the version to order by)."""
    return (
        select(*INVENTORY_COLUMNS, *extra)
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
