"""The On-order inventory rows of purchase order lines, and their `on_order` ledger entries.

Opening a PO makes each line's rows (server/rules/purchasing.py `ordered_rows`: a unit per listed serial,
else one row of the quantity) at the line's location, with `po_state` `open`, and posts `on_order
+quantity` for each. Cancelling the PO leaves its open lines' rows as they are but `cancelled` (status
Unavailable, ION's rule); closing a line short empties them (quantity 0, `cancelled`): either way the
ledger gets `on_order −quantity` for what they held. Rows and ledger lines go in bulk (server/bulk.py):
a PO of 1,000 serialized units is two INSERTs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import insert_rows
from server.errors import DuplicateSerial
from server.models import InventoryRow, LedgerEntry, Location, Part, canon
from server.ops.stock import new_id
from server.purchasing.models import PoLine, PurchaseOrder
from server.rules.purchasing import line_name, ordered_rows

ON_ORDER = "on_order"  # the ledger's bucket
CHUNK = 1000  # serials per IN (...) when looking for ones that exist


def _ledger(action_id: UUID, row: dict[str, Any] | Any, delta: int, reason: str) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {"op_id": action_id, "bucket": ON_ORDER, "part_id": get("part_id"), "location_id": get("location_id"),
            "lot": get("lot"), "delta": delta, "reason": reason}


async def check_serials_free(session: AsyncSession, wanted: dict[str, str]) -> None:
    """`wanted`: serial → the field that lists it (`lines[0].serials[3]`). A serial that a unit already has
    is refused, as a receipt of it would be."""
    serials = list(wanted)
    for start in range(0, len(serials), CHUNK):
        found = (await session.execute(
            select(InventoryRow.serial, Location.code, InventoryRow.po_line)
            .join(Location, Location.id == InventoryRow.location_id)
            .where(InventoryRow.serial.in_(serials[start:start + CHUNK]))
            .order_by(InventoryRow.serial).limit(1)
        )).first()
        if found is not None:
            serial, where, po_line = found
            place = f"on order on {po_line}" if po_line else f"at {where}"
            raise DuplicateSerial(f"Serial {serial} already exists ({place})", field=wanted[serial])


async def open_rows(
    session: AsyncSession, po: PurchaseOrder, lines: Sequence[tuple[PoLine, Part]], version: int, action_id: UUID
) -> None:
    rows: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for line, part in lines:
        name = line_name(po.number, line.line_no)
        for ordered in ordered_rows(part.tracking, line.quantity, line.serials, line.lot):
            row = {
                "id": new_id(), "part_id": part.id, "location_id": line.location_id, "quantity": ordered.quantity,
                "serial": ordered.serial, "lot": ordered.lot, "tracking": ordered.tracking,
                "supplier_id": po.supplier_id, "unit_cost": None, "installed_in_id": None, "scrapped": False,
                "isolated": False, "isolation_reason": None, "package_ref": None, "po_line": name,
                "po_line_id": line.id, "po_state": "open", "version": version,
            }
            rows.append(row)
            ledger.append(_ledger(action_id, row, ordered.quantity, f"{name} ordered"))
    await insert_rows(session, InventoryRow.__table__, rows)
    await insert_rows(session, LedgerEntry.__table__, ledger)


async def give_up(
    session: AsyncSession, lines: Iterable[PoLine], names: dict[UUID, str], *, empty: bool, version: int,
    action_id: UUID, why: str,
) -> int:
    """The rows still on order of `lines` will not come: `cancelled`, emptied if `empty`; `on_order` goes
    down by what they held. Returns that quantity."""
    ids = [line.id for line in lines]
    if not ids:
        return 0
    still = (InventoryRow.po_line_id.in_(ids), InventoryRow.po_state == "open")
    held = (await session.execute(
        select(InventoryRow.part_id, InventoryRow.location_id, InventoryRow.lot, InventoryRow.quantity,
               InventoryRow.po_line_id).where(*still)
    )).all()
    await insert_rows(session, LedgerEntry.__table__, [
        _ledger(action_id, row, -row.quantity, f"{names[row.po_line_id]} {why}") for row in held if row.quantity
    ])
    values: dict[str, Any] = {"po_state": "cancelled", "version": version}
    if empty:
        values["quantity"] = 0
    await session.execute(update(InventoryRow).where(*still).values(**values).execution_options(synchronize_session=False))
    return canon(sum(row.quantity for row in held))
