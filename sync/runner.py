"""Running one pushed op in a write batch the caller owns (server/ops/batch.py), and recording its outcome.

Shared by push (an op seen for the first time) and by conflict resolution (a held op's dependants are
re-run once it is approved). The caller hands out the versions (its batch's), so that versions follow commit
order. The op's effects run in a SAVEPOINT: a domain error rolls them back and the op's rejected or held
outcome is recorded in the same transaction instead. Push passes what it already knows
of the op's dependencies (one query for a whole chunk of ops) and records outcomes in bulk
(`conflict_for`); conflict resolution lets `run_op` look dependencies up and `settle` them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from server.actor import Actor
from server.errors import DomainError
from server.models import OpRecord
from server.ops.args import Args
from server.ops.batch import WriteBatch
from server.ops.registry import parse_args
from server.ops.service import OpRequest, apply_op, unapplied
from server.transient import is_transient
from sync.decide import APPLIED, REJECTED, Decision, Dependency, check_dependencies, decide
from sync.models import SyncConflict, SyncOp


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    result: dict[str, Any] | None = None
    decision: Decision | None = None


async def dependencies(session: AsyncSession, op_ids: list[str]) -> list[Dependency]:
    if not op_ids:
        return []
    ids = [UUID(op_id) for op_id in op_ids]
    rows = await session.execute(
        select(OpRecord.op_id, OpRecord.status, SyncOp.conflict_id)
        .outerjoin(SyncOp, SyncOp.op_id == OpRecord.op_id)
        .where(OpRecord.op_id.in_(ids))
    )
    known = {op_id: (status, conflict_id) for op_id, status, conflict_id in rows}
    found = []
    for op_id in ids:
        status, conflict_id = known.get(op_id, (None, None))
        found.append(Dependency(str(op_id), status, str(conflict_id) if conflict_id else None))
    return found


class Isolate(Exception):
    """Raised instead of a verdict by `run_op(..., isolate=False)` when applying the op failed: its effects
    may be half-written, so the caller rolls back its own SAVEPOINT and runs the op again isolated."""


async def run_op(
    batch: WriteBatch,
    version: int,
    *,
    op_id: UUID,
    op_type: str,
    raw_args: Any,
    depends_on: list[str],
    client_time: str | None,
    actor: Actor,
    known: list[Dependency] | None = None,
    isolate: bool = True,
    args: Args | None = None,
) -> Outcome:
    """Decide and, if it can be, apply one op: validate, check its dependencies (`known`: their states, if
    the caller has them; looked up otherwise), apply in a SAVEPOINT. With `isolate=False` the caller has a
    SAVEPOINT around many ops (push applies runs of ops optimistically): no SAVEPOINT of its own, and a
    failure while applying raises `Isolate` (the checks before applying write nothing: they still decide).
    `args`: `raw_args` parsed already, if the caller has them."""
    try:
        args = args if args is not None else parse_args(op_type, raw_args)
        check_dependencies(known if known is not None else await dependencies(batch.session, depends_on))
        request = OpRequest(op_id, op_type, args, client_time)
        if not isolate:
            try:
                return Outcome(APPLIED, result=await apply_op(batch, request, args, actor, version))
            except (DomainError, IntegrityError) as error:
                raise Isolate(op_id) from error
        try:
            async with batch.savepoint():
                result = await apply_op(batch, request, args, actor, version)
        except DomainError:  # a duplicate serial too, as the database's unique index says (server/ops/rows.py)
            raise
        except Exception as error:  # its SAVEPOINT is rolled back: the op's own outcome, the others go on
            if is_transient(error):
                raise
            return failed(op_id, error)
    except DomainError as error:
        decision = decide(error)
        return Outcome(decision.status, decision=decision)
    return Outcome(APPLIED, result=result)


def failed(op_id: UUID, error: Exception) -> Outcome:
    """An op whose applying failed otherwise than by a domain error (a database error, a bug): rejected
    `invalid`, never a failure of the whole push (sync protocol §3: one bad op never blocks the queue)."""
    return Outcome(REJECTED, decision=Decision(REJECTED, "invalid", unapplied(op_id, error)))


def conflict_for(op_id: UUID, device_id: UUID | None, outcome: Outcome) -> dict[str, Any] | None:
    """The conflict to open for a supervisor (its row), if the outcome needs one."""
    decision = outcome.decision
    if decision is None or decision.parked_behind or not decision.raises_conflict:
        return None
    return {
        "id": UUID(str(uuid7())), "op_id": op_id, "device_id": device_id, "kind": decision.status,
        "reason": decision.reason, "message": decision.message, "field": decision.field,
        "details": msgspec.to_builtins(decision.details), "status": "open",
    }


def conflict_of(outcome: Outcome, opened: dict[str, Any] | None) -> UUID | None:
    """The conflict the op belongs to (`opened`) or waits behind (None if it needs nobody)."""
    if opened is not None:
        return opened["id"]
    if outcome.decision is not None and outcome.decision.parked_behind:
        return UUID(outcome.decision.parked_behind)
    return None


async def settle(session: AsyncSession, record: OpRecord, outcome: Outcome) -> UUID | None:
    """Write the outcome on the op's record; open a conflict if the outcome needs a supervisor. Returns the
    conflict the op belongs to or waits behind (None if it needs nobody)."""
    decision = outcome.decision
    record.status = outcome.status
    record.result = outcome.result
    record.reason = decision.reason if decision else None
    record.message = decision.message if decision else None
    await session.flush()
    opened = conflict_for(record.op_id, record.device_id, outcome)
    if opened is not None:
        session.add(SyncConflict(**opened))
        await session.flush()
    return conflict_of(outcome, opened)


def sent_body(op_type: str, raw_args: Any, depends_on: list[str]) -> dict[str, Any]:
    """What the op record keeps of an op as sent (its other fields are columns of the record)."""
    body: dict[str, Any] = {"type": op_type, "args": raw_args}
    if depends_on:
        body["depends_on"] = depends_on
    return body
