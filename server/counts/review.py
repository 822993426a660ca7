"""The review of a count: per item, what was expected next to what was counted, the difference and its
value, whether it is major, its likely causes, and the decision taken on it.

- The count of an item is its latest line (highest change-clock version: the last one the server took);
  earlier lines are kept and shown as recounts.
- Expected is what the server held when the line was recorded (`count_lines.expected_quantity`), so a
  decision corrects the difference the counter saw, even if stock moved after (in a count that does not
  close its locations). An item not counted yet shows what is expected now.
- Items counted that the sheet did not list are finds (expected 0).
- Value: the difference × the unit cost of the stock there (quantity-weighted), or of the part elsewhere
  when none is there (a find), else 0.

Built for size (a site of 50k lines): the latest line of each item is the one not `superseded` (marked when
the line was written, server/counts/lines.py) and its unit cost was recorded with it, so the totals of the
lines counted right are one aggregate query; only the lines shown (with `only_open`: not counted, or counted
wrong) come into Python, keyed by raw ids (sheet.py `raw`); names are looked up for those, causes for the
discrepancies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import String, and_, exists, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.counts.causes import causes
from server.counts.facts import Item, gather
from server.counts.models import Count, CountDecision
from server.counts.rules import NO_LINES, Accuracy, Thresholds, is_major
from server.counts.schemas import Decision, ReviewLine
from server.counts.sheet import CHUNK, Group, RawKey, bulk, names, raw, sheet_groups
from server.models import CountLine, InventoryRow, Location

WINDOW_DAYS = 90  # how far back the movement log is searched for causes
ID, LOCATION, PART, TRACKING, LOT, SERIAL, COUNTED, EXPECTED, ACTOR, AT, COST = range(11)  # a count line row


def _latest(count_id: UUID) -> list[Any]:
    return [CountLine.count_id == count_id, CountLine.superseded.is_(False)]


async def counted_lines(session: AsyncSession, count_id: UUID, *where: Any) -> dict[RawKey, Any]:
    """The latest line of each item (those matching `where`), by raw key."""
    rows = await (await session.connection()).execute(
        select(
            raw(session, CountLine.id), raw(session, CountLine.location_id), raw(session, CountLine.part_id),
            CountLine.tracking, CountLine.lot, CountLine.serial, CountLine.counted_quantity,
            CountLine.expected_quantity, CountLine.actor, raw_time(session, CountLine.created_at), CountLine.unit_cost,
        ).where(*_latest(count_id), *where)
    )
    return {(row[LOCATION], row[PART], None if row[SERIAL] else row[LOT], row[SERIAL]): row for row in rows}


async def recounts(session: AsyncSession, count_id: UUID) -> dict[RawKey, list[dict[str, Any]]]:
    """The earlier lines of the items recounted, oldest first."""
    rows = await session.execute(
        select(
            raw(session, CountLine.location_id), raw(session, CountLine.part_id), CountLine.lot, CountLine.serial,
            CountLine.counted_quantity, CountLine.actor, CountLine.created_at,
        )
        .where(CountLine.count_id == count_id, CountLine.superseded.is_(True))
        .order_by(CountLine.version)
    )
    found: dict[RawKey, list[dict[str, Any]]] = {}
    for location_id, part_id, lot, serial, counted, actor, at in rows:
        found.setdefault((location_id, part_id, None if serial else lot, serial), []).append(
            {"counted": counted, "actor": actor, "at": at}
        )
    return found


async def _right(session: AsyncSession, count_id: UUID) -> tuple[int, float]:
    """The lines counted right: how many, and their value."""
    n, value = (await session.execute(
        select(func.count(), func.coalesce(func.sum(CountLine.expected_quantity * func.coalesce(CountLine.unit_cost, 0.0)), 0.0))
        .where(*_latest(count_id), CountLine.counted_quantity == CountLine.expected_quantity)
    )).one()
    return int(n), float(value)


async def decisions_of(session: AsyncSession, count_id: UUID) -> dict[Any, Decision]:
    """Decisions by the raw id of the line they name."""
    rows = await session.execute(
        select(raw(session, CountDecision.count_line_id), CountDecision, Location.code)
        .outerjoin(Location, Location.id == CountDecision.to_location_id)
        .where(CountDecision.count_id == count_id)
    )
    return {
        line_id: Decision(
            action=d.action, op_id=d.op_id, op_type=d.op_type, delta=d.delta, to_location=code, actor=d.actor,
            at=d.created_at, note=d.note,
        )
        for line_id, d, code in rows
    }


async def part_costs(session: AsyncSession, part_ids: set[Any]) -> dict[Any, float]:
    """Quantity-weighted unit cost of each part over all its rows with a cost: the value of a find."""
    found: dict[Any, float] = {}
    part_id, wanted = raw(session, InventoryRow.part_id), list(part_ids)
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(
            select(part_id, func.sum(InventoryRow.quantity * InventoryRow.unit_cost), func.sum(InventoryRow.quantity))
            .where(part_id.in_(wanted[start:start + CHUNK]), InventoryRow.unit_cost.is_not(None), InventoryRow.quantity > 0)
            .group_by(part_id)
        )
        found.update((i, float(total) / int(quantity)) for i, total, quantity in rows if quantity)
    return found


def raw_time(session: AsyncSession, column: Any) -> Any:
    """A time column as SQLite stores it (text, UTC), not parsed into a datetime per row (~2.5 µs each, a
    tenth of a 50k-line review); PostgreSQL's driver gives datetimes at no cost. See `rfc3339`."""
    return type_coerce(column, String) if session.bind.dialect.name == "sqlite" else column


