"""Push (protocol §3): a device's queued ops, applied in seq order, exactly once, one transaction each.

For each op, in order of seq:
1. `seq <= last_seq`: a replay, answered from the stored first answer (`duplicate` + `original_status`);
   nothing is applied again.
2. `seq > last_seq + 1`: the batch stops (`seq_gap`, `expected_seq`).
3. Otherwise one write transaction: take the change clock (which also serialises concurrent pushes of
   the same batch: the second sees the first's `last_seq` and answers a replay), decide and apply the op
   (sync/runner.py), write its op record, its conflict if any, its sync record and the device's
   `last_seq`, and commit — all or nothing.
A transient database error stops the batch (`retry_later`); the ops before it stay committed.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import Forbidden
from server.models import Device, OpRecord
from server.ops.stock import Actor, next_version
from sync.decide import is_transient, retry_later_if_transient
from sync.models import SyncOp
from sync.runner import answer, op_digest, run_op, sent_body, settle
from sync.wire import Op, OpResult, PushIn, PushOut, Stopped


def check_bound(actor: Actor, device_id: UUID) -> None:
    """Pushes and pulls for a device need a token bound to it (issued with its `device_id`)."""
    if actor.device_id != device_id:
        bound = f"bound to device {actor.device_id}" if actor.device_id else "not bound to a device"
        raise Forbidden(
            f"This token is {bound}, not {device_id}: sign in on the device with its device_id", field="device_id"
        )


def reused(op: Op) -> OpResult:
    return OpResult(
        op_id=op.op_id, seq=op.seq, status="rejected", reason="op_id_reused", field="op_id",
        message=f"Operation id {op.op_id} was already used for a different operation",
    )


class PushService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def push(self, request: PushIn, actor: Actor) -> PushOut:
        check_bound(actor, request.device_id)
        with retry_later_if_transient("push"):
            async with self.db.read() as session:
                last_seq = await session.scalar(select(Device.last_seq).where(Device.id == request.device_id))
        last_seq = last_seq or 0
        results: list[OpResult] = []
        stopped: Stopped | None = None
        for op in sorted(request.ops, key=lambda op: op.seq):
            try:
                if op.seq <= last_seq:  # last_seq only grows: a replay for sure, no write needed
                    async with self.db.read() as session:
                        results.append(await replay(session, op))
                    continue
                outcome, last_seq = await self._step(request.device_id, op, actor)
            except Exception as error:
                if not is_transient(error):
                    raise
                stopped = Stopped(reason="retry_later")
                break
            if isinstance(outcome, Stopped):
                stopped = outcome
                break
            results.append(outcome)
        return PushOut(last_seq=last_seq, results=results, stopped=stopped)

    async def _step(self, device_id: UUID, op: Op, actor: Actor) -> tuple[OpResult | Stopped, int]:
        """One op in one transaction. `last_seq` is read again after the clock is taken: a concurrent push
        of the same ops may have moved it."""
        async with self.db.write() as session:
            version = await next_version(session)
            device = await session.get_one(Device, device_id)
            if op.seq <= device.last_seq:
                return await replay(session, op), device.last_seq
            if op.seq > device.last_seq + 1:
                return Stopped(reason="seq_gap", expected_seq=device.last_seq + 1), device.last_seq
            result = await self._new(session, version, device, op, actor)
            device.last_seq = op.seq
            return result, op.seq

    async def _new(self, session: AsyncSession, version: int, device: Device, op: Op, actor: Actor) -> OpResult:
        digest = op_digest(op.type, op.args)
        known = await session.scalar(select(OpRecord).where(OpRecord.op_id == op.op_id))
        if known is not None:  # the op id was seen before, from this or another device or online
            if known.body_hash != digest:
                return reused(op)
            return await replay(session, op)
        depends_on = [str(op_id) for op_id in op.depends_on]
        outcome = await run_op(
            session, version, op_id=op.op_id, op_type=op.type, raw_args=op.args, depends_on=depends_on,
            client_time=op.client_time, actor=actor,
        )
        record = OpRecord(
            op_id=op.op_id, device_id=device.id, seq=op.seq, type=op.type, actor=op.actor or actor.username,
            client_time=op.client_time, body_hash=digest, body=sent_body(op.type, op.args, depends_on),
            status=outcome.status,
        )
        session.add(record)
        conflict_id = await settle(session, record, outcome)
        result = answer(record, op.seq, conflict_id, outcome.decision.field if outcome.decision else None)
        session.add(
            SyncOp(
                op_id=op.op_id, device_id=device.id, seq=op.seq, depends_on=depends_on, pushed_by=actor.username,
                pushed_role=actor.role.value, answer=msgspec.to_builtins(result), conflict_id=conflict_id,
                pushed_version=version, version=version,
            )
        )
        await session.flush()
        return result


async def replay(session: AsyncSession, op: Op) -> OpResult:
    """The stored first answer of an op already received, as a `duplicate`."""
    row = (
        await session.execute(
            select(OpRecord, SyncOp).outerjoin(SyncOp, SyncOp.op_id == OpRecord.op_id).where(OpRecord.op_id == op.op_id)
        )
    ).first()
    if row is None:
        return OpResult(
            op_id=op.op_id, seq=op.seq, status="rejected", reason="invalid", field="seq",
            message=f"seq {op.seq} was already used by another operation of this device",
        )
    record, sync_op = row
    if record.body_hash != op_digest(op.type, op.args):
        return reused(op)
    first = msgspec.convert(sync_op.answer, OpResult) if sync_op else answer(record, op.seq, None)
    return msgspec.structs.replace(first, seq=op.seq, status="duplicate", original_status=first.status)
