"""A closed count's record: written once, at close, from the review as it stood — every line, counted or not,
with its likely causes in full and its decision — and read back as the closed count's review. Nothing
changes it after: later stock movements, decisions elsewhere or changed cause rules do not rewrite what was
decided on.

Closing with expected lines uncounted needs the supervisor's explicit decision (`not_counted`, with a note
saying why); each such line is recorded with decision `not_counted` (counted null), shown in the record, and
counts against accuracy (server/counts/rules.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.counts.causes import SOP_OVER, SOP_SHORT
from server.counts.models import Count, CountLine, CountResult
from server.counts.review import Tally, build_review, decisions_of, recounts
from server.counts.rules import ZERO, Thresholds
from server.counts.schemas import Decision, ReviewLine
from server.counts.sheet import ItemKey
from server.db.codecs import id_text, raw_id, raw_time, rfc3339
from server.errors import CountIncomplete, Invalid
from server.models import Location, Part
from server.rules.money import EXACT, money_text, times

NOT_COUNTED = "not_counted"
SOP = {code: (text, fix) for code, text, fix in SOP_SHORT + SOP_OVER}


async def record_results(
    session: AsyncSession, count: Count, thresholds: Thresholds, *, not_counted: bool, note: str | None,
) -> None:
    """Write the record of an open (or in review) count as it is now, and its summary."""
    lines, _, totals = await build_review(session, count, thresholds)  # every line: no limit
    missing = totals["not_counted"]
    if missing and not not_counted:
        raise CountIncomplete(
            f"{missing} expected line(s) of {count.name} are not counted: count them, or close with "
            "`not_counted` (and a note saying why) to record them as not counted",
            field="not_counted", not_counted=missing,
        )
    if missing and not note:
        raise Invalid("Say in the note why the lines were not counted", field="note")
    ids = {str(i): (i, location_id, part_id) for i, location_id, part_id in await session.execute(
        select(CountLine.id, CountLine.location_id, CountLine.part_id).where(CountLine.count_id == count.id)
    )}
    uncounted = [line for line in lines if line.line_id is None]
    places = dict((code, i) for code, i in await session.execute(
        select(Location.code, Location.id).where(Location.code.in_({line.location for line in uncounted}))
    )) if uncounted else {}
    parts = dict((number, i) for number, i in await session.execute(
        select(Part.part_number, Part.id).where(Part.part_number.in_({line.part for line in uncounted}))
    )) if uncounted else {}
    for line in lines:
        if line.line_id is None:
            count_line_id, location_id, part_id = None, places[line.location], parts[line.part]
        else:
            count_line_id, location_id, part_id = ids[line.line_id]
        decision = line.decision
        session.add(CountResult(
            count_id=count.id, location_id=location_id, part_id=part_id, count_line_id=count_line_id,
            tracking=line.tracking, lot=line.lot, serial=line.serial, expected=line.expected, counted=line.counted,
            unit_cost=Decimal(line.unit_cost), value_expected=Decimal(line.value_expected),
            value_difference=Decimal(line.value_difference or 0), major=line.major, causes=line.causes,
            decision=NOT_COUNTED if line.counted is None else (decision.action if decision else None),
            op_id=decision.op_id if decision else None,
        ))
    count.lines_expected, count.lines_counted = totals["expected_lines"], totals["counted"]
    count.lines_accurate, count.major_discrepancies = totals["accurate"], totals["major"]
    count.value_expected, count.value_difference = Decimal(totals["value_expected"]), Decimal(totals["value_difference"])
    count.lines_not_counted, count.value_not_counted = missing, Decimal(totals["value_not_counted"])


async def recorded_review(
    session: AsyncSession, count: Count, *, only_open: bool, limit: int | None, offset: int,
) -> tuple[list[ReviewLine], int, dict[str, Any]]:
    """A closed count's review, from its record: a page of lines in order of location, part, lot and serial
    (with `only_open`: those not counted or counted wrong), how many there are, and the totals."""
    r = CountResult
    mine = [r.count_id == count.id, *([or_(r.counted.is_(None), r.counted != r.expected)] if only_open else [])]
    total = int(await session.scalar(select(func.count()).select_from(r).where(*mine)) or 0)
    query = (
        select(
            raw_id(session, r.count_line_id).label("line_id"), raw_id(session, r.location_id).label("location_id"),
            raw_id(session, r.part_id).label("part_id"), Location.code, Part.part_number, Part.revision,
            Part.description, Part.unit, func.coalesce(r.tracking, CountLine.tracking).label("tracking"), r.lot,
            r.serial, r.expected, r.counted, r.unit_cost, r.value_expected, r.value_difference, r.major, r.causes,
            r.decision, CountLine.actor, raw_time(session, CountLine.created_at).label("at"),
        )
        .join(Location, Location.id == r.location_id)
        .join(Part, Part.id == r.part_id)
        .outerjoin(CountLine, CountLine.id == r.count_line_id)
        .where(*mine)
        .order_by(Location.code, Part.part_number, func.coalesce(r.lot, ""), func.coalesce(r.serial, ""))
        .offset(offset)
    )
    rows = await (await session.connection()).execute(query if limit is None else query.limit(limit))
    decided, earlier = await decisions_of(session, count.id), await recounts(session, count.id)
    not_counted = Decision(action=NOT_COUNTED, op_id=None, op_type=None, delta=0, to_location=None,
                           actor=str(count.closed_by), at=count.closed_at or count.updated_at, note=count.note)
    lines = [_line(row, not_counted if row.decision == NOT_COUNTED else decided.get(row.line_id), earlier) for row in rows]
    return lines, total, await _totals(session, count)


def _line(row: Any, decision: Decision | None, earlier: dict[ItemKey, list[dict[str, Any]]]) -> ReviewLine:
    """A recorded row (`recorded_review`'s columns) as a line of the review."""
    counted, expected = row.counted, row.expected
    difference = None if counted is None else counted - expected
    state = "not_counted" if difference is None else "match" if difference == 0 else "short" if difference < 0 else "over"
    return ReviewLine(
        line_id=id_text(row.line_id), location=row.code, part=row.part_number, revision=row.revision,
        description=row.description, unit=row.unit, tracking=row.tracking or "", lot=row.lot, serial=row.serial,
        expected=expected, counted=counted, difference=difference, unit_cost=money_text(row.unit_cost),
        value_expected=money_text(row.value_expected),
        value_difference=None if difference is None else money_text(row.value_difference),
        state=state, major=row.major, causes=[_cause(c) for c in row.causes or []], counted_by=row.actor,
        counted_at=rfc3339(row.at),
        recounts=earlier.get(ItemKey(row.location_id, row.part_id, None if row.serial else row.lot, row.serial), []),
        decision=decision,
    )


def _cause(cause: Any) -> dict[str, Any]:
    """A recorded cause; counts closed before causes were kept in full recorded only their codes."""
    if isinstance(cause, dict):
        return cause
    text, fix = SOP.get(cause, (cause, ""))
    return {"code": cause, "text": text, "fix": fix, "evidence": None}


async def _totals(session: AsyncSession, count: Count) -> dict[str, Any]:
    """The record's totals, as the review computes them (review.py `Tally`)."""
    r = CountResult
    right = await _values(session, r.count_id == count.id, r.counted == r.expected)
    missing = await _values(session, r.count_id == count.id, r.counted.is_(None))
    tally = Tally(right=right, not_counted=missing[0], not_counted_value=missing[1])
    wrong = await session.execute(
        select(r.expected, r.counted, r.value_expected, r.value_difference, r.major, r.decision)
        .where(r.count_id == count.id, r.counted.is_not(None), r.counted != r.expected)
    )
    for expected, counted, value_expected, value_difference, major, decision in wrong:
        tally.add(expected, counted, value_expected, value_difference, major, decision is not None)
    return tally.totals()


async def _values(session: AsyncSession, *where: Any) -> tuple[int, Decimal]:
    """How many recorded lines match, and the Σ of their value expected: in Decimal, from one row per distinct value
    (SQLite holds money as text)."""
    n, value = 0, ZERO
    for amount, lines in await session.execute(
        select(CountResult.value_expected, func.count()).where(*where).group_by(CountResult.value_expected)
    ):
        n, value = n + lines, EXACT.add(value, times(lines, amount))
    return n, value
