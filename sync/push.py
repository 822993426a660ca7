"""Push (protocol §3): a device's queued ops, applied in seq order, exactly once, in chunked transactions.

1. Ops with `seq <= last_seq` are replays, answered together from one query of their stored first answers
   (`duplicate` + `original_status`); nothing is applied again.
2. The other ops are applied in chunks, one write transaction each (server/ops/batch.py, which takes the
   change clock first on SQLite, last on PostgreSQL): read `last_seq` locking the device's row (a
   concurrent push of the same ops waits for this one to commit, then reads `last_seq` and answers what
   this one applied as replays), look up in one query what is known of the chunk's op ids and of the ops
   they depend on, then per op in seq order:
   - `seq > last_seq + 1` stops the batch (`seq_gap`, `expected_seq`);
   - an op id already known is a duplicate (same body) or `op_id_reused`;
   - otherwise decide and apply it (sync/runner.py) in a SAVEPOINT: a domain error rolls back just that
     op, whose rejected or held outcome is recorded instead; so does any other error that is not
     transient (a database error, a bug: `rejected` `invalid`). Each op gets the next version.
   SAVEPOINTs are cheap in SQL but not in SQLAlchemy (a quarter of the time per op), and neither is
   writing an op's stock rows, so ops are applied in runs: one SAVEPOINT and one write of the stock rows
   (server/ops/rows.py) for a run of up to RUN_MAX ops, optimistically. If an op of the run fails while
   applying, or the run's write fails (a constraint, a transient error, anything), the whole run is rolled back
   and its ops up to that one are applied again one SAVEPOINT each (the outcome that counts); runs then
   start small and grow again. Then the chunk's op records, conflicts, ledger and movement rows are
   inserted in bulk (server/db/bulk.py), the device's `last_seq` set, the versions made real, the sync records
   inserted (with them), and the chunk commits: every
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

from server.actor import Actor
from server.auth import device_users
from server.db.bulk import insert_rows
from server.db import Database
from server.db.codecs import json_of
from server.errors import DomainError, Forbidden, Invalid, NotFound
from server.models import Device, OpRecord
from server.ops.batch import WriteBatch, named, shift
from server.ops.records import RECORDED, by_op_ids, digest, op_record, recorded
from server.ops.registry import parse_args
from server.rules.text import NUL, nul_message, without_nul
from server.transient import is_transient
from sync.decide import REJECTED, Dependency, decide
from sync.models import SyncConflict, SyncOp
from sync.runner import Isolate, Outcome, conflict_for, conflict_of, run_op, sent_body
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


async def makers_of(connection: Any, device_id: UUID, ops: list[Op], pusher: Actor) -> dict[str, Actor]:
    """The users other than `pusher` that ops name as their `actor` and that signed in on this device, each as
    the actor of its own ops (name and role); looked up only when an op names someone else."""
    named = {op.actor for op in ops if op.actor and op.actor != pusher.username}
    users = await device_users(connection, device_id) if named else {}
    return {name: Actor(name, role, device_id) for name, role in users.items() if name in named}


def envelope_error(op: Op) -> Invalid | None:
    """A NUL in the op's own strings (its args are parse_args's): the op is rejected `invalid`."""
    for name in ("type", "actor", "client_time"):
        value = getattr(op, name)
        if value is not None and NUL in value:
            return Invalid(nul_message(name), field=name)
    return None


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
        if self.body_hash != digest(op.type, op.args):
            return reused(op)
        return msgspec.structs.replace(self.first, seq=op.seq, status="duplicate", original_status=self.first.status)


@dataclass(slots=True)
class Known(Answered):
    """An op id the server has: also its current status and its conflict (what ops depending on it need)."""

    status: str
    conflict_id: UUID | None

    def dependency(self, op_id: UUID) -> Dependency:
        return Dependency(str(op_id), self.status, str(self.conflict_id) if self.conflict_id else None)


# What the server has of an op id (server/ops/records.py), with its sync record's conflict and first answer (a
# JSON column as its text, decoded only when needed: an answer straight into an OpResult)
KNOWN = by_op_ids(
    RECORDED.add_columns(SyncOp.conflict_id, type_coerce(SyncOp.answer, Text).label("answer"))
    .outerjoin(SyncOp, SyncOp.op_id == OpRecord.op_id)
)


async def known_ops(session: AsyncSession, op_ids: Iterable[UUID]) -> dict[UUID, Known]:
    """What the server has of these op ids (pushed by any device, applied online or by a supervisor)."""
    found = {}
    for row in await recorded(session, op_ids, KNOWN):
        answer = json_of(row.answer, OpResult) if row.answer else OpResult(
            op_id=row.op_id, seq=row.seq or 0, status=row.status, reason=row.reason, message=row.message,
            result=json_of(row.result, dict[str, Any] | None) if row.result else None,
        )
        found[row.op_id] = Known(row.body_hash, answer, row.status, row.conflict_id)
    return found


# A device's ops by seq, with their first answers (every pushed op has one), no ids to convert per row.
REPLAYS = (
    select(OpRecord.seq, OpRecord.body_hash, type_coerce(SyncOp.answer, Text))
    .join(SyncOp, SyncOp.op_id == OpRecord.op_id)
    .where(OpRecord.device_id == bindparam("device_id"), OpRecord.seq.between(bindparam("low"), bindparam("high")))
)
LAST_SEQ = select(Device.last_seq).where(Device.id == bindparam("device_id"))
LAST_SEQ_LOCKED = LAST_SEQ.with_for_update()  # a chunk's turn on its device (PostgreSQL; SQLite: one writer)
SYNC_OPS_SHIFT = shift(  # a late chunk's sync records, given real versions (by the device's index)
    SyncOp.__table__, SyncOp.device_id == bindparam("shift_device"), columns=("version", "pushed_version")
)
SET_LAST_SEQ = update(Device).where(Device.id == bindparam("device_id")).values(last_seq=bindparam("last_seq"))


async def replays_of(session: AsyncSession, device_id: UUID, replays: list[Op]) -> dict[UUID, Answered]:
    """What the server answered to ops a device sends again: read by the device's seqs (a range of its
    index), and by op id for those whose seq holds another op (the op id may be known from elsewhere)."""
    connection = await session.connection()
    rows = await connection.execute(REPLAYS, {"device_id": device_id, "low": replays[0].seq, "high": replays[-1].seq})
    by_seq = {seq: (body_hash, answer) for seq, body_hash, answer in rows}
    found: dict[UUID, Answered] = {}
    for op in replays:
        if (stored := by_seq.get(op.seq)) is not None:
            first = json_of(stored[1], OpResult)
            if first.op_id == op.op_id:
                found[op.op_id] = Answered(stored[0], first)
    others = [op.op_id for op in replays if op.op_id not in found]
    if others:
        found.update(await known_ops(session, others))
    return found


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
    makers: Mapping[str, Actor]  # the device's other users whom its ops name (`makers_of`)
    results: list[OpResult] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    sync_ops: list[dict[str, Any]] = field(default_factory=list)
    added: list[UUID] = field(default_factory=list)  # op ids this chunk added to `known`, in order

    def maker(self, op: Op) -> Actor:
        """Who made the op: its `actor` if that user signed in on this device (a shared phone's queue holds
        the ops of each operator who used it), else the user pushing."""
        return self.makers.get(op.actor or "", self.actor)

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
        except Exception as error:  # a constraint, a transient error, any failure: op by op, each its own outcome
            raise Redo(len(ops) - 1) from error

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
                if not isolate:
                    raise Redo(index) from error
                if not is_transient(error):  # run_op made any other failure the op's own outcome
                    raise
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
        identity = digest(op.type, op.args, args)
        prior = self.known.get(op.op_id)
        if prior is not None:  # the op id was seen before: from this or another device, or online
            return reused(op) if prior.body_hash != identity else prior.replay(op)
        depends_on = [str(op_id) for op_id in op.depends_on]
        dependencies = [  # an op the server never received: status None (unknown_reference)
            self.known[op_id].dependency(op_id) if op_id in self.known else Dependency(str(op_id), None)
            for op_id in op.depends_on
        ]
        version = self.batch.next_version()
        if (refused := envelope_error(op)) is not None:
            outcome = Outcome(REJECTED, decision=decide(refused))
        else:
            outcome = await run_op(
                self.batch, version, op_id=op.op_id, op_type=op.type, raw_args=op.args, depends_on=depends_on,
                client_time=op.client_time, actor=self.maker(op), known=dependencies, isolate=isolate, args=args,
            )
        decision = outcome.decision
        opened = conflict_for(op.op_id, self.device_id, outcome)
        conflict_id = conflict_of(outcome, opened)
        result = OpResult(
            op_id=op.op_id, seq=op.seq, status=outcome.status, reason=decision.reason if decision else None,
            message=decision.message if decision else None, field=decision.field if decision else None,
            details=msgspec.to_builtins(decision.details) if decision and decision.details else None,
            conflict_id=conflict_id, result=outcome.result,
        )
        record = op_record(
            op.op_id, op.type, self.maker(op), sent_body(op.type, op.args, depends_on), identity, outcome.status,
            outcome.result, seq=op.seq, client_time=op.client_time, reason=result.reason, message=result.message,
        )
        # a rejected op may hold what the database cannot store (a NUL): its record keeps U+FFFD instead
        self.records.append(without_nul(record) if outcome.status == REJECTED else record)
        if opened is not None:
            self.conflicts.append(opened)
        self.sync_ops.append({
            "op_id": op.op_id, "device_id": self.device_id, "seq": op.seq, "depends_on": depends_on,
            "pushed_by": self.actor.username, "pushed_role": self.actor.role.value,
            "answer": msgspec.to_builtins(result), "conflict_id": conflict_id, "pushed_version": version,
            "version": version,
        })
        self.known[op.op_id] = Known(identity, result, outcome.status, conflict_id)
        self.added.append(op.op_id)
        return result

    async def finish(self, last_seq: int) -> None:
        """The chunk's rows, one INSERT per table (op records before the conflicts and sync records that
        refer to them)."""
        try:
            for model, rows in ((OpRecord, self.records), (SyncConflict, self.conflicts)):
                await insert_rows(self.session, model.__table__, rows)
        except IntegrityError as error:
            if self.batch.late:  # another device's chunk beside this one committed one of these op ids first
                raise Raced from error
            raise
        await insert_rows(self.session, SyncOp.__table__, self.sync_ops)
        connection = await self.session.connection()
        await connection.execute(SET_LAST_SEQ, {"device_id": self.device_id, "last_seq": last_seq})
        await self.batch.finish((SYNC_OPS_SHIFT,), shift_device=self.device_id)  # a late batch's versions made real


class Raced(Exception):
    """A chunk's op id was committed meanwhile by another device's chunk: the push stops with retry_later,
    and the next one answers that op as what the server then knows of it."""


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
                makers = await makers_of(connection, request.device_id, pending, actor)
                replays = [op for op in pending if op.seq <= last_seq]  # last_seq only grows: replays for sure
                if replays:
                    known = await replays_of(session, request.device_id, replays)
                    results += [replayed(op, known) for op in replays]
            pending = pending[len(replays) :]
            while pending and stopped is None:
                answered, last_seq, stopped = await self._chunk(request.device_id, pending, actor, makers)
                results += answered
                pending = pending[len(answered) :]
        except Exception as error:
            if not (isinstance(error, Raced) or is_transient(error)):
                raise
            stopped = Stopped(reason="retry_later")
        return PushOut(last_seq=last_seq, results=results, stopped=stopped)

    async def _chunk(
        self, device_id: UUID, pending: list[Op], actor: Actor, makers: Mapping[str, Actor]
    ) -> tuple[list[OpResult], int, Stopped | None]:
        """Answer the first ops of `pending` in one write transaction. Returns (their results, last_seq, why
        the batch stops if it does). Raises if the transaction fails: then none of them was applied."""
        async with self.db.write() as session:
            batch = await WriteBatch.start(session, beside_others=True)
            last = await (await session.connection()).scalar(LAST_SEQ_LOCKED, {"device_id": device_id})
            if last is None:
                raise NotFound(f"No device {device_id}", field="device_id")
            head = pending[:CHUNK_OPS]
            new = [op for op in head if op.seq > last]
            chunk = Chunk(session, batch, device_id, actor, await known_ops(
                session, {op.op_id for op in head} | {dep for op in new for dep in op.depends_on}
            ), makers)
            await batch.prefetch(named((op.type, op.args) for op in new))
            last, stopped = await chunk.process(head, last)
            await chunk.finish(last)
        return chunk.results, last, stopped
