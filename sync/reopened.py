"""Operations held because a location was closed for a cycle count: listed on the count's page (`held_here`)
and looked at again when the count closes (`reevaluate_held`).

Both are handed to CountService by the app factory; `reevaluate_held` is called by CountService.close in the closing transaction, after the count's
locations were opened again. Each open conflict held for `location_locked` whose op names a reopened
location (or installs into / takes from a unit, whose place is a location) is re-evaluated: the op is
applied to the current state inside a SAVEPOINT that is always rolled back — a dry run. The outcome is
written on the conflict (`details.reevaluated`: the count, when, and whether the op would now apply or
why not) and the conflict stays open: a supervisor approves it (sync/conflicts.py applies it then) or
rejects it. Nothing is applied here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.counts.models import Count
from server.counts.service import HeldHere
from server.errors import DomainError
from server.models import Location, OpRecord, Role
from server.ops.batch import WriteBatch
from server.ops.registry import OP_TYPES, parse_args, places_named
from server.ops.service import OpRequest, apply_op
from sync.decide import HELD, decide
from sync.models import SyncConflict, SyncOp

async def held_on(session: AsyncSession, codes: set[str]) -> list[tuple[SyncConflict, OpRecord, SyncOp | None]]:
    """Open conflicts held for `location_locked` whose op touches one of these locations."""
    rows = await session.execute(
        select(SyncConflict, OpRecord, SyncOp)
        .join(OpRecord, OpRecord.op_id == SyncConflict.op_id)
        .outerjoin(SyncOp, SyncOp.op_id == SyncConflict.op_id)
        .where(SyncConflict.status == "open", SyncConflict.kind == HELD, SyncConflict.reason == "location_locked")
        .order_by(SyncConflict.created_at, SyncConflict.id)
    )
    found = []
    for conflict, record, sync_op in rows:
        named = set(places_named(record.type, (record.body or {}).get("args")))
        in_unit = record.type in OP_TYPES and OP_TYPES[record.type].in_unit  # held where a parent unit is
        if named & codes or in_unit:
            found.append((conflict, record, sync_op))
    return found


async def held_here(session: AsyncSession, codes: set[str]) -> list[HeldHere]:
    """The operations held on these locations, as a count's page lists them."""
    return [
        HeldHere(conflict.id, record.type, (record.body or {}).get("args"), record.actor,
                 (conflict.details or {}).get("reevaluated"))
        for conflict, record, _ in await held_on(session, codes)
    ]


async def reevaluate_held(
    session: AsyncSession, version: int, reopened: list[Location], count: Count, supervisor: Actor
) -> list[dict[str, Any]]:
    codes = {location.code for location in reopened}
    targets = [
        (conflict.id, dict(conflict.details or {}), record, sync_op)
        for conflict, record, sync_op in await held_on(session, codes)
    ]
    outcomes, batch = [], WriteBatch(session)  # the closing transaction's, which took the clock (`version`)
    for conflict_id, details, record, sync_op in targets:
        operator = Actor(sync_op.pushed_by, Role(sync_op.pushed_role), sync_op.device_id) if sync_op else supervisor
        verdict = await _dry_run(batch, version, record, operator)
        details["reevaluated"] = {
            "count_id": str(count.id), "count": count.name, "at": datetime.now(UTC).isoformat(timespec="seconds"),
            **verdict,
        }
        await session.execute(update(SyncConflict).where(SyncConflict.id == conflict_id).values(details=details))
        outcomes.append({"conflict_id": str(conflict_id), "op_id": str(record.op_id), "type": record.type, **verdict})
    return outcomes


async def _dry_run(batch: WriteBatch, version: int, record: OpRecord, actor: Actor) -> dict[str, Any]:
    """Would the op apply now? Applied in a SAVEPOINT that is rolled back whatever happens."""
    op_id, op_type, raw = record.op_id, record.type, (record.body or {}).get("args")
    try:
        async with batch.trial():
            args = parse_args(op_type, raw)
            await apply_op(batch, OpRequest(op_id, op_type, args), args, actor, version)
            await batch.lookups.rows.write(batch.session)  # a constraint its rows break says no too
        verdict: dict[str, Any] = {"outcome": "applies", "reason": None, "message": "It would apply now"}
    except DomainError as error:
        decision = decide(error)
        verdict = {"outcome": decision.status, "reason": decision.reason, "message": decision.message}
    return verdict
