"""Purchase orders through their life: create (draft) → open → (received | cancelled); a line open →
(received | closed short | cancelled).

Each change is one write transaction that takes the change clock first (server/ops/stock.py
`next_version`): it serialises the change with every other writer — two supervisors opening POs, a phone's
receipt — and stamps the lines it changes, which phones pull as `po_line`. Numbers come from the pattern's
counter (`po:<scope>`, the same counters as serials and lots) inside that transaction, so two POs made at
once never get one number; a number that exists already (given by hand) is skipped.

The inventory side of opening, cancelling and closing short is server/purchasing/onorder.py; each such
change's ledger lines share one id (`op_id`), and their reason names the line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import AlreadyExists, Invalid, NotFound
from server.models import Location, LocationKind, Part, Supplier
from server.actor import Actor
from server.clock import bump_counter, next_version
from server.ops.stock import new_id
from server.purchasing.models import LineStatus, PoLine, PoStatus, PurchaseOrder
from server.purchasing.onorder import check_serials_free, give_up, open_rows
from server.purchasing.read import find_po, list_filters, po_out, po_page
from server.purchasing.schemas import PoIn, PoOut, PoPage
from server.rules import purchasing as rules
from server.rules.money import parse_money
from server.rules.quantities import check_precision, parse_quantity, part_places
from server.rules.patterns import PatternError, expand
from server.settings import Settings


async def next_po_number(session: AsyncSession, pattern: str, now: datetime) -> str:
    expanded = expand(pattern, part="", revision="", now=now)
    while True:
        number = expanded.render(await bump_counter(session, f"po:{expanded.scope}"))
        rules.check_number(number, "number")  # a counter past the pattern's width stays a valid number
        if not await session.scalar(select(exists().where(PurchaseOrder.number == number))):
            return number


async def _supplier(session: AsyncSession, name: str) -> Supplier:
    """Picked by name in any case, or created on the fly (as on a receiving screen)."""
    found = (await session.execute(select(Supplier).where(Supplier.named(name)))).scalar_one_or_none()
    if found is None:
        found = Supplier(name=name)
        session.add(found)
        await session.flush()
    return found


async def _by_key(session: AsyncSession, cache: dict[str, Any], model: Any, column: Any, key: str, field: str) -> Any:
    if key not in cache:
        found = (await session.execute(select(model).where(column == key))).scalar_one_or_none()
        if found is None:
            raise NotFound(f"{field}: no {model.__tablename__[:-1]} {key}", field=field)
        cache[key] = found
    return cache[key]


async def receiving_location(session: AsyncSession, field: str) -> Location:
    """Where a line without a location will be received: the first incoming location, by code."""
    found = (await session.execute(
        select(Location).where(Location.kind == LocationKind.incoming.value).order_by(Location.code).limit(1)
    )).scalar_one_or_none()
    if found is None:
        raise Invalid(f"{field}: name the location it will be received at (there is no incoming location)", field=field)
    return found


async def create_po(session: AsyncSession, data: PoIn, actor: Actor, version: int, settings: Settings) -> PurchaseOrder:
    """A draft PO with its lines, in the caller's transaction (which holds the change clock)."""
    now = datetime.now(UTC)
    if data.number is not None:
        rules.check_number(data.number)
        if await session.scalar(select(exists().where(PurchaseOrder.number == data.number))):
            raise AlreadyExists(f"Purchase order {data.number} already exists", field="number")
    parts: dict[str, Part] = {}
    locations: dict[str, Location] = {}
    serials: dict[str, str] = {}  # serial → the field listing it
    receiving: Location | None = None  # for the lines without a location
    lines: list[PoLine] = []
    for index, given in enumerate(data.lines):
        field = f"lines[{index}]"
        part = await _by_key(session, parts, Part, Part.part_number, given.part, f"{field}.part")
        given.quantity = parse_quantity(given.quantity, f"{field}.quantity")
        check_precision(given.quantity, part_places(part), part.unit, f"{field}.quantity")
        rules.check_line(part.tracking, given.quantity, given.serials, given.lot, field)
        for position, serial in enumerate(given.serials or ()):
            if serial in serials:
                raise Invalid(f"{field}.serials: {serial} is also on {serials[serial].split('.')[0]}",
                              field=f"{field}.serials[{position}]")
            serials[serial] = f"{field}.serials[{position}]"
        if given.location is not None:
            location = await _by_key(session, locations, Location, Location.code, given.location, f"{field}.location")
        else:
            location = receiving = receiving or await receiving_location(session, f"{field}.location")
        lines.append(PoLine(
            id=new_id(), line_no=index + 1, part_id=part.id, quantity=given.quantity, received=0,
            unit_price=parse_money(given.unit_price, f"{field}.unit_price"), serials=given.serials, lot=given.lot,
            location_id=location.id, expected_date=given.expected_date, status=LineStatus.open.value, version=version,
        ))
    await check_serials_free(session, serials)
    supplier = await _supplier(session, data.supplier)
    number = data.number or await next_po_number(session, settings.po_number_pattern, now)
    po = PurchaseOrder(id=new_id(), number=number, supplier_id=supplier.id, status=PoStatus.draft.value,
                       currency=settings.currency, note=data.note, created_by=actor.username)
    session.add(po)
    await session.flush()  # before its lines: no ORM relationship orders the INSERTs
    for line in lines:
        line.po_id = po.id
    session.add_all(lines)
    await session.flush()
    return po


