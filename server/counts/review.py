"""The review of a count: per item, what was expected next to what was counted, the difference and its
value, whether it is major, its likely causes, and the decision taken on it.

- The count of an item is its latest line (highest change-clock version: the last one the server took);
  earlier lines are kept and shown as recounts.
- Expected is what the server held when the line was recorded (`count_lines.expected_quantity`), so a
  decision corrects the difference the counter saw, even if stock moved after (in a count that does not
  close its locations). An item not counted yet shows what is expected now.
- Items counted that the sheet did not list are finds (expected 0).
- Value: exact money (Decimal, 6 places, decimal strings on the wire): the difference × the unit cost of the
  stock there (quantity-weighted), or of the part elsewhere when none is there (a find), else 0. A line
  adjusted shows what its adjustment booked instead: the FIFO cost of its usage record (a shortage) or the
  value of its found layer (a surplus) — the value the costs carry (docs/costs.md).
- Causes: derived from the data now (server/counts/causes.py) — except on a decided line, which shows the
  causes its decision was made on (kept with it), whatever the decision itself changed. A closed count's
  review is its record, not this (server/counts/record.py).

Built for size (a site of 50k lines): the latest line of each item is the one not `superseded` (marked when
the line was written, server/counts/lines.py) and its unit cost was recorded with it, so the totals of the
lines counted right are one aggregate query; only the lines shown (with `only_open`: not counted, or counted
wrong) come into Python, keyed by the ids as the driver gives them (server/db/codecs.py `raw_id`); names are
looked up for those, causes for the discrepancies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.counts.causes import causes
from server.counts.facts import Item, gather
from server.counts.models import Count, CountDecision, CountLine
from server.counts.models import DecisionAction
from server.counts.rules import ZERO, Accuracy, Thresholds, is_major
from server.counts.schemas import Decision, ReviewLine
from server.counts.sheet import CHUNK, Group, ItemKey, names, sheet_groups
from server.db.codecs import id_text, money_of_sum, raw_id, raw_money, raw_time, rfc3339, uuid_of, whole_value_sum
from server.models import CostLayer, InventoryRow, Location, Number, UsageRecord, canon
from server.rules.money import EXACT, exact, money_text, times, total

WINDOW_DAYS = 90  # how far back the movement log is searched for causes


def _latest(count_id: UUID) -> list[Any]:
    return [CountLine.count_id == count_id, CountLine.superseded.is_(False)]


class CountedLine(msgspec.Struct, gc=False):
    """The latest count line of an item, as read (ids and time raw: server/db/codecs.py). Not tracked by the
    cyclic garbage collector: a count has tens of thousands."""

    id: Any
    location_id: Any
    part_id: Any
    tracking: str
    lot: str | None
    serial: str | None
    counted: int
    expected: int
    actor: str
    at: Any
    cost: Any  # raw money (server/db/codecs.py `raw_money`): Decimal(cost) is the amount


async def counted_lines(session: AsyncSession, count_id: UUID, *where: Any) -> dict[ItemKey, CountedLine]:
    """The latest line of each item (those matching `where`), by item."""
    rows = await (await session.connection()).execute(
        select(
            raw_id(session, CountLine.id), raw_id(session, CountLine.location_id), raw_id(session, CountLine.part_id),
            CountLine.tracking, CountLine.lot, CountLine.serial, CountLine.counted_quantity,
            CountLine.expected_quantity, CountLine.actor, raw_time(session, CountLine.created_at),
            raw_money(session, CountLine.unit_cost),
        ).where(*_latest(count_id), *where)
    )
    lines = (CountedLine(*row) for row in rows)
    return {ItemKey(line.location_id, line.part_id, None if line.serial else line.lot, line.serial): line for line in lines}


async def recounts(session: AsyncSession, count_id: UUID) -> dict[ItemKey, list[dict[str, Any]]]:
    """The earlier lines of the items recounted, oldest first."""
    rows = await session.execute(
        select(
            raw_id(session, CountLine.location_id), raw_id(session, CountLine.part_id), CountLine.lot, CountLine.serial,
            CountLine.counted_quantity, CountLine.actor, CountLine.created_at,
        )
        .where(CountLine.count_id == count_id, CountLine.superseded.is_(True))
        .order_by(CountLine.version)
    )
    found: dict[ItemKey, list[dict[str, Any]]] = {}
    for location_id, part_id, lot, serial, counted, actor, at in rows:
        found.setdefault(ItemKey(location_id, part_id, None if serial else lot, serial), []).append(
            {"counted": counted, "actor": actor, "at": at}
        )
    return found


async def _right(session: AsyncSession, count_id: UUID) -> tuple[int, Decimal]:
    """The lines counted right: how many, and their value — the Σ of each line's value (quantity × unit cost, to 6
    places), exact. Lines of a whole quantity (a whole quantity × 6 places has 6 places: nothing to round) are
    summed by the database, exactly (`whole_value_sum`); the others are read and summed in Decimal."""
    right = [*_latest(count_id), CountLine.counted_quantity == CountLine.expected_quantity]
    whole, value_sum = whole_value_sum(session, CountLine.expected_quantity, CountLine.unit_cost)
    n, summed = (await session.execute(select(func.count(), value_sum).where(*right))).one()
    rows = await (await session.connection()).execute(
        select(CountLine.expected_quantity, raw_money(session, CountLine.unit_cost))
        .where(*right, ~whole, CountLine.unit_cost.is_not(None))
    )
    fractional = total(line_value(quantity, Decimal(cost)) for quantity, cost in rows)
    return int(n), EXACT.add(money_of_sum(session, summed), fractional)


def line_value(quantity: Number, cost: Decimal) -> Decimal:
    """A line's value: quantity × unit cost, rounded half to even to 6 places (what the record keeps; a whole
    quantity times an amount of 6 places has no more)."""
    value = times(quantity, cost)
    return value if type(quantity) is int else exact(value)


async def decisions_of(session: AsyncSession, count_id: UUID) -> dict[Any, Decision]:
    """Decisions by the raw id of the line they name."""
    rows = await session.execute(
        select(raw_id(session, CountDecision.count_line_id), CountDecision, Location.code)
        .outerjoin(Location, Location.id == CountDecision.to_location_id)
        .where(CountDecision.count_id == count_id)
    )
    decided = list(rows)
    booked = await booked_values(session, [d.op_id for _, d, _ in decided if d.action == DecisionAction.adjust and d.op_id])
    return {
        line_id: Decision(
            action=d.action, op_id=d.op_id, op_type=d.op_type, delta=d.delta, to_location=code, actor=d.actor,
            at=d.created_at, note=d.note, causes=d.causes,
            value=money_text(booked[d.op_id]) if d.op_id in booked else None,
        )
        for line_id, d, code in decided
    }


async def booked_values(session: AsyncSession, op_ids: list[UUID]) -> dict[UUID, Decimal]:
    """What adjustments booked, by op: −the FIFO cost of a negative one's usage record, +the value of a positive
    one's found layer (quantity × unit cost, to 6 places). An adjustment that booked nothing (a move) is not here."""
    found: dict[UUID, Decimal] = defaultdict(Decimal)
    for start in range(0, len(op_ids), CHUNK):
        chunk = op_ids[start:start + CHUNK]
        for op_id, cost in await session.execute(select(UsageRecord.op_id, UsageRecord.cost).where(UsageRecord.op_id.in_(chunk))):
            found[op_id] = EXACT.subtract(found[op_id], cost)
        for op_id, quantity, cost in await session.execute(
            select(CostLayer.op_id, CostLayer.quantity_received, CostLayer.unit_cost)
            .where(CostLayer.op_id.in_(chunk), CostLayer.kind == "found")
        ):
            found[op_id] = EXACT.add(found[op_id], line_value(quantity, cost))
    return dict(found)


