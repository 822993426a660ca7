"""Push (protocol §3): a device's queued ops, applied in seq order, exactly once, in chunked transactions.

1. Ops with `seq <= last_seq` are replays, answered together from one query of their stored first answers
   (`duplicate` + `original_status`); nothing is applied again.
2. The other ops are applied in chunks, one write transaction each (server/ops/batch.py): take the change
   clock first (its lock, held until commit, also queues a concurrent push of the same ops: it reads
   `last_seq` after the clock and answers what this one applied as replays), read `last_seq`, look up in
   one query what is known of the chunk's op ids and of the ops they depend on, then per op in seq order:
   - `seq > last_seq + 1` stops the batch (`seq_gap`, `expected_seq`);
   - an op id already known is a duplicate (same body) or `op_id_reused`;
   - otherwise decide and apply it (sync/runner.py) in a SAVEPOINT: a domain error rolls back just that
     op, whose rejected or held outcome is recorded instead. Each op gets the next version.
   SAVEPOINTs are cheap in SQL but not in SQLAlchemy (a quarter of the time per op), and neither is
   writing an op's stock rows, so ops are applied in runs: one SAVEPOINT and one write of the stock rows
   (server/ops/rows.py) for a run of up to RUN_MAX ops, optimistically. If an op of the run fails while
   applying, at the run's write (a constraint) or meets a transient error, the whole run is rolled back
   and its ops up to that one are applied again one SAVEPOINT each (the outcome that counts); runs then
   start small and grow again. Then the chunk's op records, conflicts, sync records, ledger and movement
   rows are inserted in bulk (server/bulk.py), the device's `last_seq` set, and the chunk commits: every
   op's effects, record and `last_seq` together or not at all. A chunk ends after CHUNK_OPS ops or
   CHUNK_SECONDS, so other writers get their turn.
3. A transient database error at op k rolls back to op k's savepoint; the ops before it commit and the
   batch stops with `retry_later`. If the commit itself fails, none of the chunk's ops is reported (they
   were not applied): `retry_later` after the results of the chunks before.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Text, bindparam, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.bulk import insert_rows
from server.db import Database
from server.errors import DomainError, Forbidden, NotFound
from server.models import Device, OpRecord
from server.ops.args import parse_args
from server.ops.batch import IN_BATCH, WriteBatch
from server.ops.stock import Actor
from sync.decide import Dependency, is_transient
from sync.models import SyncConflict, SyncOp
from sync.runner import Isolate, conflict_for, conflict_of, op_digest, run_op, sent_body
from sync.wire import Op, OpResult, PushIn, PushOut, Stopped

CHUNK_OPS = 200  # new ops per write transaction, at most ...
CHUNK_SECONDS = 0.25  # ... and for about this long: other writers (SQLite: one at a time) wait meanwhile
RUN_FIRST = 16  # ops in a chunk's first run: most pushes apply whole
RUN_MAX = 64  # ops applied under one SAVEPOINT, at most (a run doubles after each run that went well; after one
# that had to be redone, the next starts from 1)


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


@dataclass(slots=True)
class Answered:
    """An op the server answered before: its body's hash and its first answer."""

    body_hash: str
    first: OpResult

    def replay(self, op: Op) -> OpResult:
        if self.body_hash != op_digest(op.type, op.args):
            return reused(op)
        return msgspec.structs.replace(self.first, seq=op.seq, status="duplicate", original_status=self.first.status)


@dataclass(slots=True)
class Known(Answered):
    """An op id the server has: also its current status and its conflict (what ops depending on it need)."""

    status: str
    conflict_id: UUID | None

    def dependency(self, op_id: UUID) -> Dependency:
        return Dependency(str(op_id), self.status, str(self.conflict_id) if self.conflict_id else None)


# The JSON columns as their text (with SQLite), decoded here only when needed (an answer straight into an
# OpResult), and the statement run on the session's connection: no ORM layer for a replay's rows.
KNOWN = select(
    OpRecord.op_id, OpRecord.seq, OpRecord.status, OpRecord.body_hash, OpRecord.reason, OpRecord.message,
    type_coerce(OpRecord.result, Text), SyncOp.conflict_id, type_coerce(SyncOp.answer, Text),
).outerjoin(SyncOp, SyncOp.op_id == OpRecord.op_id)


KNOWN_BY_ID = KNOWN.where(OpRecord.op_id.in_(bindparam("op_ids", expanding=True)))


