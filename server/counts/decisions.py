"""A supervisor's decisions on counted lines, each applied through the one op path (`apply_op`), with its
op record, ledger entries and movement-log lines, in one transaction with the decision itself.

- `adjust`: an `adjust` op of the difference (reason: the count, what was counted and expected; `count_id`).
  A serial counted here that is recorded, free, at another location is moved here instead (`move` with
  `count_id`): it was moved physically but not digitally.
- `move`: the difference goes to a count-discrepancy location (SOP: the last resort for digital > physical);
  a surplus comes back from it (the unit or quantity must be there).
- `leave`: no change (the record was right, or it was fixed another way, e.g. consumed onto its assembly).

A decision names the latest line of an item (a recount supersedes earlier lines); a line is decided once.
It keeps the likely causes the review showed for the line when it was decided: what the supervisor decided
on stays shown, although the decision itself changes what the data says (an added find is no longer
"never received digitally").
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from server.actor import Actor
from server.counts.locks import active_count
from server.counts.models import Count, CountDecision, CountLine, DecisionAction
from server.counts.review import causes_shown
from server.counts.schemas import DecideIn, DecisionResult
from server.db import Database
from server.db.bulk import insert_rows
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.models import InventoryRow, Location, LocationKind, OpRecord, Part
from server.ops.batch import WriteBatch
from server.ops.records import applied_body, body_hash, op_record
from server.ops.registry import parse_args
from server.ops.service import OpRequest, apply_op


async def decide(db: Database, count_id: UUID, data: DecideIn, supervisor: Actor) -> list[DecisionResult]:
    """Each line in its own transaction: one refused line does not undo the others."""
    async with db.read() as session:  # the causes as the review shows them, before any of these decisions
        count = await session.get(Count, count_id)
        shown = await causes_shown(session, count, list(data.lines)) if count is not None else {}
    results = []
    for line_id in data.lines:
        try:
            async with db.write() as session:
                batch = await WriteBatch.start(session)
                results.append(await _decide_one(batch, count_id, line_id, data, supervisor, shown.get(line_id, [])))
                await batch.finish()
        except DomainError as error:
            results.append(DecisionResult(
                line_id=line_id, status="refused", reason=error.reason, message=error.message, field=error.field,
            ))
    return results


async def _decide_one(
    batch: WriteBatch, count_id: UUID, line_id: UUID, data: DecideIn, supervisor: Actor, causes: list[dict[str, Any]],
) -> DecisionResult:
    session = batch.session
    count = await active_count(session, count_id)
    line = await session.get(CountLine, line_id)
    if line is None or line.count_id != count.id:
        raise NotFound(f"Count {count.name} has no line {line_id}", field="lines")
    await _check_latest(session, line)
    if await session.scalar(select(CountDecision.id).where(CountDecision.count_line_id == line.id)):
        raise Conflict(f"Line {line_id} was already decided", field="lines")
    part = await session.get_one(Part, line.part_id)
    here = await session.get_one(Location, line.location_id)
    difference = line.counted_quantity - line.expected_quantity
    if data.action != DecisionAction.leave and difference == 0:
        raise Invalid("Counted equals expected: nothing to adjust or move", field="action")
    reason = f"Cycle count {count.name} ({count.id}): counted {line.counted_quantity}, expected {line.expected_quantity}"
    if data.note:
        reason += f" — {data.note}"
    op_type, args, target = None, None, None
    if data.action == DecisionAction.adjust:
        op_type, args = await _adjustment(session, count, line, part, here, difference, reason)
    elif data.action == DecisionAction.move:
        target = await _discrepancy_location(session, data.to_location)
        op_type, args = _to_discrepancy(count, line, part, here, target, difference)
    op_id = None
    if op_type is not None:
        op_id = UUID(str(uuid7()))
        parsed = parse_args(op_type, args)
        async with batch.savepoint():  # its rows written here: a constraint they break refuses this line
            result = await apply_op(batch, OpRequest(op_id, op_type, parsed), parsed, supervisor, batch.next_version())
        await insert_rows(session, OpRecord.__table__, [
            op_record(op_id, op_type, supervisor, applied_body(op_type, parsed), body_hash(op_type, parsed), "applied",
                      result),
        ])
    session.add(CountDecision(
        count_id=count.id, count_line_id=line.id, action=data.action, op_id=op_id, op_type=op_type, delta=difference,
        to_location_id=target.id if target else None, actor=supervisor.username, note=data.note, causes=causes,
    ))
    await session.flush()
    return DecisionResult(
        line_id=line.id, status="decided", action=data.action, op_id=op_id, op_type=op_type, delta=difference,
    )


async def _check_latest(session: AsyncSession, line: CountLine) -> None:
    same_item = select(CountLine.id).where(
        CountLine.count_id == line.count_id, CountLine.location_id == line.location_id,
        CountLine.part_id == line.part_id,
        CountLine.serial.is_(None) if line.serial is None else CountLine.serial == line.serial,
        CountLine.lot.is_(None) if line.lot is None else CountLine.lot == line.lot,
    )
    latest = await session.scalar(same_item.order_by(CountLine.version.desc(), CountLine.id.desc()).limit(1))
    if latest != line.id:
        raise Conflict(f"Line {line.id} was recounted since: decide its latest line ({latest})", field="lines")


def _item(part: Part, line: CountLine) -> dict[str, Any]:
    args: dict[str, Any] = {"part": part.part_number, "tracking": part.tracking}
    if line.serial:
        args["serial"] = line.serial
    elif line.lot:
        args["lot"] = line.lot
    return args


async def _adjustment(
    session: AsyncSession, count: Count, line: CountLine, part: Part, here: Location, difference: int, reason: str
) -> tuple[str, dict[str, Any]]:
    item = {**_item(part, line), "count_id": str(count.id)}
    adjust = {**item, "location": here.code, "delta": difference, "reason": reason}
    if not line.serial:
        return "adjust", adjust
    unit = (await session.execute(select(InventoryRow).where(InventoryRow.serial == line.serial))).scalar_one_or_none()
    if difference < 0:  # missing: written off if it is still recorded here
        if unit is None or unit.location_id != here.id or unit.quantity == 0 or unit.scrapped or unit.installed_in_id:
            raise Invalid(f"{line.serial} is no longer recorded here: nothing to write off (leave the line)", field="lines")
        return "adjust", adjust
    if unit is None or (unit.quantity == 0 and not unit.scrapped and unit.installed_in_id is None):
        return "adjust", adjust  # a find: added here, or a written-off unit restored
    if unit.scrapped or unit.installed_in_id is not None:
        state = "scrapped" if unit.scrapped else "installed in an assembly"
        raise Invalid(f"{line.serial} is recorded as {state}: correct that first, then leave the line", field="lines")
    if unit.location_id == here.id:
        raise Invalid(f"{line.serial} is already recorded here: leave the line", field="lines")
    elsewhere = await session.get_one(Location, unit.location_id)
    return "move", {**item, "from_location": elsewhere.code, "to_location": here.code, "quantity": 1}


async def _discrepancy_location(session: AsyncSession, code: str | None) -> Location:
    query = select(Location).where(Location.kind == LocationKind.count_discrepancy.value)
    if code is not None:
        query = query.where(Location.code == code)
    found = (await session.execute(query.order_by(Location.code).limit(1))).scalar_one_or_none()
    if found is None:
        if code is not None:
            raise Invalid(f"{code} is not a count-discrepancy location", field="to_location")
        raise Invalid("There is no count-discrepancy location: create one (kind count_discrepancy)", field="to_location")
    return found


def _to_discrepancy(
    count: Count, line: CountLine, part: Part, here: Location, target: Location, difference: int
) -> tuple[str, dict[str, Any]]:
    """A shortage goes to the discrepancy location; a surplus comes back from it."""
    source, destination = (here, target) if difference < 0 else (target, here)
    return "move", {
        **_item(part, line), "from_location": source.code, "to_location": destination.code,
        "quantity": abs(difference), "count_id": str(count.id),
    }
