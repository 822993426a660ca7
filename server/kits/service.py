"""Kits through their life: open → (completed | cancelled), and how a kit reads (its lines with picked,
remaining and where to pick the rest).

Opening a kit makes its tote: a location under the staging location (code `<location>/<KIT-0001>`, a
master-data change like any new location) whose `kit_id` names the kit, so that what is picked into it is
Kitted (server/rules/status.py). Completing or cancelling the kit clears the tote's `kit_id`: what is in it is
released — Available again, where it is (the tote), with an `Unkit` line in each row's history; the tote
stays, as a plain location. A kit for an open run, completed, issues its contents to the run instead
(server/kits/issuing.py), in the same write batch. Both change a location, so each is one write transaction that takes the change
clock first (exclusive of push chunks: server/clock.py), stamps the tote's `rows_version` (phones get its
rows again, with their new status) and the kit's lines (phones drop them: `kit_line` `del`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.actor import Actor
from server.catalog import add_location
from server.clock import bump_counter, next_version
from server.db import Database
from server.db.bulk import insert_rows
from server.errors import Invalid, NotFound
from server.kits.issuing import issue_to_run
from server.kits.models import Kit, KitLine, KitStatus
from server.kits.schemas import KitIn, KitLineOut, KitOut, KitPage, KitSummary, Suggestion
from server.models import Action, InventoryRow, Location, Movement, Part
from server.ops.batch import WriteBatch
from server.ops.stock import new_id
from server.rules import kits as rules
from server.rules.quantities import check_precision, part_places
from server.rules.status import Status, status_filter_sql

Staging = aliased(Location, name="staging")
Tote = aliased(Location, name="tote")
KITS = select(Kit, Staging.code, Tote.code).join(Staging, Staging.id == Kit.location_id).join(Tote, Tote.id == Kit.tote_id)
MAX_CANDIDATES = 50  # available rows of a part read to suggest from


async def next_kit_number(session: AsyncSession) -> str:
    while True:
        number = rules.KIT_NUMBER.format(seq=await bump_counter(session, "kit"))
        if not await session.scalar(select(exists().where(Kit.number == number))):
            return number


async def _tote_code(session: AsyncSession, staging: Location, number: str) -> str:
    code = f"{staging.code}/{number}"
    code = code if len(code) <= 128 else number
    if await session.scalar(select(exists().where(Location.code == code))):
        raise Invalid(f"location: a location {code} exists already: the kit's tote cannot be made", field="location")
    return code


def by_number_or_id(model: Any, key: str) -> Any:
    """A kit or an issue by its number (`KIT-0001`), or by its id."""
    try:
        return or_(model.number == key, model.id == UUID(key))
    except ValueError:
        return model.number == key


async def find_kit(session: AsyncSession, number: str) -> tuple[Kit, str, str]:
    found = (await session.execute(KITS.where(by_number_or_id(Kit, number)))).tuples().first()
    if found is None:
        raise NotFound(f"No kit {number}", field="number")
    return found


async def suggestions(session: AsyncSession, part: Part, needed: Any) -> list[Suggestion]:
    """Where to pick `needed` of the part: its available stock (not in a kit, not isolated, …), FEFO."""
    if needed <= 0:
        return []
    rows = await session.execute(
        select(Location.code, InventoryRow.quantity, InventoryRow.lot, InventoryRow.serial, InventoryRow.created_at)
        .join(Location, Location.id == InventoryRow.location_id)
        .where(InventoryRow.part_id == part.id, status_filter_sql(InventoryRow, Location, Status.available))
        .order_by(InventoryRow.created_at, InventoryRow.id).limit(MAX_CANDIDATES)
    )
    candidates = [rules.Stock(code, quantity, lot, serial, None, created) for code, quantity, lot, serial, created in rows]
    return [Suggestion(location=s.location, quantity=s.quantity, lot=s.lot, serial=s.serial, expiry=s.expiry)
            for s in rules.suggest(candidates, needed)]


async def kit_out(session: AsyncSession, kit: Kit, staging: str, tote: str, *, suggest: bool = True) -> KitOut:
    lines = await session.execute(
        select(KitLine, Part).join(Part, Part.id == KitLine.part_id).where(KitLine.kit_id == kit.id)
        .order_by(KitLine.line_no)
    )
    out = []
    for line, part in lines.tuples():
        left = rules.remaining(line.quantity, line.picked)
        out.append(KitLineOut(
            line=line.line_no, part=part.part_number, tracking=part.tracking, unit=part.unit, quantity=line.quantity,
            picked=line.picked, remaining=left,
            suggested=await suggestions(session, part, left) if suggest and kit.status == KitStatus.open else [],
        ))
    return KitOut(
        id=kit.id, number=kit.number, status=kit.status, run=kit.run, location=staging, tote=tote, created_by=kit.created_by,
        created_at=kit.created_at, closed_by=kit.closed_by, closed_at=kit.closed_at, lines=out,
    )


class KitService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, status: str | None, run: str | None, limit: int, offset: int) -> KitPage:
        wanted = rules.check_status_filter(status)
        query = KITS
        if wanted:
            query = query.where(Kit.status.in_(wanted))
        if run:
            query = query.where(Kit.run == run)
        totals = (
            select(KitLine.kit_id, func.count().label("lines"), func.sum(KitLine.quantity).label("quantity"),
                   func.sum(KitLine.picked).label("picked"))
            .group_by(KitLine.kit_id).subquery()
        )
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(
                query.add_columns(totals.c.lines, totals.c.quantity, totals.c.picked)
                .outerjoin(totals, totals.c.kit_id == Kit.id)
                .order_by(Kit.created_at.desc(), Kit.id.desc()).limit(limit).offset(offset)
            )
            items = [
                KitSummary(number=kit.number, status=kit.status, run=kit.run, location=staging, lines=lines or 0,
                           quantity=_amount(quantity), picked=_amount(picked), created_by=kit.created_by,
                           created_at=kit.created_at)
                for kit, staging, _tote, lines, quantity, picked in rows.tuples()
            ]
        return KitPage(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def get(self, number: str) -> KitOut:
        async with self.db.read() as session:
            return await kit_out(session, *await find_kit(session, number))

    async def create(self, data: KitIn, actor: Actor) -> KitOut:
        rules.check_lines([line.part for line in data.lines])
        async with self.db.write() as session:
            version = await next_version(session)
            staging = (await session.execute(select(Location).where(Location.code == data.location))).scalar_one_or_none()
            if staging is None:
                raise NotFound(f"No location {data.location}", field="location")
            lines = []
            for index, given in enumerate(data.lines):
                part = (await session.execute(select(Part).where(Part.part_number == given.part))).scalar_one_or_none()
                if part is None:
                    raise NotFound(f"lines[{index}].part: no part {given.part}", field=f"lines[{index}].part")
                check_precision(given.quantity, part_places(part), part.unit, f"lines[{index}].quantity")
                lines.append((part, given.quantity))
            number = await next_kit_number(session)
            kit_id = new_id()
            tote = await add_location(
                session, {"code": await _tote_code(session, staging, number), "name": f"Kit {number}"}, staging,
                actor, version,
            )
            tote.kit_id = kit_id
            kit = Kit(id=kit_id, number=number, run=data.run, location_id=staging.id, tote_id=tote.id,
                      status=KitStatus.open.value, created_by=actor.username)
            session.add(kit)
            await session.flush()
            session.add_all([
                KitLine(id=new_id(), kit_id=kit_id, line_no=index + 1, part_id=part.id, quantity=quantity, picked=0,
                        version=version)
                for index, (part, quantity) in enumerate(lines)
            ])
            await session.flush()
            return await kit_out(session, kit, staging.code, tote.code)

    async def complete(self, number: str, actor: Actor) -> KitOut:
        """Released: what is in its tote is Available again there — or, a kit for an open run, issued to it."""
        return await self._close(number, actor, KitStatus.completed)

    async def cancel(self, number: str, actor: Actor) -> KitOut:
        return await self._close(number, actor, KitStatus.cancelled)

    async def _close(self, number: str, actor: Actor, status: KitStatus) -> KitOut:
        """One write batch: the tote released, and (a completed kit for a run) its contents issued to the run
        (server/kits/issuing.py); an `Unkit` line for what stays in the tote."""
        async with self.db.write() as session:
            batch = await WriteBatch.start(session)
            version = batch.next_version()
            kit, staging, tote_code = await find_kit(session, number)
            rules.check_open(kit.number, kit.status, field="number")
            tote = await session.get_one(Location, kit.tote_id)
            tote.kit_id = None
            tote.version = tote.rows_version = version
            kit.status, kit.closed_by, kit.closed_at = status.value, actor.username, datetime.now(UTC)
            await session.execute(update(KitLine).where(KitLine.kit_id == kit.id).values(version=version))
            closing = None
            if status == KitStatus.completed and kit.run:
                closing = await issue_to_run(batch, kit, tote, actor, version)
            await batch.finish()
            await _log_release(session, kit, tote, actor, status)
            await session.flush()
            out = await kit_out(session, kit, staging, tote_code)
            out.closing = closing
            return out


async def _log_release(session: AsyncSession, kit: Kit, tote: Location, actor: Actor, status: KitStatus) -> None:
    """An `Unkit` line in the history of every row left in the tote (nothing moves: no ledger line)."""
    rows = await session.execute(
        select(InventoryRow.id, InventoryRow.part_id, InventoryRow.serial, InventoryRow.lot, InventoryRow.quantity)
        .where(InventoryRow.location_id == tote.id, InventoryRow.installed_in_id.is_(None),
               InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0)
    )
    action_id = new_id()
    await insert_rows(session, Movement.__table__, [
        {"id": new_id(), "op_id": action_id, "op_type": f"kit_{status.value}", "action": Action.unkit.value,
         "actor": actor.username, "device_id": None, "reason": f"kit {kit.number} {status.value}",
         "part_id": row.part_id, "inventory_id": row.id, "serial": row.serial, "lot": row.lot,
         "quantity": row.quantity, "from_location_id": tote.id, "to_location_id": tote.id, "parent_serial": None}
        for row in rows
    ])


def _amount(value: Any) -> Any:
    return 0 if value is None else value
