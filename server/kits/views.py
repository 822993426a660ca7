"""How a kit's line looks to a phone: the `kit_line` entity of a pull (sync/pull.py), so that an offline phone
can pick a kit.

A line is `put` while its kit is open and `del` once the kit is completed or cancelled. Its `data`: `kit`
(the number), `line`, `run`, `location` (where the kit is staged), `tote` (where picks go), `part`, `tracking`
(the part's), `unit`, `quantity`, `picked`, `remaining`. Where to pick from the phone works out from its own
copy of the inventory (the server's suggestions are in GET /api/kits/{number}).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, true
from sqlalchemy.orm import aliased

from server.kits.models import Kit, KitLine, KitStatus
from server.models import Location, Part
from server.rules.kits import remaining

Staging = aliased(Location, name="kit_staging")
Tote = aliased(Location, name="kit_tote")


def kit_lines_select() -> Select[Any]:
    return (
        select(KitLine, Kit.number, Kit.status, Kit.run, Staging.code, Tote.code, Part.part_number, Part.tracking,
               Part.unit)
        .join(Kit, Kit.id == KitLine.kit_id)
        .join(Staging, Staging.id == Kit.location_id)
        .join(Tote, Tote.id == Kit.tote_id)
        .join(Part, Part.id == KitLine.part_id)
    )


def open_kits_only(after: int) -> Any:
    """A client starting afresh needs only the lines of open kits."""
    return Kit.status == KitStatus.open.value if after < 0 else true()


def pickable(row: Any) -> bool:
    return row.status == KitStatus.open


def kit_line_data(row: Any) -> dict[str, Any]:
    line, number, _status, run, staging, tote, part, tracking, unit = row
    return {
        "kit": number, "line": line.line_no, "run": run, "location": staging, "tote": tote, "part": part,
        "tracking": tracking, "unit": unit, "quantity": line.quantity, "picked": line.picked,
        "remaining": remaining(line.quantity, line.picked),
    }