async def part_costs(session: AsyncSession, part_ids: set[Any]) -> dict[Any, Decimal]:
    """Quantity-weighted unit cost of each part over all its rows with a cost, to 6 places: the value of a find.
    Exact: the rows of a whole quantity summed by the database (`whole_value_sum`), the others in Decimal."""
    values: dict[Any, Decimal] = defaultdict(Decimal)
    quantities: dict[Any, Number] = {}
    whole, value_sum = whole_value_sum(session, InventoryRow.quantity, InventoryRow.unit_cost)
    part_id, wanted = raw_id(session, InventoryRow.part_id), list(part_ids)
    for start in range(0, len(wanted), CHUNK):
        costed = [part_id.in_(wanted[start:start + CHUNK]), InventoryRow.unit_cost.is_not(None), InventoryRow.quantity > 0]
        for i, summed, quantity in await session.execute(
            select(part_id, value_sum, func.sum(InventoryRow.quantity)).where(*costed).group_by(part_id)
        ):
            values[i], quantities[i] = money_of_sum(session, summed), quantity
        for i, quantity, cost in await session.execute(
            select(part_id, InventoryRow.quantity, raw_money(session, InventoryRow.unit_cost)).where(*costed, ~whole)
        ):
            values[i] = EXACT.add(values[i], times(quantity, Decimal(cost)))
    return {i: exact(EXACT.divide(values[i], Decimal(quantity))) for i, quantity in quantities.items() if quantity}


