"""Counts through their life: plan → start (open) → finish counting (review) → close.

- Starting a location count fixes the locations it covers (the location and its subtree, `count_locations`)
  and, when it closes its locations, locks those not locked yet (`count_locked`): operations touching them
  are then held with `location_locked`, online (409) and at sync (held, a conflict for a supervisor).
- Lines come from `count` ops naming the count (server/ops/handlers.py); decisions from
  server/counts/decisions.py.
- Closing records every line as reviewed (`count_results`, server/counts/record.py: expected lines left
  uncounted only by the supervisor's explicit `not_counted`) and the count's summary, reopens the
  locations this count locked (unless another open count closes them too), and hands the reopened
  locations to `on_reopen` in the same transaction — the app wires sync's re-evaluation of the operations
  held on them (sync/reopened.py), which stay for a supervisor to approve or reject.
- `held_on` (wired the same way) lists the operations held on a count's locations, for its page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.decisions import decide
from server.counts.models import ACTIVE, Count, CountKind, CountLocation, CountStatus
from server.counts.record import record_results, recorded_review
from server.counts.review import build_review
from server.counts.rules import ZERO, Accuracy, Thresholds
from server.counts.schemas import (
    CloseOut, CountIn, CountOut, CountsPage, DecideIn, DecisionResult, ReviewOut, SheetLine, SheetOut,
)
from server.actor import Actor
from server.clock import next_version
from server.counts.sheet import sheet_lines
from server.db import Database
from server.errors import Conflict, CountNotOpen, Invalid, NotFound
from server.models import Location, Part
from server.queries import location_subtree
from server.rules.money import money_text

# (session, version, reopened locations, the count, who closed it) → what became of the held ops
OnReopen = Callable[[AsyncSession, int, list[Location], Count, Actor], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class HeldHere:
    """An operation held for a supervisor because one of a count's locations was closed."""

    conflict_id: UUID
    op_type: str
    args: Any
    actor: str
    reevaluated: dict[str, Any] | None  # what became of it when a count reopened its location


# (session, location codes) → the operations held on them
HeldOn = Callable[[AsyncSession, set[str]], Awaitable[list[HeldHere]]]
STATUSES = tuple(status.value for status in CountStatus)


async def count_out(session: AsyncSession, count: Count) -> CountOut:
    location = await session.scalar(select(Location.code).where(Location.id == count.location_id)) if count.location_id else None
    part = await session.scalar(select(Part.part_number).where(Part.id == count.part_id)) if count.part_id else None
    if count.kind == CountKind.part:
        codes: list[str] = []
    elif count.status == CountStatus.planned:
        codes = list(await session.scalars(select(Location.code).where(Location.id.in_(location_subtree(str(location))))))
    else:
        codes = list(await session.scalars(
            select(Location.code).join(CountLocation, CountLocation.location_id == Location.id)
            .where(CountLocation.count_id == count.id)
        ))
    summary = None
    if count.status == CountStatus.closed and count.lines_counted is not None:
        figures = Accuracy(
            count.lines_counted, count.lines_accurate or 0, count.value_expected or ZERO, count.value_difference or ZERO,
            count.lines_not_counted or 0, count.value_not_counted or ZERO,
        )
        summary = {
            "lines_expected": count.lines_expected, "lines_counted": count.lines_counted,
            "lines_accurate": count.lines_accurate, "lines_not_counted": figures.lines_not_counted,
            "line_accuracy": figures.line_accuracy, "value_expected": money_text(figures.value_expected),
            "value_difference": money_text(figures.value_difference), "value_not_counted": money_text(figures.value_not_counted),
            "value_accuracy": figures.value_accuracy, "major_discrepancies": count.major_discrepancies,
        }
    overdue = count.status != CountStatus.closed and count.due_date is not None and count.due_date < date.today()
    return CountOut(
        id=count.id, name=count.name, kind=count.kind, status=count.status, location=location, part=part,
        blind=count.blind, closes_locations=count.closes_locations, due=count.due_date, overdue=overdue,
        created_by=count.created_by, created_at=count.created_at, started_at=count.started_at,
        started_by=count.started_by, closed_at=count.closed_at, closed_by=count.closed_by, note=count.note,
        locations=sorted(codes), summary=summary,
    )