async def _lines(session: AsyncSession, po: PurchaseOrder) -> list[tuple[PoLine, Part]]:
    rows = await session.execute(
        select(PoLine, Part).join(Part, Part.id == PoLine.part_id).where(PoLine.po_id == po.id).order_by(PoLine.line_no)
    )
    return [(line, part) for line, part in rows.tuples()]


class PurchasingService:
    def __init__(self, db: Database) -> None:
        """Refuses (ValueError, naming the setting) a GEMBA_PO_NUMBER_PATTERN that cannot make PO numbers: the
        app does not start."""
        try:
            rules.check_number_pattern(db.settings.po_number_pattern)
        except PatternError as error:
            raise ValueError(f"GEMBA_PO_NUMBER_PATTERN={db.settings.po_number_pattern!r}: {error}") from None
        self.db = db

    # ---- reading ------------------------------------------------------------------------------
    async def list(self, status: str | None, supplier: str | None, part: str | None, limit: int, offset: int) -> PoPage:
        async with self.db.read() as session:
            return await po_page(session, list_filters(status, supplier, part), limit, offset)

    async def get(self, number: str) -> PoOut:
        async with self.db.read() as session:
            return await po_out(session, await find_po(session, number))

    # ---- the life cycle -----------------------------------------------------------------------
    async def create(self, data: PoIn, actor: Actor) -> PoOut:
        async with self.db.write() as session:
            version = await next_version(session)
            po = await create_po(session, data, actor, version, self.db.settings)
            return await po_out(session, po)

    async def open(self, number: str, actor: Actor) -> PoOut:
        """On order: the lines' inventory rows and `on_order` entries are made (server/purchasing/onorder.py)."""
        async with self.db.write() as session:
            version = await next_version(session)
            po = await find_po(session, number)
            rules.check_can_open(po.number, po.status)
            lines = await _lines(session, po)
            await check_serials_free(session, {
                serial: f"lines[{line.line_no - 1}].serials[{position}]"
                for line, _ in lines for position, serial in enumerate(line.serials or ())
            })
            await open_rows(session, po, lines, version, new_id())
            for line, _ in lines:
                line.version = version
            po.status, po.opened_by, po.opened_at = PoStatus.open.value, actor.username, datetime.now(UTC)
            return await po_out(session, po)

    async def cancel(self, number: str, actor: Actor) -> PoOut:
        """Its open lines are cancelled: the rows still on order stay, Unavailable, and leave `on_order`."""
        async with self.db.write() as session:
            version = await next_version(session)
            po = await find_po(session, number)
            rules.check_can_cancel(po.number, po.status)
            still_open = [line for line, _ in await _lines(session, po) if line.status == LineStatus.open]
            names = {line.id: rules.line_name(po.number, line.line_no) for line in still_open}
            await give_up(session, still_open, names, empty=False, version=version, action_id=new_id(),
                          why="cancelled")
            for line in still_open:
                line.status, line.closed_by, line.version = LineStatus.cancelled.value, actor.username, version
            po.status, po.closed_by, po.closed_at = PoStatus.cancelled.value, actor.username, datetime.now(UTC)
            return await po_out(session, po)

    async def close_line(self, number: str, line_no: int, actor: Actor) -> PoOut:
        """Closed short: what was not received leaves `on_order` and its rows; with no open line left, the
        PO is received."""
        async with self.db.write() as session:
            version = await next_version(session)
            po = await find_po(session, number)
            lines = [line for line, _ in await _lines(session, po)]
            line = next((line for line in lines if line.line_no == line_no), None)
            name = rules.line_name(po.number, line_no)
            if line is None:
                raise NotFound(f"No line {name}", field="line")
            rules.check_can_close_line(name, po.status, line.status)
            await give_up(session, [line], {line.id: name}, empty=True, version=version, action_id=new_id(),
                          why="closed short")
            line.status, line.closed_by, line.version = LineStatus.closed_short.value, actor.username, version
            if rules.status_after_lines([other.status for other in lines]) == PoStatus.received:
                po.status, po.closed_by, po.closed_at = PoStatus.received.value, actor.username, datetime.now(UTC)
            return await po_out(session, po)