def rfc3339(value: Any) -> str | None:
    """A time as the API writes it: SQLite's stored text `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) or a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:]}Z"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def uuid_of(value: Any) -> UUID:
    return UUID(bytes=value) if isinstance(value, bytes) else value


def line_id(value: Any) -> str:
    """A count line's id as text, from its raw form (16 bytes on SQLite)."""
    if isinstance(value, bytes):
        h = value.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(value)


@dataclass(slots=True)
class Shown:
    key: RawKey
    group: Group | None
    row: Any  # the latest count line, or None
    cost: float
    major: bool = False
    decision: Decision | None = None


async def build_review(
    session: AsyncSession, count: Count, thresholds: Thresholds, *, now: datetime | None = None,
    window_days: int = WINDOW_DAYS, only_open: bool = False, limit: int | None = None, offset: int = 0,
) -> tuple[list[ReviewLine], int, dict[str, Any]]:
    """One page of the review's lines (with `only_open`: those not counted, or counted wrong), in order of
    location, part, lot and serial; how many lines there are in all; and the totals (always over every
    line). Only the page's lines are built, and causes looked up for its discrepancies."""
    with bulk():  # tens of thousands of rows alive at once: no cyclic collections walking them meanwhile
        return await _build_review(session, count, thresholds, now=now, window_days=window_days,
                                   only_open=only_open, limit=limit, offset=offset)


async def _build_review(
    session: AsyncSession, count: Count, thresholds: Thresholds, *, now: datetime | None, window_days: int,
    only_open: bool, limit: int | None, offset: int,
) -> tuple[list[ReviewLine], int, dict[str, Any]]:
    wrong = CountLine.counted_quantity != CountLine.expected_quantity
    counted = await counted_lines(session, count.id, *([wrong] if only_open else []))
    uncounted = await sheet_groups(session, count, ~_counted_here(count.id))
    right = await _right(session, count.id)
    decided = await decisions_of(session, count.id)
    fallback = await part_costs(session, {k[1] for k, row in counted.items() if row[COST] is None})
    tally, shown = Tally(right=right), [Shown(key, group, None, group.unit_cost or 0.0) for key, group in uncounted.items()]
    for key, row in counted.items():
        cost = row[COST] if row[COST] is not None else fallback.get(key[1], 0.0)
        decision = decided.get(row[ID])
        if row[COUNTED] != row[EXPECTED]:
            major = is_major(row[EXPECTED], row[COUNTED], cost, thresholds)
            tally.add(row[EXPECTED], row[COUNTED], cost, major, decision is not None)
            shown.append(Shown(key, None, row, cost, major, decision))
        else:
            shown.append(Shown(key, None, row, cost, False, decision))
    codes, parts = await names(session, {s.key[0] for s in shown}, {s.key[1] for s in shown})
    shown.sort(key=lambda s: (codes[s.key[0]], parts[s.key[1]].number, s.key[2] or "", s.key[3] or ""))
    page = shown[offset:] if limit is None else shown[offset : offset + limit]
    wrong = [s for s in page if s.row is not None and s.row[COUNTED] != s.row[EXPECTED]]
    isolated = await _isolated(session, count, wrong)
    facts = await gather(session, [
        Item(s.key, uuid_of(s.key[0]), uuid_of(s.key[1]), codes[s.key[0]], parts[s.key[1]].number, s.row[TRACKING],
             s.row[LOT], s.row[SERIAL], s.row[EXPECTED], s.row[COUNTED], isolated.get(s.key, 0))
        for s in wrong
    ], window_days, now or datetime.now(UTC))
    earlier = await recounts(session, count.id)
    tally.not_counted = len(uncounted)
    return [_line(s, codes, parts, earlier, facts) for s in page], len(shown), tally.totals()


