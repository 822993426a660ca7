"""Purchase orders as the API shows them: one PO with its lines (ordered, received, remaining, status,
prices and totals in the PO's currency), and the list with its filters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Invalid, NotFound
from server.models import InventoryRow, Location, Part, Supplier
from server.purchasing.models import LineStatus, PoLine, PoReceipt, PoStatus, PurchaseOrder
from server.purchasing.schemas import PoLineOut, PoOut, PoPage, PoReceiptOut, PoSummary
from server.rules.money import money_text, times, total
from server.rules.purchasing import line_name, remaining

STATUSES = tuple(status.value for status in PoStatus)
LINE_COLUMNS = (PoLine, Part.part_number, Part.unit, Part.tracking, Location.code)


async def find_po(session: AsyncSession, number: str) -> PurchaseOrder:
    po = (await session.execute(select(PurchaseOrder).where(PurchaseOrder.number == number))).scalar_one_or_none()
    if po is None:
        raise NotFound(f"No purchase order {number}", field="number")
    return po


async def lines_of(session: AsyncSession, po_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """Each PO's lines in order, with their part's number, unit and tracking and their location's code."""
    found: dict[UUID, list[Any]] = defaultdict(list)
    if po_ids:
        rows = await session.execute(
            select(*LINE_COLUMNS).join(Part, Part.id == PoLine.part_id).join(Location, Location.id == PoLine.location_id)
            .where(PoLine.po_id.in_(po_ids)).order_by(PoLine.po_id, PoLine.line_no)
        )
        for row in rows:
            found[row[0].po_id].append(row)
    return found


def line_out(number: str, row: Any) -> PoLineOut:
    line, part_number, unit, tracking, location = row
    return PoLineOut(
        line=line.line_no, po_line=line_name(number, line.line_no), part=part_number, unit=unit, tracking=tracking,
        ordered=line.quantity, received=line.received, remaining=remaining(line.status, line.quantity, line.received),
        status=line.status, unit_price=money_text(line.unit_price), total=money_text(times(line.quantity, line.unit_price)),
        location=location, serials=line.serials, lot=line.lot, expected_date=line.expected_date,
    )


def _total(rows: Sequence[Any]) -> str:
    return money_text(total(times(row[0].quantity, row[0].unit_price) for row in rows))


async def supplier_name(session: AsyncSession, supplier_id: UUID) -> str:
    return (await session.get_one(Supplier, supplier_id)).name


async def receipts_of(session: AsyncSession, po: PurchaseOrder) -> list[PoReceiptOut]:
    rows = await session.execute(
        select(PoReceipt, PoLine.line_no, Part.part_number, InventoryRow.serial, InventoryRow.lot)
        .join(PoLine, PoLine.id == PoReceipt.line_id).join(Part, Part.id == PoLine.part_id)
        .join(InventoryRow, InventoryRow.id == PoReceipt.inventory_id)
        .where(PoLine.po_id == po.id).order_by(PoReceipt.created_at, PoReceipt.id)
    )
    return [
        PoReceiptOut(
            po_line=line_name(po.number, line_no), part=part, quantity=receipt.quantity,
            unit_cost=money_text(receipt.unit_cost) if receipt.unit_cost is not None else None,
            received_by=receipt.received_by, received_at=receipt.created_at, op_id=receipt.op_id, serial=serial,
            lot=lot, note=receipt.note,
        )
        for receipt, line_no, part, serial, lot in rows
    ]


async def po_out(session: AsyncSession, po: PurchaseOrder) -> PoOut:
    rows = (await lines_of(session, [po.id]))[po.id]
    return PoOut(
        number=po.number, supplier=await supplier_name(session, po.supplier_id), status=po.status,
        currency=po.currency, total=_total(rows), note=po.note, created_by=po.created_by, created_at=po.created_at,
        opened_by=po.opened_by, opened_at=po.opened_at, closed_by=po.closed_by, closed_at=po.closed_at,
        lines=[line_out(po.number, row) for row in rows], receipts=await receipts_of(session, po),
    )


def list_filters(status: str | None, supplier: str | None, part: str | None) -> list[Any]:
    """WHERE clauses of the list: `status` one or several (comma-separated), `supplier` by name (any case)
    or code, `part` the POs with a line of it."""
    where: list[Any] = []
    wanted = [s.strip() for s in (status or "").split(",") if s.strip()]
    if any(s not in STATUSES for s in wanted):
        raise Invalid(f"status must be among {', '.join(STATUSES)}", field="status")
    if wanted:
        where.append(PurchaseOrder.status.in_(wanted))
    if supplier:
        named = select(Supplier.id).where(Supplier.named(supplier) | (Supplier.code == supplier))
        where.append(PurchaseOrder.supplier_id.in_(named))
    if part:
        where.append(exists().where(
            PoLine.po_id == PurchaseOrder.id, PoLine.part_id.in_(select(Part.id).where(Part.part_number == part))
        ))
    return where


async def po_page(session: AsyncSession, where: list[Any], limit: int, offset: int) -> PoPage:
    """Newest first."""
    total = await session.scalar(select(func.count()).select_from(PurchaseOrder).where(*where))
    found = (await session.execute(
        select(PurchaseOrder, Supplier.name).join(Supplier, Supplier.id == PurchaseOrder.supplier_id).where(*where)
        .order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc()).limit(limit).offset(offset)
    )).all()
    lines = await lines_of(session, [po.id for po, _ in found])
    items = []
    for po, supplier in found:
        rows = lines[po.id]
        open_rows = [row[0] for row in rows if row[0].status == LineStatus.open]
        expected = [line.expected_date for line in open_rows if line.expected_date is not None]
        items.append(PoSummary(
            number=po.number, supplier=supplier, status=po.status, currency=po.currency, total=_total(rows),
            line_count=len(rows), open_lines=len(open_rows) if po.status in (PoStatus.draft, PoStatus.open) else 0,
            next_expected=min(expected) if expected and po.status == PoStatus.open else None,
            created_by=po.created_by, created_at=po.created_at, opened_at=po.opened_at,
        ))
    return PoPage(items=items, total=int(total or 0), limit=limit, offset=offset)