def from_json(value: str | bytes | Any, into: Any) -> Any:
    """A JSON column read as its text (SQLite), or already decoded by the driver (asyncpg decodes jsonb)."""
    if isinstance(value, (str, bytes)):
        return msgspec.json.decode(value, type=into)
    return msgspec.convert(value, into)


async def known_ops(session: AsyncSession, op_ids: Iterable[UUID]) -> dict[UUID, Known]:
    """What the server has of these op ids (pushed by any device, or applied online), in one query per
    IN_BATCH ids."""
    ids, found = list(set(op_ids)), {}
    connection = await session.connection()
    for start in range(0, len(ids), IN_BATCH):
        found.update(known_rows(await connection.execute(KNOWN_BY_ID, {"op_ids": ids[start : start + IN_BATCH]})))
    return found


def known_rows(rows: Iterable[Any]) -> Iterable[tuple[UUID, Known]]:
    for op_id, seq, status, digest, reason, message, result, conflict_id, first in rows:
        answer = from_json(first, OpResult) if first else OpResult(
            op_id=op_id, seq=seq or 0, status=status, reason=reason, message=message,
            result=from_json(result, dict[str, Any] | None) if result else None,
        )
        yield op_id, Known(digest, answer, status, conflict_id)


# A device's ops by seq, with their first answers (every pushed op has one), no ids to convert per row.
REPLAYS = (
    select(OpRecord.seq, OpRecord.body_hash, type_coerce(SyncOp.answer, Text))
    .join(SyncOp, SyncOp.op_id == OpRecord.op_id)
    .where(OpRecord.device_id == bindparam("device_id"), OpRecord.seq.between(bindparam("low"), bindparam("high")))
)
LAST_SEQ = select(Device.last_seq).where(Device.id == bindparam("device_id"))
SET_LAST_SEQ = update(Device).where(Device.id == bindparam("device_id")).values(last_seq=bindparam("last_seq"))


async def replays_of(session: AsyncSession, device_id: UUID, replays: list[Op]) -> dict[UUID, Answered]:
    """What the server answered to ops a device sends again: read by the device's seqs (a range of its
    index), and by op id for those whose seq holds another op (the op id may be known from elsewhere)."""
    connection = await session.connection()
    rows = await connection.execute(REPLAYS, {"device_id": device_id, "low": replays[0].seq, "high": replays[-1].seq})
    by_seq = {seq: (digest, answer) for seq, digest, answer in rows}
    found: dict[UUID, Answered] = {}
    for op in replays:
        if (stored := by_seq.get(op.seq)) is not None:
            first = from_json(stored[1], OpResult)
            if first.op_id == op.op_id:
                found[op.op_id] = Answered(stored[0], first)
    others = [op.op_id for op in replays if op.op_id not in found]
    if others:
        found.update(await known_ops(session, others))
    return found


PLACES = ("location", "from_location", "to_location")


def named(ops: list[Op]) -> tuple[set[str], set[str], set[str], set[tuple[str, str]]]:
    """What the ops' args name, to prefetch it: part numbers, location codes, serials, and (part, location)
    pairs."""
    parts: set[str] = set()
    codes: set[str] = set()
    serials: set[str] = set()
    places: set[tuple[str, str]] = set()
    for op in ops:
        args = op.args if isinstance(op.args, dict) else {}
        part = args.get("part")
        if isinstance(part, str):
            parts.add(part)
        for key in PLACES:
            code = args.get(key)
            if isinstance(code, str):
                codes.add(code)
                if isinstance(part, str):
                    places.add((part, code))
        serials.update(value for key in ("serial", "parent_serial") if isinstance(value := args.get(key), str))
    return parts, codes, serials, places


def replayed(op: Op, known: Mapping[UUID, Answered]) -> OpResult:
    """The answer to an op whose seq the device already used."""
    first = known.get(op.op_id)
    if first is None:
        return OpResult(
            op_id=op.op_id, seq=op.seq, status="rejected", reason="invalid", field="seq",
            message=f"seq {op.seq} was already used by another operation of this device",
        )
    return first.replay(op)


