"""How a purchase order line looks to a phone: the `po_line` entity of a pull (sync/pull.py), so that an
offline phone can receive against the open lines of a supplier or a PO.

A line is `put` while it can be received against (its PO open, the line open) and `del` once it cannot (the
PO cancelled, the line received or closed short); a draft's lines are not sent. Its `data`: `po_line`
(`NUMBER/LINE`), `supplier`, `part`, `tracking` (the part's), `ordered`, `received`, `remaining`, `status`,
`serials` (the units it lists, if any), and `location`, `lot`, `unit`, `expected_date`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, select, true

from server.models import Location, Part, Supplier
from server.purchasing.models import LineStatus, PoLine, PoStatus, PurchaseOrder
from server.rules.money import money_text
from server.rules.purchasing import line_name, remaining


def po_lines_select() -> Select[Any]:
    return (
        select(PoLine, PurchaseOrder.number, PurchaseOrder.status.label("po_status"), Supplier.name, Part.part_number,
               Part.tracking, Part.unit, Location.code)
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Part, Part.id == PoLine.part_id)
        .join(Location, Location.id == PoLine.location_id)
    )


def open_only(after: int) -> Any:
    """A client starting afresh needs only the lines it can receive against."""
    if after >= 0:
        return true()
    return and_(PoLine.status == LineStatus.open.value, PurchaseOrder.status == PoStatus.open.value)


def receivable(row: Any) -> bool:
    """A row of `po_lines_select`: can a phone receive against it?"""
    return row.po_status == PoStatus.open and row[0].status == LineStatus.open


def po_line_data(row: Any) -> dict[str, Any]:
    line, number, _po_status, supplier, part, tracking, unit, location = row
    return {
        "po_line": line_name(number, line.line_no), "supplier": supplier, "part": part, "tracking": tracking,
        "ordered": line.quantity, "received": line.received,
        "remaining": remaining(line.status, line.quantity, line.received), "status": line.status,
        "serials": line.serials, "location": location, "lot": line.lot, "unit": unit,
        "expected_date": line.expected_date.isoformat() if line.expected_date else None,
        "unit_price": money_text(line.unit_price),  # what a receipt against it costs unless it names a price
    }