class CountService:
    def __init__(
        self, db: Database, thresholds: Thresholds | None = None, on_reopen: OnReopen | None = None,
        held_on: HeldOn | None = None,
    ) -> None:
        self.db = db
        self.thresholds = thresholds or Thresholds()
        self.on_reopen = on_reopen
        self.held_on = held_on

    # ---- reading ------------------------------------------------------------------------------
    async def list(self, status: str | None, limit: int, offset: int) -> CountsPage:
        wanted = [s for s in (status or "").split(",") if s]
        if any(s not in STATUSES for s in wanted):
            raise Invalid(f"status must be among {', '.join(STATUSES)}", field="status")
        query = select(Count)
        if wanted:
            query = query.where(Count.status.in_(wanted))
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            counts = await session.scalars(
                query.order_by(Count.due_date.is_(None), Count.due_date, Count.created_at).limit(limit).offset(offset)
            )
            items = [await count_out(session, count) for count in counts]
        return CountsPage(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def get(self, count_id: UUID) -> CountOut:
        async with self.db.read() as session:
            return await count_out(session, await _count(session, count_id))

    async def held(self, count: CountOut) -> list[HeldHere]:
        """The operations held on a location count's locations."""
        if count.kind != CountKind.location or self.held_on is None:
            return []
        async with self.db.read() as session:
            return await self.held_on(session, set(count.locations))

    async def sheet(self, count_id: UUID) -> tuple[CountOut, list[SheetLine]]:
        """The count and its sheet (a blind count's without quantities)."""
        async with self.db.read() as session:
            count = await _count(session, count_id)
            return await count_out(session, count), await sheet_lines(session, count, count.blind)

    async def sheet_out(self, count_id: UUID) -> SheetOut:
        count, lines = await self.sheet(count_id)
        return SheetOut(count=count, blind=count.blind, lines=lines, total=len(lines))

    async def review(self, count_id: UUID, only_open: bool = False, limit: int | None = None, offset: int = 0) -> ReviewOut:
        async with self.db.read() as session:
            count = await _count(session, count_id)
            if count.status == CountStatus.closed:  # its record, as it was closed
                lines, total, totals = await recorded_review(session, count, only_open=only_open, limit=limit, offset=offset)
            else:
                lines, total, totals = await build_review(
                    session, count, self.thresholds, only_open=only_open, limit=limit, offset=offset
                )
            out = await count_out(session, count)
        return ReviewOut(count=out, totals=totals, thresholds=self._thresholds(), lines=lines, total_lines=total,
                         limit=limit, offset=offset, currency=self.db.settings.currency)

    def _thresholds(self) -> dict[str, str]:
        return {"value": money_text(self.thresholds.value), "percent": str(self.thresholds.percent)}

    # ---- life cycle ---------------------------------------------------------------------------
    async def plan(self, data: CountIn, actor: Actor) -> CountOut:
        async with self.db.write() as session:
            version = await next_version(session)
            values: dict[str, Any] = {"kind": data.kind}
            if data.kind == CountKind.location:
                if data.location is None or data.part is not None:
                    raise Invalid("a location count names a `location` (and no part)", field="location")
                location = await _by(session, Location, Location.code, data.location, "location")
                values["location_id"], scope = location.id, location.code
            else:
                if data.part is None or data.location is not None:
                    raise Invalid("a part count names a `part` (and no location)", field="part")
                if data.closes_locations:
                    raise Invalid("a part count cannot close locations: it spans all of them", field="closes_locations")
                part = await _by(session, Part, Part.part_number, data.part, "part")
                values["part_id"], scope = part.id, part.part_number
            count = Count(
                **values, name=data.name or f"{scope} {(data.due or date.today()).isoformat()}", blind=data.blind,
                closes_locations=data.closes_locations, due_date=data.due, note=data.note,
                status=CountStatus.planned.value, created_by=actor.username, version=version,
            )
            session.add(count)
            await session.flush()
            return await count_out(session, count)

    async def start(self, count_id: UUID, actor: Actor) -> CountOut:
        async with self.db.write() as session:
            version = await next_version(session)
            count = await _count(session, count_id)
            if count.status != CountStatus.planned:
                raise Conflict(f"Count {count.name} is {count.status}: only a planned count can start", field="id")
            if count.kind == CountKind.location:
                code = await session.scalar(select(Location.code).where(Location.id == count.location_id))
                covered = await session.scalars(select(Location).where(Location.id.in_(location_subtree(str(code)))))
                for location in covered:
                    locks = count.closes_locations and not location.count_locked
                    if locks:
                        location.count_locked, location.version = True, version
                    session.add(CountLocation(count_id=count.id, location_id=location.id, locked_by_count=locks))
            count.status, count.started_at, count.started_by = CountStatus.open.value, datetime.now(UTC), actor.username
            count.version = version
            await session.flush()
            return await count_out(session, count)

    async def finish(self, count_id: UUID) -> CountOut:
        """Counting is done: the count goes to review (recounts are still taken)."""
        async with self.db.write() as session:
            version = await next_version(session)
            count = await _count(session, count_id)
            if count.status != CountStatus.open:
                raise Conflict(f"Count {count.name} is {count.status}: only an open count goes to review", field="id")
            count.status, count.version = CountStatus.review.value, version
            await session.flush()
            return await count_out(session, count)

    async def decide(self, count_id: UUID, data: DecideIn, supervisor: Actor) -> list[DecisionResult]:
        return await decide(self.db, count_id, data, supervisor)

    async def close(self, count_id: UUID, note: str | None, actor: Actor, not_counted: bool = False) -> CloseOut:
        """Record the results (expected lines left uncounted need `not_counted` and a note: refused with
        `count_incomplete` otherwise), reopen the locations, re-evaluate the operations held on them."""
        async with self.db.write() as session:
            version = await next_version(session)
            count = await _count(session, count_id)
            if count.status == CountStatus.closed:
                raise CountNotOpen(f"Count {count.name} is already closed", field="id")
            if count.status in ACTIVE:
                await record_results(session, count, self.thresholds, not_counted=not_counted, note=note)
            count.status, count.closed_at, count.closed_by = CountStatus.closed.value, datetime.now(UTC), actor.username
            count.note = "\n".join(filter(None, [count.note, note])) or None
            count.version = version
            reopened = await _reopen(session, count, version)
            codes = sorted(location.code for location in reopened)
            await session.flush()
            reevaluated = await self.on_reopen(session, version, reopened, count, actor) if reopened and self.on_reopen else []
        return CloseOut(count=await self.get(count_id), reopened=codes, reevaluated=reevaluated)


async def _count(session: AsyncSession, count_id: UUID) -> Count:
    count = await session.get(Count, count_id)
    if count is None:
        raise NotFound(f"No count {count_id}", field="id")
    return count


async def _by(session: AsyncSession, model: Any, column: Any, value: str, field: str) -> Any:
    found = (await session.execute(select(model).where(column == value))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {field} {value}", field=field)
    return found


async def _reopen(session: AsyncSession, count: Count, version: int) -> list[Location]:
    """Open again the locations this count closed, unless another open count closes them too (it then holds
    the lock and opens them when it closes)."""
    reopened = []
    rows = await session.execute(
        select(CountLocation, Location)
        .join(Location, Location.id == CountLocation.location_id)
        .where(CountLocation.count_id == count.id, CountLocation.locked_by_count.is_(True))
    )
    for _, location in rows:
        other = (await session.execute(
            select(CountLocation)
            .join(Count, Count.id == CountLocation.count_id)
            .where(
                CountLocation.location_id == location.id, Count.id != count.id, Count.status.in_(ACTIVE),
                Count.closes_locations.is_(True),
            )
            .limit(1)
        )).scalar_one_or_none()
        if other is not None:
            other.locked_by_count = True
            continue
        location.count_locked, location.version = False, version
        reopened.append(location)
    return reopened