class Redo(Exception):
    """The op at index `at` of an optimistic run failed while applying: undo the run, redo it op by op."""

    def __init__(self, at: int) -> None:
        super().__init__(at)
        self.at = at


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a chunk stood before a run, to go back there if the run is undone."""

    results: int
    records: int
    conflicts: int
    sync_ops: int
    added: int
    version: int
    last_seq: int


@dataclass
class Chunk:
    """One write transaction's worth of a push: what it knows, and the rows it writes at the end."""

    session: AsyncSession
    batch: WriteBatch
    device_id: UUID
    actor: Actor
    known: dict[UUID, Known]
    results: list[OpResult] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    sync_ops: list[dict[str, Any]] = field(default_factory=list)
    added: list[UUID] = field(default_factory=list)  # op ids this chunk added to `known`, in order

    async def process(self, head: list[Op], last_seq: int) -> tuple[int, Stopped | None]:
        """Answer the ops of `head` in order, in runs, until the end, a gap, a transient error or the chunk's
        time is up. Returns (last_seq, why the batch stops if it does)."""
        started, size, index = time.monotonic(), min(RUN_FIRST, RUN_MAX), 0
        while index < len(head):
            if self.records and time.monotonic() - started > CHUNK_SECONDS:
                return last_seq, None  # the rest in the next chunk
            ops = head[index : index + size]
            if size == 1:
                done, last_seq, stopped = await self.run(ops, last_seq, isolate=True)
                size = 2
            else:
                mark = self.mark(last_seq)
                try:
                    done, last_seq, stopped = await self.optimistic(ops, last_seq)
                    size = min(2 * size, RUN_MAX)
                except Redo as redo:
                    last_seq = self.reset(mark)
                    done, last_seq, stopped = await self.run(ops[: redo.at + 1], last_seq, isolate=True)
                    size = 1
            index += done
            if stopped is not None:
                return last_seq, stopped
        return last_seq, None

    async def optimistic(self, ops: list[Op], last_seq: int) -> tuple[int, int, Stopped | None]:
        """`ops` under one SAVEPOINT: any failure while applying one, or at the SAVEPOINT's end (a transient
        error), raises `Redo`."""
        try:
            async with self.batch.savepoint():
                return await self.run(ops, last_seq, isolate=False)
        except Redo:
            raise
        except Exception as error:
            if isinstance(error, IntegrityError) or is_transient(error):
                raise Redo(len(ops) - 1) from error
            raise

    async def run(self, ops: list[Op], last_seq: int, *, isolate: bool) -> tuple[int, int, Stopped | None]:
        """Answer `ops` in order. Isolated (a SAVEPOINT per op), a transient error stops the batch there;
        otherwise any failure while applying raises `Redo`. Returns (ops answered, last_seq, stopped)."""
        for index, op in enumerate(ops):
            if op.seq <= last_seq:  # a concurrent push of the same ops applied it meanwhile
                self.results.append(replayed(op, self.known))
                continue
            if op.seq > last_seq + 1:
                return index, last_seq, Stopped(reason="seq_gap", expected_seq=last_seq + 1)
            try:
                await self.batch.refresh()
                self.results.append(await self.apply(op, isolate=isolate))
            except Isolate:
                raise Redo(index) from None
            except Exception as error:  # isolated: the op's savepoint is rolled back; the ops before it stay
                if not is_transient(error):
                    raise
                if not isolate:
                    raise Redo(index) from error
                return index, last_seq, Stopped(reason="retry_later")
            last_seq = op.seq
        return len(ops), last_seq, None

    def mark(self, last_seq: int) -> Mark:
        return Mark(len(self.results), len(self.records), len(self.conflicts), len(self.sync_ops), len(self.added),
                    self.batch.last_version, last_seq)

    def reset(self, mark: Mark) -> int:
        """Forget what was answered since `mark` (its writes were rolled back). Returns last_seq then."""
        for op_id in self.added[mark.added :]:
            del self.known[op_id]
        del self.results[mark.results :], self.records[mark.records :], self.conflicts[mark.conflicts :]
        del self.sync_ops[mark.sync_ops :], self.added[mark.added :]
        self.batch.last_version = mark.version
        return mark.last_seq

    async def apply(self, op: Op, *, isolate: bool = True) -> OpResult:
        """An op seen for the first time under this seq."""
        try:
            args = parse_args(op.type, op.args)
        except DomainError:
            args = None  # run_op decides it (invalid, unknown_op_type); its identity is the raw body
        digest = op_digest(op.type, op.args, args)
        prior = self.known.get(op.op_id)
        if prior is not None:  # the op id was seen before: from this or another device, or online
            return reused(op) if prior.body_hash != digest else prior.replay(op)
        depends_on = [str(op_id) for op_id in op.depends_on]
        dependencies = [  # an op the server never received: status None (unknown_reference)
            self.known[op_id].dependency(op_id) if op_id in self.known else Dependency(str(op_id), None)
            for op_id in op.depends_on
        ]
        version = self.batch.next_version()
        outcome = await run_op(
            self.session, version, op_id=op.op_id, op_type=op.type, raw_args=op.args, depends_on=depends_on,
            client_time=op.client_time, actor=self.actor, known=dependencies, isolate=isolate, args=args,
        )
        decision = outcome.decision
        opened = conflict_for(op.op_id, self.device_id, outcome)
        conflict_id = conflict_of(outcome, opened)
        result = OpResult(
            op_id=op.op_id, seq=op.seq, status=outcome.status, reason=decision.reason if decision else None,
            message=decision.message if decision else None, field=decision.field if decision else None,
            conflict_id=conflict_id, result=outcome.result,
        )
        self.records.append({
            "op_id": op.op_id, "device_id": self.device_id, "seq": op.seq, "type": op.type,
            "actor": op.actor or self.actor.username, "client_time": op.client_time, "body_hash": digest,
            "body": sent_body(op.type, op.args, depends_on), "status": outcome.status, "result": outcome.result,
            "reason": result.reason, "message": result.message,
        })
        if opened is not None:
            self.conflicts.append(opened)
        self.sync_ops.append({
            "op_id": op.op_id, "device_id": self.device_id, "seq": op.seq, "depends_on": depends_on,
            "pushed_by": self.actor.username, "pushed_role": self.actor.role.value,
            "answer": msgspec.to_builtins(result), "conflict_id": conflict_id, "pushed_version": version,
            "version": version,
        })
        self.known[op.op_id] = Known(digest, result, outcome.status, conflict_id)
        self.added.append(op.op_id)
        return result

    async def finish(self, last_seq: int) -> None:
        """The chunk's rows, one INSERT per table (op records before the conflicts and sync records that
        refer to them)."""
        for model, rows in ((OpRecord, self.records), (SyncConflict, self.conflicts), (SyncOp, self.sync_ops)):
            await insert_rows(self.session, model.__table__, rows)
        connection = await self.session.connection()
        await connection.execute(SET_LAST_SEQ, {"device_id": self.device_id, "last_seq": last_seq})
        await self.batch.finish()


