"""Quality issues: opened by the `open_issue` op (POST /api/issues applies it now, as POST /api/ops would),
read, and closed by a supervisor with a disposition (server/quality/closing.py) in one write transaction that
takes the change clock first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from uuid_utils.compat import uuid7

from server.actor import Actor
from server.db import Database
from server.errors import DomainError, NotFound
from server.models import InventoryRow, Location, Part
from server.ops.batch import WriteBatch
from server.ops.service import OpRequest, OpsService
from server.ops.stock import OpContext, new_id
from server.quality.closing import dispose
from server.quality.models import Disposition, Issue, IssueStatus, IssueStock
from server.quality.schemas import CloseIn, IssueOut, IssuePage, Isolated, OpenIssue
from server.rules import quality as rules

Where = aliased(Location, name="issue_location")
ISSUES: Select[Any] = (
    select(Issue, Part.part_number, Where.code).join(Part, Part.id == Issue.part_id)
    .outerjoin(Where, Where.id == Issue.location_id)
)


async def issue_out(session: AsyncSession, issue: Issue, part: str, location: str | None) -> IssueOut:
    isolated = await session.execute(
        select(IssueStock.quantity, InventoryRow.serial, InventoryRow.lot, Location.code)
        .join(InventoryRow, InventoryRow.id == IssueStock.inventory_id)
        .join(Location, Location.id == InventoryRow.location_id)
        .where(IssueStock.issue_id == issue.id).order_by(IssueStock.id)
    )
    return IssueOut(
        id=issue.id, number=issue.number, status=issue.status, title=issue.title, description=issue.description, part=part,
        serial=issue.serial, lot=issue.lot, location=location, isolate=issue.isolate,
        isolated=[Isolated(location=code, quantity=quantity, serial=serial, lot=lot)
                  for quantity, serial, lot, code in isolated],
        opened_by=issue.opened_by, opened_at=issue.created_at, disposition=issue.disposition, note=issue.note,
        closed_by=issue.closed_by, closed_at=issue.closed_at,
    )


async def find_issue(session: AsyncSession, number: str) -> tuple[Issue, str, str | None]:
    try:
        key = or_(Issue.number == number, Issue.id == UUID(number))
    except ValueError:
        key = Issue.number == number
    found = (await session.execute(ISSUES.where(key))).tuples().first()
    if found is None:
        raise NotFound(f"No issue {number}", field="number")
    return found


async def issues_of(session: AsyncSession, serial: str | None, part_id: Any, lot: str | None) -> list[dict[str, Any]]:
    """The issues of a unit (`serial`) or of a lot (`part_id` and `lot`), oldest first: for its history."""
    query = select(Issue.number, Issue.title, Issue.status, Issue.disposition, Issue.opened_by,
                   Issue.created_at, Issue.closed_at)
    query = query.where(Issue.serial == serial) if serial is not None else query.where(
        Issue.part_id == part_id, Issue.lot == lot)
    rows = await session.execute(query.order_by(Issue.created_at, Issue.id))
    return [
        {"number": number, "title": title, "status": status, "disposition": disposition, "opened_by": by,
         "opened_at": opened, "closed_at": closed}
        for number, title, status, disposition, by, opened, closed in rows
    ]


class IssueService:
    def __init__(self, db: Database, ops: OpsService) -> None:
        self.db = db
        self.ops = ops

    async def list(self, status: str | None, part: str | None, serial: str | None, lot: str | None, limit: int,
                   offset: int) -> IssuePage:
        rules.check_status_filter(status)
        query = ISSUES
        if status:
            query = query.where(Issue.status == status)
        if part:
            query = query.where(Part.part_number == part)
        if serial:
            query = query.where(Issue.serial == serial)
        if lot:
            query = query.where(Issue.lot == lot)
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(query.order_by(Issue.created_at.desc(), Issue.id.desc()).limit(limit).offset(offset))
            items = [await issue_out(session, *row) for row in rows.tuples()]
        return IssuePage(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def get(self, number: str) -> IssueOut:
        async with self.db.read() as session:
            return await issue_out(session, *await find_issue(session, number))

    async def open(self, data: OpenIssue, actor: Actor) -> IssueOut:
        """The `open_issue` op, applied now; its errors name the body's fields (`serial`, not `args.serial`)."""
        op = OpRequest(op_id=uuid7(), type="open_issue", args=msgspec.to_builtins(data))
        try:
            outcome = await self.ops.apply_now(op, actor)
        except DomainError as error:
            if error.field and error.field.startswith("args."):
                error.field = error.field.removeprefix("args.")
            raise
        return await self.get(outcome.result["issue"])

    async def close(self, number: str, data: CloseIn, actor: Actor) -> IssueOut:
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            issue, part_number, location = await find_issue(session, number)
            rules.check_open(issue.number, issue.status)
            part = await session.get_one(Part, issue.part_id)
            ctx = OpContext(batch=batch, op_id=new_id(), op_type="close_issue", actor=actor,
                            version=batch.next_version())
            await dispose(ctx, issue, part, Disposition(data.disposition), data.note)
            batch.trail.extend(ctx.trail)
            issue.status, issue.disposition, issue.note = IssueStatus.closed.value, data.disposition, data.note
            issue.closed_by, issue.closed_at = actor.username, datetime.now(UTC)
            await batch.finish()
            return await issue_out(session, issue, part_number, location)
