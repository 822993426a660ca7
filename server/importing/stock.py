"""Importing opening stock: each row becomes a `receive` op with the reason "opening balance", applied through
the server's one op path (server/ops/: `apply_op` inside a WriteBatch, as a sync push applies its ops), so
that stock rows, the ledger, the activity log and the op records are as if it had been received: serials
checked for duplicates (in the database and in the file), serials and lots made from the part's patterns
when the row gives none, a location closed for a count refused, suppliers made on the fly.

A row's tracking is its part's. Its cost is a unit cost or a package price (of the row's whole quantity),
checked as the receive op checks them; `expiry` is the lot's expiry date (`2027-03-31`), as the receive op takes
it (untracked stock takes none).

Exactly once: a row's op id is derived from what it receives (and which occurrence of the same receipt in
the file it is), so importing a file again receives nothing twice: its rows already imported are reported
unchanged, with when and by whom.

The rows are applied by location (in file order at each), in chunks of CHUNK rows, each looked up ahead in a
few queries (`WriteBatch.prefetch`: by location, a chunk names few pairs of part and location), in runs of RUN
ops under one SAVEPOINT; a run where an op fails is rolled back and applied again op by op,
each in its own SAVEPOINT, so that the failing row is refused and the others stand. After each chunk its
stock rows, trail and op records are written and the stock rows forgotten (memory stays flat).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import insert_rows
from server.errors import DomainError, Invalid
from server.importing.kinds import Kind, Run, batches, text_of
from server.importing.report import CREATED, UNCHANGED, Row
from server.models import InventoryRow, Location, OpRecord, Part, Supplier, Tracking
from server.ops.args import Receive
from server.ops.batch import WriteBatch, named
from server.ops.records import applied_body, body_hash, op_record
from server.ops.service import OpRequest, apply_op, unapplied
from server.rules.costs import receipt_unit_cost
from server.rules.money import money_text, parse_money
from server.rules.quantities import parse_quantity
from server.transient import is_transient

COLUMNS = (
    "part", "location", "quantity", "serial", "lot", "unit_cost", "package_price", "package_ref", "expiry", "supplier",
)
REASON = "opening balance"
NAMESPACE = uuid.UUID("6f1d2a40-5b7e-4c61-9a0e-3c8f5d2b7e14")  # of the op ids of imported receipts
CHUNK = 500  # rows looked up ahead together, then written ...
PAIRS = 5_000  # ... naming at most this many parts x locations
RUN = 64  # ops under one SAVEPOINT


def check(row: Row) -> None:
    for column in ("part", "location", "quantity"):
        if not row.cells.get(column):
            row.refuse(column, f"required: every row names its {column}")
    row.key = f"{row.cells.get('part', '')} @ {row.cells.get('location', '')}"
    if "quantity" in row.values:
        try:
            row.values["quantity"] = parse_quantity(row.values["quantity"], "quantity")
        except Invalid as error:
            row.refuse("quantity", str(error).removeprefix("quantity: "))
    costs = {column: row.values[column] for column in ("unit_cost", "package_price") if column in row.values}
    for column, amount in costs.items():
        try:
            parse_money(amount, column)
        except Invalid as error:
            row.refuse(column, str(error))
    if len(costs) == 2 and not row.refused:
        try:
            receipt_unit_cost(row.values["quantity"], costs["unit_cost"], costs["package_price"])
        except Invalid as error:
            row.refuse("package_price", str(error))


@dataclass(slots=True)
class Receipt:
    row: Row
    op: OpRequest
    args: Receive


async def apply(session: AsyncSession, rows: list[Row], run: Run) -> None:
    good = [row for row in rows if not row.refused]
    parts = await _parts(session, {row.values["part"] for row in good})
    places = await _places(session) if run.locate_by_name else {}
    receipts = _receipts(good, parts, places)
    await _already(session, receipts)
    # by place, so that a chunk names few (part, location) pairs to look up ahead (in file order per place)
    receipts = sorted((r for r in receipts if not r.row.status), key=lambda r: (r.args.location, r.args.part))
    batch = await WriteBatch.start(session, beside_others=True)  # PostgreSQL: push chunks go on beside it
    done = len(rows) - len(receipts)
    for chunk in chunks(receipts):
        await batch.prefetch(named((receipt.op.type, receipt.op.args) for receipt in chunk))
        records: list[dict[str, Any]] = []
        for start in range(0, len(chunk), RUN):
            records += await _run(batch, chunk[start : start + RUN], run)
        await insert_rows(session, OpRecord.__table__, records)
        await batch.lookups.rows.write(session)
        await batch.trail.write(session)
        suppliers = dict(batch.lookups.suppliers)  # all written: only the stock rows need not be kept
        batch.lookups.forget_stock()
        batch.lookups.suppliers.update(suppliers)
        done += len(chunk)
        await run.tick("applying", done, len(rows), now=True)
    await batch.finish()


def chunks(receipts: list[Receipt]) -> Iterator[list[Receipt]]:
    """Runs of at most CHUNK receipts naming at most PAIRS (part, location) pairs to look up ahead: prefetch loads
    the buckets of every part named at every location named (server/ops/batch.py)."""
    chunk: list[Receipt] = []
    parts: set[str] = set()
    places: set[str] = set()
    for receipt in receipts:
        part, place = receipt.args.part, receipt.args.location
        pairs = (len(parts) + (part not in parts)) * (len(places) + (place not in places))
        if chunk and (len(chunk) == CHUNK or pairs > PAIRS):
            yield chunk
            chunk, parts, places = [], set(), set()
        chunk.append(receipt)
        parts.add(part)
        places.add(place)
    if chunk:
        yield chunk


def _receipts(rows: list[Row], parts: dict[str, Part], places: dict[str, list[str]]) -> list[Receipt]:
    """Each row as its receive op, the op id derived from the receipt (see the module's docstring)."""
    made: list[Receipt] = []
    seen: Counter[bytes] = Counter()
    serials: dict[str, int] = {}
    for row in rows:
        serial = row.values.get("serial")
        if serial is not None and serials.setdefault(serial, row.number) != row.number:
            row.refuse("serial", f"{serial} is on row {serials[serial]} already: a serial is one unit")
            continue
        part = parts.get(row.values["part"])
        if part is None:
            row.refuse("part", f"No part {row.values['part']}: import it first (gemba import parts)")
            continue
        location = row.values["location"]
        if places:
            codes = places.get(location, [])
            if not codes:
                row.refuse("location", f"No location named {location}: import the locations first")
                continue
            if len(codes) > 1:
                row.refuse("location", f"Several locations named {location}: {', '.join(codes[:5])}")
                continue
            location = codes[0]
        fields = {name: row.values[name] for name in ("serial", "lot", "supplier", "unit_cost", "package_price", "package_ref",
                                                      "expiry") if name in row.values}
        args = Receive(part=part.part_number, tracking=Tracking(part.tracking), location=location,
                       quantity=row.values["quantity"], reason=REASON, **fields)
        content = msgspec.json.encode(args, order="sorted")
        seen[content] += 1
        op_id = uuid.uuid5(NAMESPACE, f"{content.decode()}#{seen[content]}")
        made.append(Receipt(row, OpRequest(op_id=op_id, type="receive", args=msgspec.to_builtins(args)), args))
    return made


async def _parts(session: AsyncSession, numbers: set[str]) -> dict[str, Part]:
    found: dict[str, Part] = {}
    for batch in batches(sorted(numbers)):
        for part in (await session.execute(select(Part).where(Part.part_number.in_(batch)))).scalars():
            found[part.part_number] = part
    return found


async def _places(session: AsyncSession) -> dict[str, list[str]]:
    """Every location by the names a row may give it (InvenTree's stock export names a location by its name
    alone): its code, and its name and the last segment of its path where no code is the same."""
    rows = (await session.execute(select(Location.code, Location.name))).all()
    names: dict[str, list[str]] = {code: [code] for code, _ in rows}
    for code, name in rows:
        for alias in sorted({name, code.rsplit("/", 1)[-1]} - {"", code}):
            if names.get(alias) != [alias]:  # a code is never shadowed by another location's name
                names.setdefault(alias, []).append(code)
    return names


async def _already(session: AsyncSession, receipts: Sequence[Receipt]) -> None:
    """Rows whose receipt was imported before: unchanged, saying when and by whom."""
    by_id = {receipt.op.op_id: receipt for receipt in receipts}
    for batch in batches(list(by_id)):
        query = select(OpRecord.op_id, OpRecord.actor, OpRecord.created_at).where(OpRecord.op_id.in_(batch))
        for op_id, actor, at in (await session.execute(query)).all():
            by_id[op_id].row.done(UNCHANGED, f"imported already, on {at:%Y-%m-%d %H:%M} by {actor}")


async def _run(batch: WriteBatch, receipts: Sequence[Receipt], run: Run) -> list[dict[str, Any]]:
    """Apply a run of receipts under one SAVEPOINT; if one fails, again one SAVEPOINT each. Returns the op
    records of those applied."""
    await batch.refresh()
    records: list[dict[str, Any]] = []
    try:
        async with batch.savepoint():
            for receipt in receipts:
                records.append(await _receive(batch, receipt, run))
        return records
    except Exception as error:
        if is_transient(error):
            raise
    records = []
    for receipt in receipts:
        await batch.refresh()
        try:
            async with batch.savepoint():
                record = await _receive(batch, receipt, run)
        except DomainError as error:
            receipt.row.refuse(_column(error.field), error.message)
            continue
        except Exception as error:
            if is_transient(error):
                raise
            receipt.row.refuse("", unapplied(receipt.op.op_id, error))
            continue
        records.append(record)
    return records


async def _receive(batch: WriteBatch, receipt: Receipt, run: Run) -> dict[str, Any]:
    """One receipt through the op path; marks its row created and returns its op record."""
    op, args = receipt.op, receipt.args
    result = await apply_op(batch, op, args, run.actor, batch.next_version())
    made = [f"{name} {result[name]}" for name in ("serial", "lot") if result.get(name) and result[name] != op.args.get(name)]
    receipt.row.done(CREATED, f"received {args.quantity:,}" + (f" ({', '.join(made)})" if made else ""))
    return op_record(op.op_id, op.type, run.actor, applied_body(op.type, args), body_hash(op.type, args), "applied",
                     result)


def _column(field: str | None) -> str:
    """The column of an op's refusal: `args.quantity` → quantity; a field that is no column → the row."""
    name = (field or "").removeprefix("args.")
    return name if name in COLUMNS else ""


async def export(session: AsyncSession) -> AsyncIterator[list[str]]:
    """The stock the import can make again: on hand, not isolated (not scrapped, installed or empty)."""
    query = (
        select(Part.part_number, Location.code, InventoryRow.quantity, InventoryRow.serial, InventoryRow.lot,
               InventoryRow.unit_cost, InventoryRow.package_ref, InventoryRow.expiry, Supplier.name)
        .join(Part, Part.id == InventoryRow.part_id).join(Location, Location.id == InventoryRow.location_id)
        .outerjoin(Supplier, Supplier.id == InventoryRow.supplier_id)
        .where(~InventoryRow.scrapped, ~InventoryRow.isolated, InventoryRow.installed_in_id.is_(None),
               InventoryRow.quantity > 0)
        .order_by(Location.code, Part.part_number, InventoryRow.lot, InventoryRow.serial)
    )
    for part, location, quantity, serial, lot, unit_cost, package_ref, expiry, supplier in (await session.execute(query)).all():
        yield [part, location, str(quantity), text_of(serial), text_of(lot), money(unit_cost), "",
               text_of(package_ref), expiry.isoformat() if expiry else "", text_of(supplier)]


async def left_out(session: AsyncSession) -> dict[str, int]:
    """The stock rows an export leaves out, by why: isolated, installed (scrapped stock left inventory)."""
    live = (~InventoryRow.scrapped, InventoryRow.quantity > 0)
    query = select(func.count()).select_from(InventoryRow)
    return {
        "isolated": await session.scalar(query.where(*live, InventoryRow.isolated)) or 0,
        "installed": await session.scalar(query.where(*live, InventoryRow.installed_in_id.is_not(None))) or 0,
    }


def money(value: Decimal | None) -> str:
    """A stored cost as the wire writes money: `12.50`, `0.0125` (server/rules/money.py)."""
    return "" if value is None else money_text(value)


KIND = Kind(
    name="stock", columns=COLUMNS, key=None, shape=Receive, apply=apply, export=export, check=check,
    required=("part", "location", "quantity"),
)
