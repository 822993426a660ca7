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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.causes import causes
from server.counts.facts import Item, gather
from server.counts.models import Count, CountDecision
from server.counts.rules import NO_LINES, Thresholds, accuracy_of, is_major
from server.counts.schemas import Decision, ReviewLine
from server.counts.sheet import Expected, Key, expected_lines, line_key
from server.models import CountLine, InventoryRow, Location, Part

WINDOW_DAYS = 90  # how far back the movement log is searched for causes


@dataclass(slots=True)
class Counted:
    id: UUID
    location_id: UUID
    part_id: UUID
    location: str
    part: str
    revision: str
    description: str
    unit: str
    tracking: str
    lot: str | None
    serial: str | None
    counted: int
    expected: int
    actor: str
    at: datetime
    earlier: list[dict[str, Any]] = field(default_factory=list)


async def latest_lines(session: AsyncSession, count_id: UUID) -> dict[Key, Counted]:
    """The latest line per item (by change-clock version), with the earlier ones as recounts."""
    rows = await session.execute(
        select(
            CountLine.id, CountLine.location_id, CountLine.part_id, Location.code, Part.part_number, Part.revision,
            Part.description, Part.unit, CountLine.tracking, CountLine.lot, CountLine.serial,
            CountLine.counted_quantity, CountLine.expected_quantity, CountLine.actor, CountLine.created_at,
        )
        .join(Location, Location.id == CountLine.location_id)
        .join(Part, Part.id == CountLine.part_id)
        .where(CountLine.count_id == count_id)
        .order_by(CountLine.version, CountLine.id)
    )
    latest: dict[Key, Counted] = {}
    for row in rows:
        line = Counted(*row)
        key = line_key(line.location_id, line.part_id, line.lot, line.serial)
        before = latest.get(key)
        if before is not None:
            line.earlier = [*before.earlier, {"counted": before.counted, "actor": before.actor, "at": before.at}]
        latest[key] = line
    return latest


async def decisions_of(session: AsyncSession, count_id: UUID) -> dict[UUID, Decision]:
    rows = await session.execute(
        select(CountDecision, Location.code)
        .outerjoin(Location, Location.id == CountDecision.to_location_id)
        .where(CountDecision.count_id == count_id)
    )
    return {
        d.count_line_id: Decision(
            action=d.action, op_id=d.op_id, op_type=d.op_type, delta=d.delta, to_location=code, actor=d.actor,
            at=d.created_at, note=d.note,
        )
        for d, code in rows
    }


async def part_costs(session: AsyncSession, part_ids: set[UUID]) -> dict[UUID, float]:
    """Quantity-weighted unit cost of each part over all its rows with a cost: the value of a find."""
    if not part_ids:
        return {}
    weighted = func.sum(InventoryRow.quantity * InventoryRow.unit_cost)
    rows = await session.execute(
        select(InventoryRow.part_id, weighted, func.sum(InventoryRow.quantity))
        .where(InventoryRow.part_id.in_(sorted(part_ids)), InventoryRow.unit_cost.is_not(None), InventoryRow.quantity > 0)
        .group_by(InventoryRow.part_id)
    )
    return {part_id: float(total) / int(quantity) for part_id, total, quantity in rows if quantity}


def _state(counted: int | None, expected: int) -> str:
    if counted is None:
        return "not_counted"
    return "match" if counted == expected else ("short" if counted < expected else "over")


async def build_review(
    session: AsyncSession, count: Count, thresholds: Thresholds, *, now: datetime | None = None,
    window_days: int = WINDOW_DAYS,
) -> tuple[list[ReviewLine], dict[str, Any]]:
    sheet = {e.key: e for e in await expected_lines(session, count)}
    counted = await latest_lines(session, count.id)
    decided = await decisions_of(session, count.id)
    no_cost = {c.part_id for key, c in counted.items() if key not in sheet or sheet[key].unit_cost is None}
    fallback = await part_costs(session, no_cost)

    def cost_of(key: Key, part_id: UUID) -> float:
        e = sheet.get(key)
        if e is not None and e.unit_cost is not None:
            return e.unit_cost
        return fallback.get(part_id, 0.0)

    discrepant = [
        Item(key, c.location_id, c.part_id, c.location, c.part, c.tracking, c.lot, c.serial, c.expected, c.counted,
             sheet[key].isolated if key in sheet else 0)
        for key, c in counted.items() if c.counted != c.expected
    ]
    facts = await gather(session, discrepant, window_days, now or datetime.now(UTC))
    keys = sorted(sheet.keys() | counted.keys(), key=lambda k: _order(sheet.get(k) or counted[k]))
    lines = [_line(key, sheet.get(key), counted.get(key), cost_of, decided, thresholds, facts) for key in keys]
    return lines, _totals(lines)


def _order(e: Expected | Counted) -> tuple[str, str, str, str]:
    return (e.location, e.part, e.lot or "", e.serial or "")


def _line(
    key: Key, e: Expected | None, c: Counted | None, cost_of: Any, decided: dict[UUID, Decision],
    thresholds: Thresholds, facts: dict[Any, Any],
) -> ReviewLine:
    what = c or e
    assert what is not None
    expected = c.expected if c else e.expected  # type: ignore[union-attr]
    cost = round(cost_of(key, what.part_id), 6)
    difference = None if c is None else c.counted - expected
    return ReviewLine(
        line_id=c.id if c else None, location=what.location, part=what.part, revision=what.revision,
        description=what.description, unit=what.unit, tracking=what.tracking, lot=what.lot, serial=what.serial,
        expected=expected, counted=c.counted if c else None, difference=difference, unit_cost=cost,
        value_expected=round(expected * cost, 6),
        value_difference=None if difference is None else round(difference * cost, 6),
        state=_state(c.counted if c else None, expected),
        major=bool(c) and is_major(expected, c.counted, cost, thresholds),  # type: ignore[union-attr]
        causes=causes(facts[key]) if difference else [],
        counted_by=c.actor if c else None, counted_at=c.at if c else None, recounts=c.earlier if c else [],
        decision=decided.get(c.id) if c else None,
    )


def _totals(lines: list[ReviewLine]) -> dict[str, Any]:
    """Progress counts the lines that were expected (expected > 0 when counted, or not counted yet); a line
    counted where nothing was expected is a find."""
    done = [line for line in lines if line.counted is not None]
    accuracy = accuracy_of([(line.expected, line.counted, line.unit_cost) for line in done]) if done else NO_LINES
    discrepancies = [line for line in done if line.difference]
    found = sum(1 for line in done if line.expected == 0)
    not_counted = len(lines) - len(done)
    return {
        "lines": len(lines),
        "expected_lines": len(done) - found + not_counted,
        "counted": len(done),
        "counted_expected": len(done) - found,
        "found": found,
        "not_counted": not_counted,
        "accurate": accuracy.lines_accurate,
        "short": sum(1 for line in discrepancies if line.difference < 0),  # type: ignore[operator]
        "over": sum(1 for line in discrepancies if line.difference > 0),  # type: ignore[operator]
        "major": sum(1 for line in discrepancies if line.major),
        "decided": sum(1 for line in discrepancies if line.decision is not None),
        "undecided": sum(1 for line in discrepancies if line.decision is None),
        "value_expected": round(accuracy.value_expected, 2),
        "value_difference": round(accuracy.value_difference, 2),
        "line_accuracy": accuracy.line_accuracy,
        "value_accuracy": accuracy.value_accuracy,
    }
