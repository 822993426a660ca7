"""Receiving against a purchase order line: the `receive` op with `po_line: "PO-2026-0001/2"` (the op's
handler, server/ops/handlers.py, hands it here through server/ops/ordering.py), online and at sync alike.

The receipt turns on-order quantity into stock at the op's `location`:
- a unit the line lists (its On-order unit row) becomes that received unit: stock, where it was received;
- any other unit is made as a plain receipt makes it, and the line's On-order row (not tracked yet) shrinks
  by one; a lot or untracked quantity goes into its bucket there, and that row shrinks by the quantity.
The ledger gets `on_order −q` where the On-order rows were and `on_hand +q` where the goods went; the line's
`received` grows (`received` status when nothing remains, the PO `received` when no line is open); a
`po_receipts` row records the receipt (line, op, inventory row, quantity, unit cost — the line's unit price
unless the op gives `unit_cost` or `package_price` — and who). Refusals and what a supervisor's approval
does: server/rules/purchasing.py `check_receipt`, docs/purchasing.md.

Two phones receiving the last units of one line at once: the PO's row is read FOR UPDATE (PostgreSQL: a
push chunk beside others waits for the one that read it first, then reads the line as that one left it;
SQLite has one writer at a time), so exactly one receipt finds the units still expected.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import update_rows
from server.errors import Invalid, NotFound
from server.models import Action, Location, Part, Tracking
from server.ops import args as a
from server.ops.costs import layer_in
from server.ops.handlers import money_fields, receive_plain, refuse_existing_serial, row_result
from server.ops.numbers import next_number
from server.ops.rows import INVENTORY, SELECT_ROWS, Stock
from server.ops.batch import IN_BATCH
from server.ops.stock import Lookups, OpContext, new_id
from server.purchasing.models import LineStatus, PoLine, PoReceipt, PoStatus, PurchaseOrder
from server.purchasing.onorder import ON_ORDER
from server.rules import purchasing as rules
from server.rules.costs import receipt_unit_cost
from server.rules.purchasing import line_name

POS_LOCKED = (  # in id order: two transactions locking the same POs take them in the same order
    select(PurchaseOrder.id, PurchaseOrder.number, PurchaseOrder.status, PurchaseOrder.supplier_id)
    .where(PurchaseOrder.number.in_(bindparam("numbers", expanding=True))).order_by(PurchaseOrder.id).with_for_update()
)
LINES_OF = select(
    PoLine.id, PoLine.po_id, PoLine.line_no, PoLine.part_id, PoLine.quantity, PoLine.received, PoLine.unit_price,
    PoLine.serials, PoLine.lot, PoLine.status, PoLine.version,
).where(PoLine.po_id.in_(bindparam("po_ids", expanding=True)), PoLine.line_no.in_(bindparam("line_nos", expanding=True)))
OTHER_OPEN_LINE = select(PoLine.id).where(  # a PO's line still open, but for those held
    PoLine.po_id == bindparam("po_id"), PoLine.status == LineStatus.open.value,
    PoLine.id.not_in(bindparam("held", expanding=True)),
).limit(1)
PENDING = SELECT_ROWS.where(  # the lines' rows not received yet: on order, or left when a line was called off
    INVENTORY.c.po_line_id.in_(bindparam("line_ids", expanding=True)), INVENTORY.c.po_state.in_(("open", "cancelled"))
)
LINE_COLUMNS = ("quantity", "received", "status", "serials", "version", "updated_at")


@dataclass(slots=True)
class Line:
    """A line received against in this write transaction, as it stands now (its row written with the stock
    rows: `_write_lines`), with its PO (locked) and the line's rows not received yet (held with the stock rows)."""

    name: str
    id: UUID
    po_id: UUID
    po_status: str
    supplier_id: UUID
    part_id: UUID
    quantity: int
    received: int
    unit_price: Decimal
    serials: list[str] | None
    lot: str | None
    status: str
    version: int
    pending: list[Stock] = field(default_factory=list)
    changed: bool = False  # since last written


async def _write_lines(lines: dict[str, Line], session: AsyncSession) -> None:
    """The lines receipts changed since they were last written, in one UPDATE (with the stock rows:
    server/ops/rows.py `also`)."""
    changed = [line for line in lines.values() if line.changed]
    if changed:
        now = datetime.now(UTC)
        await update_rows(session, PoLine.__table__, LINE_COLUMNS, [
            {"quantity": line.quantity, "received": line.received, "status": line.status, "serials": line.serials,
             "version": line.version, "updated_at": now, "pk_": line.id} for line in changed
        ])
        for line in changed:
            line.changed = False


