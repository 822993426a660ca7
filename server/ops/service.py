"""Applying operations: the one path shared by the online API (`POST /api/ops`) and sync push.

`apply_op` runs inside a transaction the caller owns; `OpsService.apply_now` is the online form: one
transaction per op, and an op id that was already applied is answered from its stored record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import DomainError, DuplicateSerial, OpIdReused
from server.models import OpRecord
from server.ops.args import Args, parse_args
from server.ops.batch import WriteBatch
from server.ops.handlers import apply_args
from server.ops.stock import Actor, OpContext, next_version


@dataclass(frozen=True, slots=True)
class OpRequest:
    op_id: UUID
    type: str
    args: Any
    client_time: str | None = None


@dataclass(frozen=True, slots=True)
class OpOutcome:
    op_id: UUID
    status: str
    result: dict[str, Any]
    replayed: bool = False


def body_hash(op_type: str, args: Args) -> str:
    """Identity of an op's content: the same op id with another body is a reused id."""
    canonical = msgspec.json.encode({"type": op_type, "args": args}, order="sorted")
    return hashlib.sha256(canonical).hexdigest()


async def stored_outcome(session: AsyncSession, op_id: UUID, digest: str) -> OpRecord | None:
    record = (await session.execute(select(OpRecord).where(OpRecord.op_id == op_id))).scalar_one_or_none()
    if record is not None and record.body_hash != digest:
        raise OpIdReused(f"Operation id {op_id} was already used for a different operation", field="op_id")
    return record


async def apply_op(session: AsyncSession, op: OpRequest, args: Args, actor: Actor, version: int) -> dict[str, Any]:
    """Apply one parsed op in the caller's transaction and return its result. Inside a WriteBatch (many ops
    in one transaction) the op shares the batch's lookups and stock rows, leaves its ledger and log rows to
    the batch and its stock rows to the batch's next write (its SAVEPOINT ends with one: a constraint the op
    breaks fails there)."""
    batch = WriteBatch.of(session)
    ctx = OpContext(session=session, op_id=op.op_id, op_type=op.type, actor=actor, version=version)
    if batch is not None:
        ctx.lookups = batch.lookups
    try:
        result = await apply_args(ctx, args)
        if batch is not None:  # stock rows written at the end of the batch's SAVEPOINT (this op's, or its run's)
            batch.trail.extend(ctx.trail)
        else:
            await ctx.written()
            await session.flush()
            await ctx.trail.write(session)
    except IntegrityError as error:  # the database's constraints are the last word on duplicates
        if "serial" in str(error.orig).lower():
            raise DuplicateSerial("Serial already exists", field="args.serial") from error
        raise
    except DomainError as error:
        error.field = args_path(error.field, args)
        raise
    return result


def args_path(field: str | None, args: Args) -> str | None:
    """Handlers name the argument at fault (`quantity`); on the wire `field` is its path in the op
    body (`args.quantity`), as for the errors found while parsing."""
    return f"args.{field}" if field in type(args).__struct_fields__ else field


class OpsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply_now(self, op: OpRequest, actor: Actor) -> OpOutcome:
        args = parse_args(op.type, op.args)
        digest = body_hash(op.type, args)
        async with self.db.write() as session:
            version = await next_version(session)  # serialises writers: the replay check below is race-free
            record = await stored_outcome(session, op.op_id, digest)
            if record is not None:
                return OpOutcome(op.op_id, record.status, record.result or {}, replayed=True)
            result = await apply_op(session, op, args, actor, version)
            session.add(applied_record(op, args, actor, result, digest))
        return OpOutcome(op.op_id, "applied", result)


def applied_record(
    op: OpRequest, args: Args, actor: Actor, result: dict[str, Any], digest: str | None = None
) -> OpRecord:
    """The op record of an op applied now by `actor` (online, or a supervisor's decision)."""
    return OpRecord(
        op_id=op.op_id,
        device_id=actor.device_id,
        type=op.type,
        actor=actor.username,
        client_time=op.client_time,
        body_hash=digest or body_hash(op.type, args),
        body={"type": op.type, "args": msgspec.to_builtins(args)},
        status="applied",
        result=result,
    )