def _counted_here(count_id: UUID) -> Any:
    """An inventory row whose item has a line in the count (the sheet minus this is what is not counted)."""
    line = aliased(CountLine)
    return exists().where(
        line.count_id == count_id, line.superseded.is_(False), line.location_id == InventoryRow.location_id,
        line.part_id == InventoryRow.part_id,
        or_(
            and_(InventoryRow.serial.is_not(None), line.serial == InventoryRow.serial),
            and_(InventoryRow.serial.is_(None), line.serial.is_(None),
                 func.coalesce(line.lot, "") == func.coalesce(InventoryRow.lot, "")),
        ),
    )


async def _isolated(session: AsyncSession, count: Count, wrong: list[Shown]) -> dict[RawKey, int]:
    """How much of each discrepant lot/untracked item is isolated there (a cause: wrong status)."""
    keys = {s.key for s in wrong if s.key[3] is None}
    if not keys:
        return {}
    groups = await sheet_groups(session, count, InventoryRow.isolated.is_(True))
    return {key: group.isolated for key, group in groups.items() if key in keys}


def _state(counted: int | None, expected: int) -> str:
    if counted is None:
        return "not_counted"
    return "match" if counted == expected else ("short" if counted < expected else "over")


def _line(s: Shown, codes: dict[Any, str], parts: dict[Any, Any], earlier: dict[RawKey, Any], facts: dict[Any, Any]) -> ReviewLine:
    part, row, cost = parts[s.key[1]], s.row, round(s.cost, 6)
    expected = row[EXPECTED] if row is not None else s.group.expected  # type: ignore[union-attr]
    counted = row[COUNTED] if row is not None else None
    difference = None if counted is None else counted - expected
    return ReviewLine(
        line_id=line_id(row[ID]) if row is not None else None, location=codes[s.key[0]], part=part.number,
        revision=part.revision, description=part.description, unit=part.unit,
        tracking=row[TRACKING] if row is not None else s.group.tracking,  # type: ignore[union-attr]
        lot=s.key[2], serial=s.key[3], expected=expected, counted=counted, difference=difference, unit_cost=cost,
        value_expected=round(expected * cost, 6), value_difference=None if difference is None else round(difference * cost, 6),
        state=_state(counted, expected), major=s.major,
        causes=causes(facts[s.key]) if difference and s.key in facts else [],
        counted_by=row[ACTOR] if row is not None else None, counted_at=rfc3339(row[AT]) if row is not None else None,
        recounts=earlier.get(s.key, []), decision=s.decision,
    )


@dataclass(slots=True)
class Tally:
    """The review's totals: the lines counted right come as one aggregate (`right`), the discrepancies one
    by one. Progress counts the lines that were expected (expected > 0 when counted, or not counted yet); a
    line counted where nothing was expected is a find (always a discrepancy)."""

    right: tuple[int, float]  # lines counted right, their value
    not_counted: int = 0
    wrong: int = 0
    found: int = 0
    short: int = 0
    over: int = 0
    major: int = 0
    decided: int = 0
    value_expected: float = 0.0
    value_difference: float = 0.0

    def add(self, expected: int, counted: int, cost: float, major: bool, decided: bool) -> None:
        self.wrong += 1
        self.found += expected == 0
        self.short += counted < expected
        self.over += counted > expected
        self.major += major
        self.decided += decided
        self.value_expected += expected * cost
        self.value_difference += abs(counted - expected) * cost

    def totals(self) -> dict[str, Any]:
        right, right_value = self.right
        counted = right + self.wrong
        accuracy = Accuracy(counted, right, self.value_expected + right_value, self.value_difference) if counted else NO_LINES
        return {
            "lines": counted + self.not_counted,
            "expected_lines": counted - self.found + self.not_counted,
            "counted": counted,
            "counted_expected": counted - self.found,
            "found": self.found,
            "not_counted": self.not_counted,
            "accurate": right,
            "short": self.short,
            "over": self.over,
            "major": self.major,
            "decided": self.decided,
            "undecided": self.wrong - self.decided,
            "value_expected": round(accuracy.value_expected, 2),
            "value_difference": round(accuracy.value_difference, 2),
            "line_accuracy": accuracy.line_accuracy,
            "value_accuracy": accuracy.value_accuracy,
        }