def split_name(name: str) -> tuple[str, int] | None:
    """`PO-2026-0001/2` → ("PO-2026-0001", 2); None when it is not a line's name."""
    number, slash, line_no = name.rpartition("/")
    if not slash or not number or not line_no.isdigit() or len(line_no) > 6:
        return None
    return number, int(line_no)


async def load_lines(session: AsyncSession, lookups: Lookups, names: Collection[str]) -> None:
    """Read the lines named that are not held yet into `lookups.po_lines` (by name), with their rows not received
    yet, locking the rows of their POs not locked yet (in id order): once per write transaction, a few queries for a
    push chunk's receipts; later receipts find them as the earlier ones left them. Only the lines named: a PO's
    other lines are asked for when a receipt completes a line (`_update_line`)."""
    wanted = {parsed for name in names if name not in lookups.po_lines and (parsed := split_name(name))}
    if not wanted:
        return
    pos = {line.name.rpartition("/")[0]: (line.po_id, line.po_status, line.supplier_id)
           for line in lookups.po_lines.values()}  # locked already
    connection = await session.connection()
    numbers = sorted({number for number, _ in wanted} - pos.keys())
    if numbers:
        for po in await connection.execute(POS_LOCKED, {"numbers": numbers}):
            pos[po.number] = (po.id, po.status, po.supplier_id)
    numbers_of = {po_id: number for number, (po_id, _, _) in pos.items()}
    targets = {(pos[number][0], line_no) for number, line_no in wanted if number in pos}
    if not targets:
        return
    named: dict[UUID, Line] = {}
    params = {"po_ids": sorted({po_id for po_id, _ in targets}), "line_nos": sorted({no for _, no in targets})}
    for row in await connection.execute(LINES_OF, params):
        if (row.po_id, row.line_no) not in targets:  # another PO's line of the same number
            continue
        number = numbers_of[row.po_id]
        _, status, supplier_id = pos[number]
        line = Line(name=line_name(number, row.line_no), id=row.id, po_id=row.po_id, po_status=status,
                    supplier_id=supplier_id, part_id=row.part_id, quantity=row.quantity, received=row.received,
                    unit_price=row.unit_price, serials=row.serials, lot=row.lot, status=row.status, version=row.version)
        lookups.po_lines[line.name] = named[line.id] = line
    for start in range(0, len(named), IN_BATCH):
        ids = list(named)[start:start + IN_BATCH]
        for row in await lookups.rows.load(session, PENDING, {"line_ids": ids}, write=False):  # only receipts change them
            named[row.po_line_id].pending.append(row)
    lookups.rows.also["po_lines"] = partial(_write_lines, lookups.po_lines)


async def _line(ctx: OpContext, name: str) -> Line:
    parsed = split_name(name)
    name = line_name(*parsed) if parsed else name  # "PO-1/02" is line 2
    if name not in ctx.lookups.po_lines:
        await load_lines(ctx.session, ctx.lookups, [name])
    line = ctx.lookups.po_lines.get(name)
    if line is None:
        raise NotFound(f"No purchase order line {name}", field="po_line")
    return line


def _on_order(ctx: OpContext, row: Stock, delta: int, name: str) -> None:
    if delta:
        ctx.trail.ledger.append({"op_id": ctx.op_id, "bucket": ON_ORDER, "part_id": row.part_id,
                                 "location_id": row.location_id, "lot": row.lot, "delta": delta,
                                 "reason": f"{name} received"})


def _consume(ctx: OpContext, rows: list[Stock], quantity: int, name: str) -> None:
    """The line's rows not tracked yet give up `quantity` (what they hold of it): `on_order` goes down by
    what was still on order."""
    for row in rows:
        taken = min(quantity, row.quantity)
        if taken <= 0:
            continue
        if row.po_state == "open":
            _on_order(ctx, row, -taken, name)
        row.quantity -= taken
        row.version = ctx.version
        quantity -= taken


async def _unit(ctx: OpContext, args: a.Receive, part: Part, line: Line, location: Location) -> Stock:
    """The received unit (the line's serials changed when a supervisor's approval took another unit)."""
    units = {row.serial: row for row in line.pending if row.serial is not None}
    serial, serials = args.serial, line.serials
    row = units.get(serial) if serial else None
    if row is None and serial and serials and serial not in serials:
        # approved `serial_not_on_line`: the unit delivered takes the place of the first listed one still expected
        await refuse_existing_serial(ctx, serial)
        row = next((units[listed] for listed in serials if listed in units and units[listed].po_state == "open"), None)
        if row is None:
            line.serials = [*serials, serial]  # approved over-receipt too: the line grows by this unit
        else:
            line.serials = [serial if listed == row.serial else listed for listed in serials]
            ctx.lookups.units.pop(row.serial, None)
            row.serial = serial
            ctx.lookups.units[serial] = row
    if row is not None:
        if row.po_state == "open":
            _on_order(ctx, row, -row.quantity, line.name)
        row.po_state, row.quantity, row.location_id = None, 1, location.id
        row.lot = args.lot or row.lot
        row.version = ctx.version
        return row
    serial = serial or await next_number(ctx, part, "serial")
    await refuse_existing_serial(ctx, serial)
    _consume(ctx, [row for row in line.pending if row.serial is None], 1, line.name)
    return ctx.new_unit(part, location, serial, lot=args.lot, po_line_id=line.id)


