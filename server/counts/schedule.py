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
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.models import Count, CountKind, CountLocation, CountResult, CountSchedule, CountStatus
from server.counts.rules import (
    CADENCE_DAYS, DEFAULT_HORIZON_DAYS, DEFAULT_WINDOW_DAYS, Accuracy, LocationStats, classify, due_state, horizon_end,
    next_count,
)
from server.counts.schemas import (
    AccuracyOut, AccuracyPoint, CadenceIn, CountOut, DueOut, LocationAccuracy, ScheduleItem, ScheduleOut,
)
from server.counts.service import count_out
from server.db import Database
from server.errors import NotFound
from server.models import InventoryRow, Location, Movement, quantity_number
from server.queries import location_subtree


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
    held = {
        location_id: float(value or 0.0)
        for location_id, value in await session.execute(
            select(InventoryRow.location_id, func.sum(
                quantity_number(InventoryRow.quantity, session.bind.dialect.name) * func.coalesce(InventoryRow.unit_cost, 0.0)
            ))
            .where(InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0)
            .group_by(InventoryRow.location_id)
        )
    }
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
    classes = classify([LocationStats(i, locations[i].code, held.get(i, 0.0), moves.get(i, 0)) for i in ids], window_days)
    items = []
    for i in ids:
        c = classes[i]
        cadence = cadences.get(i) or CADENCE_DAYS[c.cls]
        last_day = last[i].date() if last.get(i) else None
        upcoming = next_count(last_day, cadence, today)
        items.append(ScheduleItem(
            location=locations[i].code, kind=locations[i].kind, value=round(held.get(i, 0.0), 2), moves=moves.get(i, 0),
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
    accurate = func.sum(case((CountResult.expected == CountResult.counted, 1), else_=0))
    missing = CountResult.counted.is_(None)  # expected, closed without a count: counts against accuracy
    query = (
        select(
            CountResult.count_id, Count.name, Count.closed_at, Location.code, func.count(CountResult.counted), accurate,
            func.sum(case((missing, 0.0), else_=CountResult.value_expected)), func.sum(func.abs(CountResult.value_difference)),
            func.sum(case((missing, 1), else_=0)), func.sum(case((missing, CountResult.value_expected), else_=0.0)),
        )
        .join(Count, Count.id == CountResult.count_id)
        .join(Location, Location.id == CountResult.location_id)
        .where(Count.status == CountStatus.closed.value)
        .group_by(CountResult.count_id, Count.name, Count.closed_at, Location.code)
        .order_by(Count.closed_at, Location.code)
    )
    if location is not None:
        if await session.scalar(select(Location.id).where(Location.code == location)) is None:
            raise NotFound(f"No location {location}", field="location")
        query = query.where(CountResult.location_id.in_(location_subtree(location)))
    if since is not None:
        query = query.where(Count.closed_at >= datetime.combine(since, datetime.min.time(), UTC))
    per_count: dict[UUID, tuple[str, datetime, Accuracy]] = {}
    per_location: dict[str, list[AccuracyPoint]] = defaultdict(list)
    for count_id, name, closed_at, code, n, ok, expected, difference, not_counted, not_counted_value in await session.execute(query):
        figures = Accuracy(int(n), int(ok or 0), float(expected or 0.0), float(difference or 0.0), int(not_counted or 0),
                           float(not_counted_value or 0.0))
        per_location[code].append(_point(count_id, name, closed_at, code, figures))
        _, _, before = per_count.get(count_id, (name, closed_at, Accuracy(0, 0, 0.0, 0.0)))
        per_count[count_id] = (name, closed_at, before + figures)
    counts = [_point(count_id, name, closed_at, None, figures) for count_id, (name, closed_at, figures) in per_count.items()]
    overall = sum((figures for _, _, figures in per_count.values()), Accuracy(0, 0, 0.0, 0.0))
    locations = []
    for code, history in sorted(per_location.items()):
        total = sum((Accuracy(p.lines_counted, p.lines_accurate, p.value_expected, p.value_difference,
                              p.lines_not_counted, p.value_not_counted) for p in history), Accuracy(0, 0, 0.0, 0.0))
        locations.append(LocationAccuracy(
            location=code, lines_counted=total.lines_counted, lines_accurate=total.lines_accurate,
            line_accuracy=total.line_accuracy, value_accuracy=total.value_accuracy, history=history,
            lines_not_counted=total.lines_not_counted,
        ))
    return AccuracyOut(overall=_figures(overall, len(counts)), counts=counts, locations=locations)


def _point(count_id: UUID, name: str, closed_at: datetime, code: str | None, a: Accuracy) -> AccuracyPoint:
    return AccuracyPoint(
        count_id=count_id, name=name, closed_at=closed_at, location=code, lines_counted=a.lines_counted,
        lines_accurate=a.lines_accurate, line_accuracy=a.line_accuracy, value_expected=round(a.value_expected, 2),
        value_difference=round(a.value_difference, 2), value_accuracy=a.value_accuracy,
        lines_not_counted=a.lines_not_counted, value_not_counted=round(a.value_not_counted, 2),
    )


def _figures(a: Accuracy, counts: int) -> dict[str, Any]:
    return {
        "counts": counts, "lines_counted": a.lines_counted, "lines_accurate": a.lines_accurate,
        "lines_not_counted": a.lines_not_counted, "value_not_counted": round(a.value_not_counted, 2),
        "line_accuracy": a.line_accuracy, "value_expected": round(a.value_expected, 2),
        "value_difference": round(a.value_difference, 2), "value_accuracy": a.value_accuracy,
    }

