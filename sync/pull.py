"""Pull (protocol §4): what changed since the device's cursor, in version order, in pages cut only
between versions; and what became of the device's held and rejected ops.

Why no change is ever skipped: every write transaction takes its values of the change clock and holds
the clock row's lock until it commits (server/clock.py `next_version`; a push chunk on PostgreSQL takes
it last and stamps its rows with the values then, server/ops/batch.py), so versions become visible in
version order, on SQLite (one writer at a time) and on PostgreSQL (the row lock queues writers). A pull reads one snapshot (PostgreSQL: REPEATABLE READ; SQLite: one read transaction in WAL
mode): everything up to the clock value in that snapshot is there, and anything committed later has a
higher version, after the cursor the pull returns.

The cursor is `g1.<version>`: the last version the client holds in full. Anything else (garbage, a
version from the future, an older `gN.` shape) answers `reset: true` and starts again from nothing.

Cycle counts (an extension of the protocol's entities): `count` — an open count (or in review), `del` once
it is closed — and `count_line` — each line counted in it, by anyone, without expected quantities — so a
phone can count offline and show everyone's progress. Purchasing: `po_line` — a line of an open purchase
order while it is open, `del` once it is received, closed or cancelled (server/purchasing/views.py) — so a
phone can receive against it offline; the On-order inventory rows themselves are not stock and are not sent.
Kits: `kit_line` — a line of an open kit, `del` once the kit is completed or cancelled (server/kits/views.py) —
so a phone can pick a kit offline.

A part's `average_price` is that of its newest cost layer: a part with a layer newer than the cursor (a
receipt, found stock) is sent again at that layer's version — ops that cost write layers, never the part.

An inventory row's status also depends on its location's `available` flag, and it shows the location's
code. When either changes at version V (`Location.rows_version`), the location's live rows that the
client already holds (row version <= cursor) are sent again at V; other changes of a location (a count
closing it, its name) send the location alone.

A first pull sends every row, so each page is kept cheap: one statement reads the clock, the device's
`last_seq` and the latest version of each source, and only the sources with something after the cursor
are queried; inventory rows are read as plain tuples with their ids as text (no uuid.UUID per id) and
become changes with no per-column work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.clock import CLOCK
from server.counts.models import ACTIVE, Count, CountLine
from server.db import Database
from server.db.codecs import id_as_text
from server.models import CostLayer, Counter, Device, InventoryRow, Location, OpRecord, Part, is_stock
from server.kits.models import KitLine
from server.kits.views import kit_line_data, kit_lines_select, open_kits_only, pickable
from server.purchasing.models import PoLine
from server.purchasing.views import open_only, po_line_data, po_lines_select, receivable
from server.transient import retry_later_if_transient
from sync.models import SyncOp
from sync.push import check_bound
from sync.views import (
    INVENTORY_COLUMNS, count_data, count_line_data, count_lines_select, counts_select, inventory_select,
    location_data, locations_select, part_data, parts_select,
)
from sync.wire import Change, OpStatus, PullIn, PullOut

CURSOR_SHAPE = "g1"  # bump when the shape of `changes` changes: old cursors then answer reset


def encode_cursor(version: int) -> str:
    return f"{CURSOR_SHAPE}.{version}"


def parse_cursor(cursor: str | None, clock: int) -> tuple[int, bool]:
    """(the version after which to send changes, reset?)."""
    if cursor is None:
        return -1, False
    shape, _, number = cursor.partition(".")
    if shape == CURSOR_SHAPE and number.isdigit() and int(number) <= clock:
        return int(number), False
    return -1, True


@dataclass(frozen=True, slots=True)
class Source:
    """One kind of change: a query of rows with a version, and how a row becomes a change."""

    entity: str
    query: Callable[[int], Any]  # after → SELECT of (…, version) rows with version > after
    version: Any  # the column the query orders and bounds by
    id: Any
    change: Callable[[Any], Change]
    resend: bool = False  # sends again what the client holds: nothing to do for a client starting afresh


def _part_change(row: Any) -> Change:
    part, average = row
    return Change(entity="part", id=part.id, version=part.version, op="put", data=part_data(part, average))


def _costed_parts(after: int) -> Any:
    """Parts with a cost layer after the cursor (a receipt, found stock: the average price may have moved), with
    their average price, at their newest layer's version (two layers of one op: the part twice, alike). No write
    of the part's own: ops stamp layers only. The newest by one grouped read of the layers after the cursor (a
    "no newer layer" probe per layer became a hash anti-join on PostgreSQL: 3x the pull)."""
    newest = (
        select(CostLayer.part_id, func.max(CostLayer.version)).where(CostLayer.version > after)
        .group_by(CostLayer.part_id)
    )
    return (
        parts_select().add_columns(CostLayer.version).join(CostLayer, CostLayer.part_id == Part.id)
        .where(CostLayer.version > after, tuple_(CostLayer.part_id, CostLayer.version).in_(newest))
    )


def _average_change(row: Any) -> Change:
    part, average, version = row
    return Change(entity="part", id=part.id, version=version, op="put", data=part_data(part, average))


def _location_change(row: Any) -> Change:
    location, parent = row
    return Change(entity="location", id=location.id, version=location.version, op="put", data=location_data(location, parent))


def _count_change(row: Any) -> Change:
    count, location_code, part_number = row
    if count.status not in ACTIVE:  # planned or closed: nothing to count on a phone
        return Change(entity="count", id=count.id, version=count.version, op="del")
    return Change(entity="count", id=count.id, version=count.version, op="put", data=count_data(*row))


def _count_line_change(row: Any) -> Change:
    return Change(entity="count_line", id=row.id, version=row.version, op="put", data=count_line_data(row))


def _po_line_change(row: Any) -> Change:
    line = row[0]
    if not receivable(row):  # received, closed short or cancelled, or its PO not open
        return Change(entity="po_line", id=line.id, version=line.version, op="del")
    return Change(entity="po_line", id=line.id, version=line.version, op="put", data=po_line_data(row))


def _kit_line_change(row: Any) -> Change:
    line = row[0]
    if not pickable(row):  # its kit completed or cancelled
        return Change(entity="kit_line", id=line.id, version=line.version, op="del")
    return Change(entity="kit_line", id=line.id, version=line.version, op="put", data=kit_line_data(row))


def _active_only(after: int) -> Any:
    """A client starting afresh needs only the counts that are open (and their lines)."""
    return Count.status.in_(ACTIVE) if after < 0 else true()


PULL_COLUMNS = [  # ids read straight into their text, with no uuid.UUID made per value (a first pull reads 300,000)
    id_as_text(column) if column.key in ("id", "part_id", "location_id") else column for column in INVENTORY_COLUMNS
]
KEYS = tuple(column.key for column in INVENTORY_COLUMNS)
QUANTITY, SERIAL = KEYS.index("quantity"), KEYS.index("serial")


def _inventory_change(row: Any) -> Change:
    """A row of PULL_COLUMNS + the version. An emptied lot/untracked row (kept on the server for history) is
    nothing a phone needs: `del`. On SQLite the id is its text here (sync/wire.py's Change.id encodes the same)."""
    if row[QUANTITY] == 0 and row[SERIAL] is None:
        return Change(entity="inventory", id=row[0], version=row[-1], op="del")
    return Change(entity="inventory", id=row[0], version=row[-1], op="put", data=dict(zip(KEYS, row)))


SOURCES = [
    Source("part", lambda after: parts_select().where(Part.version > after), Part.version, Part.id, _part_change),
    Source(
        "location",
        lambda after: locations_select().where(Location.version > after),
        Location.version,
        Location.id,
        _location_change,
    ),
    Source(
        "inventory",
        lambda after: inventory_select(InventoryRow.version, columns=PULL_COLUMNS).where(
            InventoryRow.version > after, is_stock()  # what is on order reaches a phone as its `po_line`
        ),
        InventoryRow.version,
        InventoryRow.id,
        _inventory_change,
    ),
    Source(
        "count",
        lambda after: counts_select().where(Count.version > after, _active_only(after)),
        Count.version,
        Count.id,
        _count_change,
    ),
    Source(
        "count_line",
        lambda after: count_lines_select().where(CountLine.version > after, _active_only(after)),
        CountLine.version,
        CountLine.id,
        _count_line_change,
    ),
    # rows the client holds whose location's code or availability changed since: sent again, at the
    # version of that change (`rows_version`; a count lock changes the location, not what its rows show)
    Source(
        "inventory",
        lambda after: inventory_select(Location.rows_version, columns=PULL_COLUMNS).where(
            # from the (few) locations changed since: not from every row the client holds (SQLite, which
            # keeps no statistics, would walk the inventory up to the cursor on every page otherwise)
            InventoryRow.location_id.in_(select(Location.id).where(Location.rows_version > after)),
            Location.rows_version > after,
            InventoryRow.version <= after,
            or_(InventoryRow.quantity > 0, InventoryRow.serial.is_not(None)),
            is_stock(),
        ),
        Location.rows_version,
        InventoryRow.id,
        _inventory_change,
        resend=True,
    ),
    # parts whose average price a new cost layer may have moved: sent again at that layer's version (a client
    # starting afresh gets every part with its average from the source above)
    Source("part", _costed_parts, CostLayer.version, Part.id, _average_change, resend=True),
    Source(
        "po_line",
        lambda after: po_lines_select().where(PoLine.version > after, open_only(after)),
        PoLine.version,
        PoLine.id,
        _po_line_change,
    ),
    Source(
        "kit_line",
        lambda after: kit_lines_select().where(KitLine.version > after, open_kits_only(after)),
        KitLine.version,
        KitLine.id,
        _kit_line_change,
    ),
]


def _key(change: Change) -> tuple[int, str, str]:
    return (change.version, change.entity, str(change.id))


class PullService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pull(self, request: PullIn, actor: Actor) -> PullOut:
        check_bound(actor, request.device_id)
        with retry_later_if_transient("pull"):
            async with self.db.read() as session:
                if self.db.dialect == "postgresql":  # one snapshot for every query of this pull
                    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                return await self._pull(session, request)

    async def _pull(self, session: AsyncSession, request: PullIn) -> PullOut:
        clock, last_seq, *latest = (await session.execute(marks(request.device_id))).one()
        clock, last_seq = clock or 0, last_seq or 0
        after, reset = parse_cursor(request.cursor, clock)
        sources = [  # a client starting afresh gets every row anyway: nothing to send again
            source for source, newest in zip(SOURCES, latest, strict=True)
            if newest is not None and newest > after and (after >= 0 or not source.resend)
        ]
        changes, upper, has_more = await self._page(session, sources, after, request.limit, clock)
        return PullOut(
            cursor=encode_cursor(upper),
            has_more=has_more,
            reset=reset,
            changes=changes,
            op_results=await op_statuses(session, request.device_id, after, upper),
            last_seq=last_seq,
        )

    async def _page(
        self, session: AsyncSession, sources: list[Source], after: int, limit: int, clock: int
    ) -> tuple[list[Change], int, bool]:
        """Changes with version > after, ordered by (version, entity, id); at most `limit` of them unless one
        version alone has more (a page never splits a version). Returns (changes, last version, has_more)."""
        head: list[Change] = []
        for source in sources:
            rows = await session.execute(source.query(after).order_by(source.version, source.id).limit(limit + 1))
            head.extend(source.change(row) for row in rows)
        head.sort(key=_key)
        if len(head) <= limit:
            return head, max(clock, after), False
        last, first_left_out = head[limit - 1].version, head[limit].version
        if last < first_left_out:
            return head[:limit], last, True
        page = [change for change in head[:limit] if change.version < last]
        if page:
            return page, page[-1].version, True
        # a single version with more than `limit` changes: send all of it
        whole: list[Change] = []
        more = False
        for source in sources:
            rows = await session.execute(source.query(after).where(source.version == last))
            whole.extend(source.change(row) for row in rows)
            beyond = await session.execute(source.query(after).where(source.version > last).limit(1))
            more = more or beyond.first() is not None
        whole.sort(key=_key)
        return whole, last, more


def marks(device_id: UUID) -> Any:
    """One row: the clock, the device's last_seq, and the latest version of each source (None: empty)."""
    return select(
        select(Counter.value).where(Counter.key == CLOCK).scalar_subquery(),
        select(Device.last_seq).where(Device.id == device_id).scalar_subquery(),
        *(select(func.max(source.version)).scalar_subquery() for source in SOURCES),
    )


async def op_statuses(session: AsyncSession, device_id: UUID, after: int, upper: int) -> list[OpStatus]:
    """The device's held and rejected ops, and resolutions, whose state changed in (after, upper]."""
    rows = await session.execute(
        select(SyncOp, OpRecord)
        .join(OpRecord, OpRecord.op_id == SyncOp.op_id)
        .where(
            SyncOp.device_id == device_id,
            and_(SyncOp.version > after, SyncOp.version <= upper),
            or_(OpRecord.status != "applied", SyncOp.resolved_by.is_not(None)),
        )
        .order_by(SyncOp.seq)
    )
    return [op_status(sync_op, record) for sync_op, record in rows]


def op_status(sync_op: SyncOp, record: OpRecord) -> OpStatus:
    corrected = sync_op.applied_as is not None
    return OpStatus(
        op_id=record.op_id,
        seq=sync_op.seq,
        status="applied" if corrected else record.status,
        reason=None if corrected else record.reason,
        message=None if corrected else record.message,
        conflict_id=sync_op.conflict_id,
        result=record.result,
        resolved_by=sync_op.resolved_by,
        note=sync_op.note,
        applied_as=sync_op.applied_as,
    )

