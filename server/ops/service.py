"""Applying operations: the one path of every op, whoever sends it.

An op is applied in a write batch (server/ops/batch.py), the caller's write transaction: `apply_op` runs its
handler there and hands its ledger and log rows to the batch. Online (`POST /api/ops`) an op is a batch of
one (`OpsService.apply_now`); a sync push applies many to a batch (sync/push.py), a supervisor's approval
an op and those held behind it (sync/conflicts.py), a count decision its adjustment (server/counts/
decisions.py). Each writes the op's record with `op_record` (server/ops/records.py), and an op id the server
already has is found by `recorded`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.db import Database
from server.db.bulk import insert_rows
from server.db.codecs import json_of
from server.errors import DomainError, Invalid, OpIdReused, RetryLater
from server.models import OpRecord
from server.ops.args import Args
from server.ops.batch import WriteBatch
from server.ops.records import applied_body, body_hash, op_record, recorded
from server.ops.registry import op_type, parse_args
from server.ops.stock import OpContext
from server.rules.dependencies import check_received
from server.transient import is_transient

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpRequest:
    op_id: UUID
    type: str
    args: Any
    client_time: str | None = None
    depends_on: Sequence[UUID] = ()


@dataclass(frozen=True, slots=True)
class OpOutcome:
    op_id: UUID
    status: str
    result: dict[str, Any]
    replayed: bool = False


async def apply_op(
    batch: WriteBatch, op: OpRequest, args: Args, actor: Actor, version: int, *, approved: bool = False
) -> dict[str, Any]:
    """Apply one parsed op in the batch's transaction and return its result. The op shares the batch's
    lookups and stock rows (written at the end of the SAVEPOINT around it, or by the batch: a constraint the
    op breaks fails there), and leaves its ledger and log rows to the batch. `approved`: a supervisor
    approves it, held (sync/conflicts.py)."""
    ctx = OpContext(batch=batch, op_id=op.op_id, op_type=op.type, actor=actor, version=version, approved=approved)
    try:
        result = await op_type(op.type).handler(ctx, args)
    except DomainError as error:
        error.field = args_path(error.field, args)
        raise
    batch.trail.extend(ctx.trail)
    return result


async def check_dependencies(session: AsyncSession, depends_on: Sequence[UUID]) -> None:
    """The ops `depends_on` names must be ones the server has (applied online or pushed)."""
    if depends_on:
        received = await session.scalars(select(OpRecord.op_id).where(OpRecord.op_id.in_(set(depends_on))))
        check_received(depends_on, set(received))


def args_path(field: str | None, args: Args) -> str | None:
    """Handlers name the argument at fault (`quantity`); on the wire `field` is its path in the op
    body (`args.quantity`), as for the errors found while parsing."""
    return f"args.{field}" if field in type(args).__struct_fields__ else field


class OpsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply_now(self, op: OpRequest, actor: Actor) -> OpOutcome:
        """A batch of one, its own transaction. Any failure of applying it (a database error, a bug) is the op's
        own problem, not a server error: 503 `retry_later` when transient, else 422 `invalid` (logged); nothing
        of it is written."""
        args = parse_args(op.type, op.args)
        digest = body_hash(op.type, args)
        try:
            async with self.db.write() as session:
                batch = await WriteBatch.start(session)  # the clock first: the replay check below is race-free
                for known in await recorded(session, [op.op_id]):
                    if known.body_hash != digest:
                        raise OpIdReused(f"Operation id {op.op_id} was already used for a different operation",
                                         field="op_id")
                    return OpOutcome(op.op_id, known.status, json_of(known.result, dict[str, Any] | None) or {},
                                     replayed=True)
                await check_dependencies(session, op.depends_on)
                result = await apply_op(batch, op, args, actor, batch.next_version())
                record = op_record(op.op_id, op.type, actor, applied_body(op.type, args), digest, "applied", result,
                                   client_time=op.client_time)
                await batch.finish()
                await insert_rows(session, OpRecord.__table__, [record])
        except DomainError:
            raise
        except Exception as error:
            if is_transient(error):
                raise RetryLater("The database is busy or unavailable: send the operation again later") from error
            raise Invalid(unapplied(op.op_id, error)) from error
        return OpOutcome(op.op_id, "applied", result)


def unapplied(op_id: UUID, error: Exception) -> str:
    """Log an op whose applying failed otherwise than by a domain error (a database error, a bug), for someone
    to look at, and say so to its sender: the op is refused `invalid`, never a server error."""
    LOG.error("operation %s could not be applied", op_id, exc_info=error)
    failed = "The database refused" if isinstance(error, DBAPIError) else "The server failed applying"
    return f"{failed} this operation ({type(error).__name__}); nothing of it was applied"