class PushService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def push(self, request: PushIn, actor: Actor) -> PushOut:
        check_bound(actor, request.device_id)
        pending = sorted(request.ops, key=lambda op: op.seq)
        results: list[OpResult] = []
        stopped: Stopped | None = None
        last_seq = 0
        try:
            async with self.db.read(quick=True) as session:  # by key: the device, the replays' seqs
                connection = await session.connection()
                last_seq = (await connection.scalar(LAST_SEQ, {"device_id": request.device_id})) or 0
                replays = [op for op in pending if op.seq <= last_seq]  # last_seq only grows: replays for sure
                if replays:
                    known = await replays_of(session, request.device_id, replays)
                    results += [replayed(op, known) for op in replays]
            pending = pending[len(replays) :]
            while pending and stopped is None:
                answered, last_seq, stopped = await self._chunk(request.device_id, pending, actor)
                results += answered
                pending = pending[len(answered) :]
        except Exception as error:
            if not is_transient(error):
                raise
            stopped = Stopped(reason="retry_later")
        return PushOut(last_seq=last_seq, results=results, stopped=stopped)

    async def _chunk(self, device_id: UUID, pending: list[Op], actor: Actor) -> tuple[list[OpResult], int, Stopped | None]:
        """Answer the first ops of `pending` in one write transaction. Returns (their results, last_seq, why
        the batch stops if it does). Raises if the transaction fails: then none of them was applied."""
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            last = await (await session.connection()).scalar(LAST_SEQ, {"device_id": device_id})
            if last is None:
                raise NotFound(f"No device {device_id}", field="device_id")
            head = pending[:CHUNK_OPS]
            new = [op for op in head if op.seq > last]
            chunk = Chunk(session, batch, device_id, actor, await known_ops(
                session, {op.op_id for op in head} | {dep for op in new for dep in op.depends_on}
            ))
            await batch.prefetch(*named(new))
            last, stopped = await chunk.process(head, last)
            await chunk.finish(last)
        return chunk.results, last, stopped