async def receive_on_line(ctx: OpContext, args: a.Receive, part: Part) -> dict[str, Any]:
    assert args.po_line is not None
    line = await _line(ctx, args.po_line)
    if line.part_id != part.id:
        ordered = await ctx.session.get_one(Part, line.part_id)
        raise Invalid(f"{line.name} orders {ordered.part_number}, not {part.part_number}", field="part")
    listed = line.serials if part.tracking == Tracking.serial else None
    decision = rules.check_receipt(line.name, line.po_status, line.status, line.quantity, line.received, args.quantity,
                                   listed, args.serial, approved=ctx.approved)
    if not decision.on_line:
        return await receive_plain(ctx, args, part)
    location = await ctx.location(args.location)
    unit_cost = receipt_unit_cost(args.quantity, args.unit_cost, args.package_price)
    if unit_cost is None:
        unit_cost = line.unit_price
    if part.tracking == Tracking.serial:
        row = await _unit(ctx, args, part, line, location)
        row.unit_cost = unit_cost
        lot = row.lot
    else:
        lot = args.lot or line.lot
        if part.tracking == Tracking.lot and lot is None:
            lot = await next_number(ctx, part, "lot")
        _consume(ctx, line.pending, args.quantity, line.name)
        row = await ctx.put(part, lot, location, args.quantity, tracking=part.tracking, unit_cost=unit_cost)
    row.supplier_id = (await ctx.supplier(args.supplier)).id if args.supplier else line.supplier_id
    row.package_ref = args.package_ref or row.package_ref
    row.po_line = line.name
    ctx.ledger(part, location.id, lot, args.quantity, args.reason or f"{line.name} received")
    ctx.log(Action.add, part, row, args.quantity, lot=lot, to_location=location, reason=args.reason)
    await _update_line(ctx, line, args.quantity, decision.grow)
    costed = await layer_in(ctx, part, args.quantity, unit_cost, row, package_ref=args.package_ref, po_line=line.name)
    ctx.trail.records.append((PoReceipt.__table__, {
        "id": new_id(), "line_id": line.id, "op_id": ctx.op_id, "inventory_id": row.id, "quantity": args.quantity,
        "unit_cost": unit_cost, "received_by": ctx.actor.username,
        "note": f"the line grew by {decision.grow} (an over-delivery approved)" if decision.grow else None,
    }))
    return row_result(row, part, location, received=args.quantity, po_line=line.name,
                      remaining=rules.remaining(line.status, line.quantity, line.received), **money_fields(costed))


async def _update_line(ctx: OpContext, line: Line, quantity: int, grow: int) -> None:
    """The line's received (and ordered, grown by an approved over-delivery) quantities and status, written;
    the PO received once no line is open."""
    line.quantity, line.received = line.quantity + grow, line.received + quantity
    if line.status == LineStatus.open and line.received >= line.quantity:
        line.status = LineStatus.received.value
        for row in line.pending:  # nothing more comes: what the line's rows still held leaves on order
            if row.po_state == "open":
                _on_order(ctx, row, -row.quantity, line.name)
                row.po_state, row.quantity, row.version = "received", 0, ctx.version
    line.version, line.changed = ctx.version, True  # written with the stock rows
    if line.po_status != PoStatus.open or line.status == LineStatus.open:
        return
    held = [other for other in ctx.lookups.po_lines.values() if other.po_id == line.po_id]  # as they are now
    if any(other.status == LineStatus.open for other in held):
        return
    connection = await ctx.session.connection()  # the others are as written (the PO is locked)
    if (await connection.execute(OTHER_OPEN_LINE, {"po_id": line.po_id, "held": [o.id for o in held]})).first() is None:
        for other in held:
            other.po_status = PoStatus.received.value
        await connection.execute(
            update(PurchaseOrder.__table__).where(PurchaseOrder.__table__.c.id == line.po_id)
            .values(status=PoStatus.received.value, closed_by=ctx.actor.username, closed_at=ctx.now)
        )
