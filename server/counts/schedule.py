"""The count schedule (each location's class, cadence and next count date; what is due or overdue), the
cadence a supervisor sets by hand, and accuracy over time. The rules are in server/counts/rules.py.

A location is on the schedule when it holds stock on hand (not installed, not scrapped) or has a cadence
set by hand. Its value is Σ quantity × unit cost of that stock (unknown cost counts 0); its movement is the
number of movement-log lines into or out of it over the window; it was last counted when the last closed
location count that covered it (it, or a location above it) was closed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import Count, CountKind, CountLocation, CountResult, CountSchedule, CountStatus
from server.counts.rules import (
    CADENCE_DAYS, DEFAULT_HORIZON_DAYS, DEFAULT_WINDOW_DAYS, NO_LINES, ZERO, Accuracy, LocationStats, classify, due_state,
    horizon_end, next_count,
)
from server.counts.schemas import (
    AccuracyOut, AccuracyPoint, CadenceIn, CountOut, DueOut, LocationAccuracy, ScheduleItem, ScheduleOut,
)
from server.counts.service import count_out
from server.db import Database
from server.errors import NotFound
from server.models import InventoryRow, Location, Movement
from server.queries import location_subtree
from server.rules.money import EXACT, money_text, times


class ScheduleService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def schedule(
        self, today: date | None = None, window_days: int = DEFAULT_WINDOW_DAYS, horizon_days: int = DEFAULT_HORIZON_DAYS,
    ) -> ScheduleOut:
        today = today or date.today()
        horizon_end(today, horizon_days)
        async with self.db.read() as session:
            items = await _items(session, today, window_days, horizon_days)
        return ScheduleOut(today=today, window_days=window_days, horizon_days=horizon_days, cadences=CADENCE_DAYS,
                           items=items)

    async def due(self, today: date | None = None, horizon_days: int = DEFAULT_HORIZON_DAYS) -> DueOut:
        today = today or date.today()
        last_day = horizon_end(today, horizon_days)
        async with self.db.read() as session:
            items = await _items(session, today, DEFAULT_WINDOW_DAYS, horizon_days)
            counts = await session.scalars(
                select(Count)
                .where(Count.status != CountStatus.closed.value, Count.due_date <= last_day)
                .order_by(Count.due_date, Count.created_at)
            )
            due_counts: list[CountOut] = [await count_out(session, count) for count in counts]
        return DueOut(today=today, locations=[i for i in items if i.state != "scheduled"], counts=due_counts)

    async def set_cadence(self, location_code: str, data: CadenceIn) -> ScheduleItem | None:
        async with self.db.write() as session:
            location = (await session.execute(select(Location).where(Location.code == location_code))).scalar_one_or_none()
            if location is None:
                raise NotFound(f"No location {location_code}", field="location")
            row = (await session.execute(
                select(CountSchedule).where(CountSchedule.location_id == location.id)
            )).scalar_one_or_none()
            if row is None:
                row = CountSchedule(location_id=location.id)
                session.add(row)
            row.cadence_days, row.note = data.cadence_days, data.note
        schedule = await self.schedule()
        return next((item for item in schedule.items if item.location == location_code), None)

    async def accuracy(self, location: str | None = None, since: date | None = None) -> AccuracyOut:
        async with self.db.read() as session:
            return await _accuracy(session, location, since)


async def _items(session: AsyncSession, today: date, window_days: int, horizon_days: int) -> list[ScheduleItem]:
    locations = {row.id: row for row in await session.execute(select(Location.id, Location.code, Location.kind, Location.parent_id))}
    held: dict[UUID, Decimal] = defaultdict(Decimal)  # Σ quantity × unit cost, in Decimal (one row per location and cost)
    for location_id, cost, quantity in await session.execute(
        select(InventoryRow.location_id, InventoryRow.unit_cost, func.sum(InventoryRow.quantity))
        .where(InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0)
        .group_by(InventoryRow.location_id, InventoryRow.unit_cost)
    ):
        held[location_id] = EXACT.add(held[location_id], times(quantity, cost or ZERO))
    since = datetime.now(UTC) - timedelta(days=window_days)
    moves: dict[UUID, int] = defaultdict(int)
    for column in (Movement.from_location_id, Movement.to_location_id):
        for location_id, n in await session.execute(
            select(column, func.count()).where(Movement.created_at >= since, column.is_not(None)).group_by(column)
        ):
            moves[location_id] += int(n)
    last = dict((location_id, closed) for location_id, closed in await session.execute(
        select(CountLocation.location_id, func.max(Count.closed_at))
        .join(Count, Count.id == CountLocation.count_id)
        .where(Count.status == CountStatus.closed.value, Count.kind == CountKind.location.value)
        .group_by(CountLocation.location_id)
    ))
    cadences = {row.location_id: row.cadence_days for row in (await session.scalars(select(CountSchedule)))}
    planned = await _planned(session, locations)
    ids = sorted(held.keys() | cadences.keys(), key=lambda i: locations[i].code)
    classes = classify([LocationStats(i, locations[i].code, held.get(i, ZERO), moves.get(i, 0)) for i in ids], window_days)
    items = []
    for i in ids:
        c = classes[i]
        cadence = cadences.get(i) or CADENCE_DAYS[c.cls]
        last_day = last[i].date() if last.get(i) else None
        upcoming = next_count(last_day, cadence, today)
        items.append(ScheduleItem(
            location=locations[i].code, kind=locations[i].kind, value=money_text(held.get(i, ZERO)), moves=moves.get(i, 0),
            cls=c.cls, why=c.why, cadence_days=cadence, cadence_source="set" if cadences.get(i) else "class",
            last_counted=last_day, next_count=upcoming, state=due_state(upcoming, today, horizon_days),
            planned=planned.get(i),
        ))
    return sorted(items, key=lambda item: (item.next_count, item.location))


async def _planned(session: AsyncSession, locations: dict[UUID, Any]) -> dict[UUID, dict[str, Any]]:
    """The count already planned or running for each location (a count of it or of a location above it)."""
    found: dict[UUID, dict[str, Any]] = {}
    counts = await session.scalars(
        select(Count).where(Count.kind == CountKind.location.value, Count.status != CountStatus.closed.value)
        .order_by(Count.created_at)
    )
    roots = {count.location_id: count for count in counts}
    for location_id in locations:
        at: UUID | None = location_id
        while at is not None and at not in roots:
            at = locations[at].parent_id if at in locations else None
        if at is not None:
            count = roots[at]
            found[location_id] = {"id": str(count.id), "name": count.name, "status": count.status,
                                  "due": count.due_date.isoformat() if count.due_date else None}
    return found


async def _accuracy(session: AsyncSession, location: str | None, since: date | None) -> AccuracyOut:
    # one row per count, location, state and values: the money is summed in Decimal (SQLite holds it as text)
    accurate = CountResult.expected == CountResult.counted
    missing = CountResult.counted.is_(None)  # expected, closed without a count: counts against accuracy
    query = (
        select(
            CountResult.count_id, Count.name, Count.closed_at, Location.code, missing, accurate,
            CountResult.value_expected, CountResult.value_difference, func.count(),
        )
        .join(Count, Count.id == CountResult.count_id)
        .join(Location, Location.id == CountResult.location_id)
        .where(Count.status == CountStatus.closed.value)
        .group_by(CountResult.count_id, Count.name, Count.closed_at, Location.code, missing, accurate,
                  CountResult.value_expected, CountResult.value_difference)
        .order_by(Count.closed_at, Location.code)
    )
    if location is not None:
        if await session.scalar(select(Location.id).where(Location.code == location)) is None:
            raise NotFound(f"No location {location}", field="location")
        query = query.where(CountResult.location_id.in_(location_subtree(location)))
    if since is not None:
        query = query.where(Count.closed_at >= datetime.combine(since, datetime.min.time(), UTC))
    per_count: dict[UUID, tuple[str, datetime, Accuracy]] = {}
    per_place: dict[tuple[UUID, str], tuple[str, datetime, Accuracy]] = {}  # (count, location), in closing order
    for count_id, name, closed_at, code, not_counted, ok, expected, difference, n in await session.execute(query):
        expected, difference = times(n, expected), times(n, abs(difference))
        figures = (Accuracy(0, 0, ZERO, ZERO, n, expected) if not_counted
                   else Accuracy(n, n if ok else 0, expected, difference))
        for key, found in ((count_id, per_count), ((count_id, code), per_place)):
            _, _, before = found.get(key, (name, closed_at, NO_LINES))  # type: ignore[call-overload]
            found[key] = (name, closed_at, before + figures)  # type: ignore[index]
    per_location: dict[str, list[AccuracyPoint]] = defaultdict(list)
    for (count_id, code), (name, closed_at, figures) in per_place.items():
        per_location[code].append(_point(count_id, name, closed_at, code, figures))
    counts = [_point(count_id, name, closed_at, None, figures) for count_id, (name, closed_at, figures) in per_count.items()]
    overall = sum((figures for _, _, figures in per_count.values()), NO_LINES)
    locations = []
    for code, history in sorted(per_location.items()):
        total = sum((Accuracy(p.lines_counted, p.lines_accurate, Decimal(p.value_expected), Decimal(p.value_difference),
                              p.lines_not_counted, Decimal(p.value_not_counted)) for p in history), NO_LINES)
        locations.append(LocationAccuracy(
            location=code, lines_counted=total.lines_counted, lines_accurate=total.lines_accurate,
            line_accuracy=total.line_accuracy, value_accuracy=total.value_accuracy, history=history,
            lines_not_counted=total.lines_not_counted,
        ))
    return AccuracyOut(overall=_figures(overall, len(counts)), counts=counts, locations=locations)


def _point(count_id: UUID, name: str, closed_at: datetime, code: str | None, a: Accuracy) -> AccuracyPoint:
    return AccuracyPoint(
        count_id=count_id, name=name, closed_at=closed_at, location=code, lines_counted=a.lines_counted,
        lines_accurate=a.lines_accurate, line_accuracy=a.line_accuracy, value_expected=money_text(a.value_expected),
        value_difference=money_text(a.value_difference), value_accuracy=a.value_accuracy,
        lines_not_counted=a.lines_not_counted, value_not_counted=money_text(a.value_not_counted),
    )


def _figures(a: Accuracy, counts: int) -> dict[str, Any]:
    return {
        "counts": counts, "lines_counted": a.lines_counted, "lines_accurate": a.lines_accurate,
        "lines_not_counted": a.lines_not_counted, "value_not_counted": money_text(a.value_not_counted),
        "line_accuracy": a.line_accuracy, "value_expected": money_text(a.value_expected),
        "value_difference": money_text(a.value_difference), "value_accuracy": a.value_accuracy,
    }

