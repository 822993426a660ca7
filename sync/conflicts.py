"""Conflicts (protocol §5): ops a supervisor must decide on, and the decisions.

- approve a held op: apply it now against the current state (with corrected args if given), then re-run
  the ops held behind it, in the order they were pushed (seq order per device); each may be applied,
  rejected or held again (a new conflict).
- approve a rejected op: apply the (corrected) args as a new op by the supervisor, linked to the
  original; the original stays rejected, and its device learns it was `applied_as` the new op.
- reject: final. A held op becomes rejected, and every op held behind it `dependency_rejected`.

One write transaction per decision, clock first: the decision, the ops it applies and every re-run
dependant commit together, with a `sync_resolutions` row (who, when, what, why) — the log of decisions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from server.actor import Actor
from server.clock import next_version
from server.db import Database
from server.db.bulk import insert_rows
from server.errors import Conflict, Invalid, NotFound
from server.models import Device, InventoryRow, Location, OpRecord, Part, Role
from server.ops.batch import WriteBatch
from server.ops.records import applied_body, body_hash, op_record
from server.ops.registry import OP_TYPES, parse_args, places_named, units_named
from server.ops.service import OpRequest, apply_op
from server.queries import InventoryFilter, count_rows
from server.transient import retry_later_if_transient
from sync.decide import HELD, REJECTED
from sync.models import SyncConflict, SyncOp, SyncResolution
from sync.runner import run_op, settle
from sync.views import inventory_data, inventory_select, location_data, locations_select, part_data, parts_select
from sync.wire import ApproveIn, ConflictOut, ConflictsPage, HeldOp, RejectIn, Resolution, ResolutionsPage, SentOp

STATUSES = ("open", "approved", "rejected")


def sent_op(record: OpRecord) -> SentOp:
    body = record.body or {}
    return SentOp(
        op_id=record.op_id, seq=record.seq, type=record.type, args=body.get("args"), actor=record.actor,
        client_time=record.client_time, depends_on=body.get("depends_on", []),
    )


def resolution_out(row: SyncResolution) -> Resolution:
    return Resolution(
        id=row.id, conflict_id=row.conflict_id, op_id=row.op_id, action=row.action, actor=row.actor,
        at=row.created_at, note=row.note, args=row.args, outcome=row.outcome, applied_op_id=row.applied_op_id,
        result=row.result, dependants=row.dependants,
    )


class ConflictService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading ------------------------------------------------------------------------------
    async def list(self, status: str | None, limit: int, offset: int) -> ConflictsPage:
        if status is not None and status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}, not {status!r}", field="status")
        query = select(SyncConflict)
        if status is not None:
            query = query.where(SyncConflict.status == status)
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            conflicts = (
                await session.execute(query.order_by(SyncConflict.created_at, SyncConflict.id).limit(limit).offset(offset))
            ).scalars()
            items = [await self._out(session, conflict) for conflict in conflicts]
        return ConflictsPage(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def get(self, conflict_id: UUID) -> ConflictOut:
        async with self.db.read() as session:
            conflict = await session.get(SyncConflict, conflict_id)
            if conflict is None:
                raise NotFound(f"No conflict {conflict_id}", field="id")
            return await self._out(session, conflict)

    async def resolutions(self, limit: int, offset: int) -> ResolutionsPage:
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(SyncResolution))
            rows = await session.execute(
                select(SyncResolution)
                .order_by(SyncResolution.created_at.desc(), SyncResolution.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [resolution_out(row) for row in rows.scalars()]
        return ResolutionsPage(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def _out(self, session: AsyncSession, conflict: SyncConflict) -> ConflictOut:
        record = (await session.execute(select(OpRecord).where(OpRecord.op_id == conflict.op_id))).scalar_one()
        sync_op = (await session.execute(select(SyncOp).where(SyncOp.op_id == conflict.op_id))).scalar_one_or_none()
        device = await session.get(Device, conflict.device_id) if conflict.device_id else None
        resolution = (
            await session.execute(
                select(SyncResolution).where(SyncResolution.conflict_id == conflict.id).order_by(SyncResolution.id.desc())
            )
        ).scalars().first()
        return ConflictOut(
            id=conflict.id, status=conflict.status, kind=conflict.kind, reason=conflict.reason,
            message=conflict.message, field=conflict.field, details=conflict.details or {},
            created_at=conflict.created_at, op=sent_op(record),
            device={"id": str(device.id), "name": device.name} if device else None,
            actor=record.actor, pushed_by=sync_op.pushed_by if sync_op else None,
            state=await current_state(session, record.type, (record.body or {}).get("args")),
            held_behind=[
                HeldOp(op=sent_op(held), device_id=held.device_id, reason=held.reason, message=held.message)
                for _, held in await held_behind(session, conflict)
            ],
            resolution=resolution_out(resolution) if resolution else None,
        )

    # ---- deciding -----------------------------------------------------------------------------
    async def approve(self, conflict_id: UUID, data: ApproveIn, supervisor: Actor) -> ConflictOut:
        with retry_later_if_transient("approve"):
            await self._approve(conflict_id, data, supervisor)
        return await self.get(conflict_id)

    async def _approve(self, conflict_id: UUID, data: ApproveIn, supervisor: Actor) -> None:
        """One write batch: the op (or its corrected form), the ops held behind it, the decision."""
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            version = batch.next_version()  # the decision and every op it applies
            conflict, record, sync_op = await _open(session, conflict_id)
            raw_args = data.args if data.args is not None else (record.body or {}).get("args")
            args = parse_args(record.type, raw_args)
            dependants: list[dict[str, Any]] = []
            if conflict.kind == HELD:  # the op itself, now, as its operator's op with the supervisor's authority
                operator = Actor(record.actor, supervisor.role, record.device_id)
                request = OpRequest(record.op_id, record.type, args, record.client_time)
                async with batch.savepoint():  # its rows written here: a constraint they break is this op's
                    result = await apply_op(batch, request, args, operator, version, approved=True)
                record.status, record.reason, record.message, record.result = "applied", None, None, result
                applied_op_id = record.op_id
                await session.flush()
                dependants = await _rerun_dependants(batch, version, conflict, supervisor)
            else:  # a new op by the supervisor, linked to the rejected one
                applied_op_id = UUID(str(uuid7()))
                async with batch.savepoint():
                    result = await apply_op(batch, OpRequest(applied_op_id, record.type, args), args, supervisor, version)
                body = applied_body(record.type, args, resolves=str(record.op_id), conflict_id=str(conflict.id))
                await insert_rows(session, OpRecord.__table__, [
                    op_record(applied_op_id, record.type, supervisor, body, body_hash(record.type, args), "applied",
                              result),
                ])
                if sync_op is not None:
                    sync_op.applied_as = applied_op_id
            await batch.finish()
            _close(conflict, sync_op, "approved", supervisor, data.note, version)
            session.add(
                SyncResolution(
                    conflict_id=conflict.id, op_id=record.op_id, action="approve", actor=supervisor.username,
                    note=data.note, args=data.args, outcome="applied", applied_op_id=applied_op_id, result=result,
                    dependants=dependants,
                )
            )

    async def reject(self, conflict_id: UUID, data: RejectIn, supervisor: Actor) -> ConflictOut:
        with retry_later_if_transient("reject"):
            await self._reject(conflict_id, data, supervisor)
        return await self.get(conflict_id)

    async def _reject(self, conflict_id: UUID, data: RejectIn, supervisor: Actor) -> None:
        async with self.db.write() as session:
            version = await next_version(session)
            conflict, record, sync_op = await _open(session, conflict_id)
            dependants: list[dict[str, Any]] = []
            if conflict.kind == HELD:
                record.status = REJECTED
                for held_op, held in await held_behind(session, conflict):
                    held.status, held.reason, held.result = REJECTED, "dependency_rejected", None
                    held.message = f"Operation {record.op_id}, which this one depends on, was rejected by {supervisor.username}"
                    held_op.resolved_by, held_op.version = supervisor.username, version
                    dependants.append(_summary(held_op, held))
            _close(conflict, sync_op, "rejected", supervisor, data.note, version)
            session.add(
                SyncResolution(
                    conflict_id=conflict.id, op_id=record.op_id, action="reject", actor=supervisor.username,
                    note=data.note, outcome=REJECTED, dependants=dependants,
                )
            )


async def _open(session: AsyncSession, conflict_id: UUID) -> tuple[SyncConflict, OpRecord, SyncOp | None]:
    conflict = await session.get(SyncConflict, conflict_id)
    if conflict is None:
        raise NotFound(f"No conflict {conflict_id}", field="id")
    if conflict.status != "open":
        raise Conflict(f"Conflict {conflict_id} was already {conflict.status}", field="id")
    record = (await session.execute(select(OpRecord).where(OpRecord.op_id == conflict.op_id))).scalar_one()
    sync_op = (await session.execute(select(SyncOp).where(SyncOp.op_id == conflict.op_id))).scalar_one_or_none()
    return conflict, record, sync_op


def _close(
    conflict: SyncConflict, sync_op: SyncOp | None, status: str, supervisor: Actor, note: str | None, version: int
) -> None:
    conflict.status = status
    conflict.resolved_at = datetime.now(UTC)
    if sync_op is not None:  # its device hears of it at its next pull
        sync_op.resolved_by, sync_op.note, sync_op.version = supervisor.username, note, version


def _summary(sync_op: SyncOp, record: OpRecord) -> dict[str, Any]:
    return {
        "op_id": str(record.op_id), "seq": sync_op.seq, "status": record.status, "reason": record.reason,
        "conflict_id": str(sync_op.conflict_id) if sync_op.conflict_id else None,
    }


async def held_behind(session: AsyncSession, conflict: SyncConflict) -> list[tuple[SyncOp, OpRecord]]:
    """The ops parked behind a conflict (held `dependency_held`), in the order they were pushed."""
    rows = await session.execute(
        select(SyncOp, OpRecord)
        .join(OpRecord, OpRecord.op_id == SyncOp.op_id)
        .where(SyncOp.conflict_id == conflict.id, SyncOp.op_id != conflict.op_id, OpRecord.status == HELD)
        .order_by(SyncOp.pushed_version, SyncOp.seq)
    )
    return [(sync_op, record) for sync_op, record in rows]


async def _rerun_dependants(
    batch: WriteBatch, version: int, conflict: SyncConflict, supervisor: Actor
) -> list[dict[str, Any]]:
    session, done = batch.session, []
    for sync_op, record in await held_behind(session, conflict):
        operator = Actor(record.actor, Role(sync_op.pushed_role), sync_op.device_id)
        outcome = await run_op(
            batch, version, op_id=record.op_id, op_type=record.type, raw_args=(record.body or {}).get("args"),
            depends_on=sync_op.depends_on or [], client_time=record.client_time, actor=operator,
        )
        sync_op.conflict_id = await settle(session, record, outcome)
        sync_op.resolved_by, sync_op.version = supervisor.username, version
        await session.flush()  # the next dependant's dependency check reads this one's new state
        done.append(_summary(sync_op, record))
    return done


async def current_state(session: AsyncSession, op_type: str, args: Any) -> dict[str, Any]:
    """What the server holds now of what the op names: its part, its locations, the inventory rows the op
    names (its serials wherever they are; else its lot, or the untracked stock, at the locations it names),
    and how many rows of the part each named location holds in all (`in_all`: [{location, rows}]: what the
    inventory list filtered by part and location shows; thousands in a real store)."""
    if not isinstance(args, dict) or op_type not in OP_TYPES:
        return {}
    text = {key: value for key, value in args.items() if isinstance(value, str)}
    part, average = (
        (await session.execute(parts_select().where(Part.part_number == text["part"]))).one_or_none() or (None, None)
    ) if "part" in text else (None, None)
    codes = places_named(op_type, args)
    locations = list(await session.execute(locations_select().where(Location.code.in_(codes)))) if codes else []
    serials = units_named(op_type, args)
    named = None
    if serials:
        named = InventoryRow.serial.in_(serials)
    elif part is not None and locations:
        named = and_(
            InventoryRow.part_id == part.id, InventoryRow.location_id.in_([loc.id for loc, _ in locations]),
            InventoryRow.lot == text["lot"] if "lot" in text else InventoryRow.serial.is_(None),
            InventoryRow.quantity > 0,
        )
    rows = (
        list(await session.execute(inventory_select().where(named).order_by(InventoryRow.id).limit(100)))
        if named is not None else []
    )
    in_all = [
        {"location": location.code,
         "rows": await count_rows(session, InventoryFilter(part=part.part_number, location=location.code))}
        for location, _ in locations
    ] if part is not None else []
    return {
        "part": part_data(part, average) if part else None,
        "locations": [location_data(location, parent) for location, parent in locations],
        "inventory": [inventory_data(row) for row in rows],
        "in_all": in_all,
    }