class Shown(msgspec.Struct, gc=False):
    """A line of the review. Not tracked by the cyclic garbage collector: a count has tens of thousands, and
    nothing they hold refers back to them."""

    key: ItemKey
    group: Group | None
    row: CountedLine | None  # the latest count line
    cost: Decimal
    value: Decimal | None = None  # the difference's, signed (none: not counted)
    major: bool = False
    decision: Decision | None = None


async def build_review(
    session: AsyncSession, count: Count, thresholds: Thresholds, *, now: datetime | None = None,
    window_days: int = WINDOW_DAYS, only_open: bool = False, limit: int | None = None, offset: int = 0,
) -> tuple[list[ReviewLine], int, dict[str, Any]]:
    """One page of the review's lines (with `only_open`: those not counted, or counted wrong), in order of
    location, part, lot and serial; how many lines there are in all; and the totals (always over every
    line). Only the page's lines are built, and causes looked up for its discrepancies."""
    wrong = CountLine.counted_quantity != CountLine.expected_quantity
    counted = await counted_lines(session, count.id, *([wrong] if only_open else []))
    uncounted = await sheet_groups(session, count, ~_counted_here(count.id))
    right = await _right(session, count.id)
    decided = await decisions_of(session, count.id)
    fallback = await part_costs(session, {key.part_id for key, row in counted.items() if row.cost is None})
    tally, shown = Tally(right=right), [Shown(key, group, None, group.unit_cost or ZERO) for key, group in uncounted.items()]
    tally.not_counted = len(uncounted)
    tally.not_counted_value = total(line_value(s.group.expected, s.cost) for s in shown)  # type: ignore[union-attr]
    for key, row in counted.items():
        cost = Decimal(row.cost) if row.cost is not None else fallback.get(key.part_id, ZERO)
        decision = decided.get(row.id)
        if row.counted != row.expected:
            value = difference_value(row.counted - row.expected, cost, decision)
            major = is_major(row.expected, row.counted, value, thresholds)
            tally.add(row.expected, row.counted, line_value(row.expected, cost), value, major, decision is not None)
            shown.append(Shown(key, None, row, cost, value, major, decision))
        else:
            shown.append(Shown(key, None, row, cost, ZERO, False, decision))
    codes, parts = await names(session, {s.key.location_id for s in shown}, {s.key.part_id for s in shown})
    shown.sort(key=lambda s: (codes[s.key.location_id], parts[s.key.part_id].number, s.key.lot or "", s.key.serial or ""))
    page = shown[offset:] if limit is None else shown[offset : offset + limit]
    wrong = [s for s in page if s.row is not None and s.row.counted != s.row.expected and _kept(s.decision) is None]
    facts = await _facts(session, count, wrong, codes, parts, window_days, now or datetime.now(UTC))
    earlier = await recounts(session, count.id)
    return [_line(s, codes, parts, earlier, facts) for s in page], len(shown), tally.totals()


async def _facts(
    session: AsyncSession, count: Count, wrong: list[Shown], codes: dict[Any, str], parts: dict[Any, Any],
    window_days: int, now: datetime,
) -> dict[Any, Any]:
    """What the data says about these discrepant lines (server/counts/facts.py)."""
    isolated = await _isolated(session, count, wrong)
    return await gather(session, [
        Item(s.key, uuid_of(s.key.location_id), uuid_of(s.key.part_id), codes[s.key.location_id],
             parts[s.key.part_id].number, s.row.tracking, s.row.lot, s.row.serial, s.row.expected, s.row.counted,
             isolated.get(s.key, 0))
        for s in wrong
    ], window_days, now)


def _kept(decision: Decision | None) -> list[dict[str, Any]] | None:
    """The causes a decision was made on (none for decisions taken before they were kept)."""
    return None if decision is None else decision.causes


async def causes_shown(session: AsyncSession, count: Count, line_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The likely causes the review shows now for these counted lines (those counted wrong): what a decision
    on them is made on, kept with it (server/counts/decisions.py)."""
    rows = await counted_lines(
        session, count.id, CountLine.id.in_(line_ids), CountLine.counted_quantity != CountLine.expected_quantity,
    )
    if not rows:
        return {}
    wrong = [Shown(key, None, row, ZERO) for key, row in rows.items()]
    codes, parts = await names(session, {s.key.location_id for s in wrong}, {s.key.part_id for s in wrong})
    facts = await _facts(session, count, wrong, codes, parts, WINDOW_DAYS, datetime.now(UTC))
    return {UUID(id_text(s.row.id)): causes(facts[s.key]) for s in wrong if s.key in facts}


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


async def _isolated(session: AsyncSession, count: Count, wrong: list[Shown]) -> dict[ItemKey, int]:
    """How much of each discrepant lot/untracked item is isolated there (a cause: wrong status)."""
    keys = {s.key for s in wrong if s.key.serial is None}
    if not keys:
        return {}
    groups = await sheet_groups(session, count, InventoryRow.isolated.is_(True))
    return {key: group.isolated for key, group in groups.items() if key in keys}


def _state(counted: int | None, expected: int) -> str:
    if counted is None:
        return "not_counted"
    return "match" if counted == expected else ("short" if counted < expected else "over")


def difference_value(difference: Number, cost: Decimal, decision: Decision | None) -> Decimal:
    """A discrepancy's value, signed: what its adjustment booked, else the difference × the unit cost (6 places)."""
    if decision is not None and decision.value is not None:
        return Decimal(decision.value)
    return line_value(difference, cost)


def _line(s: Shown, codes: dict[Any, str], parts: dict[Any, Any], earlier: dict[ItemKey, Any], facts: dict[Any, Any]) -> ReviewLine:
    part, row = parts[s.key.part_id], s.row
    expected = row.expected if row is not None else s.group.expected  # type: ignore[union-attr]
    counted = row.counted if row is not None else None
    difference = None if counted is None else canon(counted - expected)
    return ReviewLine(
        line_id=id_text(row.id) if row is not None else None, location=codes[s.key.location_id], part=part.number,
        revision=part.revision, description=part.description, unit=part.unit,
        tracking=row.tracking if row is not None else s.group.tracking,  # type: ignore[union-attr]
        lot=s.key.lot, serial=s.key.serial, expected=expected, counted=counted, difference=difference,
        unit_cost=money_text(s.cost), value_expected=money_text(line_value(expected, s.cost)),
        value_difference=None if s.value is None else money_text(s.value),
        state=_state(counted, expected), major=s.major,
        causes=_kept(s.decision) or (causes(facts[s.key]) if difference and s.key in facts else []),
        counted_by=row.actor if row is not None else None, counted_at=rfc3339(row.at) if row is not None else None,
        recounts=earlier.get(s.key, []), decision=s.decision,
    )


@dataclass(slots=True)
class Tally:
    """The review's totals: the lines counted right come as one aggregate (`right`), the discrepancies one
    by one. Progress counts the lines that were expected (expected > 0 when counted, or not counted yet); a
    line counted where nothing was expected is a find (always a discrepancy)."""

    right: tuple[int, Decimal]  # lines counted right, their value
    not_counted: int = 0
    not_counted_value: Decimal = ZERO
    wrong: int = 0
    found: int = 0
    short: int = 0
    over: int = 0
    major: int = 0
    decided: int = 0
    value_expected: Decimal = field(default=ZERO)
    value_difference: Decimal = field(default=ZERO)  # Σ |value of the difference|

    def add(self, expected: Number, counted: Number, value_expected: Decimal, value_difference: Decimal, major: bool,
            decided: bool) -> None:
        """A line counted wrong: its value expected, and its difference's value (signed or not)."""
        self.wrong += 1
        self.found += expected == 0
        self.short += counted < expected
        self.over += counted > expected
        self.major += major
        self.decided += decided
        self.value_expected = EXACT.add(self.value_expected, value_expected)
        self.value_difference = EXACT.add(self.value_difference, abs(value_difference))

    def totals(self) -> dict[str, Any]:
        right, right_value = self.right
        counted = right + self.wrong
        accuracy = Accuracy(
            counted, right, EXACT.add(self.value_expected, right_value), self.value_difference, self.not_counted,
            self.not_counted_value,
        )
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
            "value_expected": money_text(accuracy.value_expected),  # exact: the Σ of the lines' values
            "value_difference": money_text(accuracy.value_difference),
            "value_not_counted": money_text(accuracy.value_not_counted),
            "line_accuracy": accuracy.line_accuracy,
            "value_accuracy": accuracy.value_accuracy,
        }
