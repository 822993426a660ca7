"""Read side of production: the traceability report (a unit's or a lot's genealogy) and what expires soon.

The report, for a serial or a part + lot: `down` — what it is made of, as a tree (one recursive query over
`installed_in_id`); `up` — the assemblies it sits in, innermost first (one recursive query the other way);
`runs` — every run that touched it or the assemblies it is in (`run_items`); `ops` — every activity-log line
of the rows the report names, oldest first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from server.db import Database
from server.errors import Invalid, NotFound
from server.models import InventoryRow, Location, Movement, Part, is_stock
from server.production.models import Run, RunItem
from server.production.schemas import ExpiringOut, ExpiringPage, TraceOut
from server.rules.status import inventory_status_sql, utc_today

MAX_OPS = 2000  # the newest activity lines a report lists
FromLocation = aliased(Location, name="from_location")
ToLocation = aliased(Location, name="to_location")

ROW_COLUMNS = (
    InventoryRow.id, InventoryRow.installed_in_id, Part.part_number.label("part"), InventoryRow.serial,
    InventoryRow.lot, InventoryRow.quantity, InventoryRow.expiry, Location.code.label("location"),
    inventory_status_sql(InventoryRow, Location).label("status"),
)


def _rows(where: Any) -> Any:
    return (select(*ROW_COLUMNS).join(Part, Part.id == InventoryRow.part_id)
            .join(Location, Location.id == InventoryRow.location_id).where(where))


def _node(row: Any) -> dict[str, Any]:
    return {"part": row.part, "serial": row.serial, "lot": row.lot, "quantity": row.quantity,
            "location": row.location, "status": row.status,
            "expiry": row.expiry.isoformat() if row.expiry else None}


class ProductionQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def trace(self, serial: str | None, part: str | None, lot: str | None) -> TraceOut:
        if serial is None and (part is None or lot is None):
            raise Invalid("give serial, or part and lot", field="serial")
        async with self.db.read() as session:
            part_id: Any = None
            if serial is not None:
                found = list(await session.execute(_rows(InventoryRow.serial == serial)))
                if not found:
                    raise NotFound(f"No unit with serial {serial}", field="serial")
                subject = {"serial": serial, **_node(found[0])}
                run_where: Any = RunItem.serial == serial
            else:
                part_id = await session.scalar(select(Part.id).where(Part.part_number == part))
                if part_id is None:
                    raise NotFound(f"No part {part}", field="part")
                of_lot = and_(InventoryRow.part_id == part_id, InventoryRow.lot == lot)
                found = list(await session.execute(_rows(of_lot)))
                if not found:
                    raise NotFound(f"No lot {lot} of {part}", field="lot")
                subject = {"part": part, "lot": lot, "rows": [_node(row) for row in found]}
                run_where = and_(RunItem.part_id == part_id, RunItem.lot == lot)
            roots = [row.id for row in found]
            down, down_ids = await self._down(session, roots)
            up = await self._up(session, [row.installed_in_id for row in found if row.installed_in_id])
            up_serials = [node["serial"] for node in up if node["serial"]]
            if up_serials:  # and what the assemblies it is in were built by
                run_where = or_(run_where, RunItem.serial.in_(up_serials))
            runs = await self._runs(session, run_where)
            ids = [*roots, *down_ids, *(node["id"] for node in up)]
            moved: Any = Movement.inventory_id.in_(ids)
            if part_id is not None:  # a lot: its lines of quantities too (moves, splits, merges of the lot)
                moved = or_(moved, and_(Movement.part_id == part_id, Movement.lot == lot))
            ops = await self._ops(session, moved)
        for node in up:
            node.pop("id")
        return TraceOut(subject=subject, down=down, up=up, runs=runs, ops=ops)

    async def _down(self, session: Any, roots: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
        """The components of `roots` at every depth, as trees under each root."""
        tree = select(InventoryRow.id).where(InventoryRow.installed_in_id.in_(roots)).cte("tree", recursive=True)
        tree = tree.union_all(select(InventoryRow.id).where(InventoryRow.installed_in_id == tree.c.id))
        rows = list(await session.execute(_rows(InventoryRow.id.in_(select(tree.c.id))).order_by(InventoryRow.id)))
        children: dict[Any, list[dict[str, Any]]] = {}
        nodes = {row.id: {**_node(row), "components": []} for row in rows}
        for row in rows:
            children.setdefault(row.installed_in_id, []).append(nodes[row.id])
        for row in rows:
            nodes[row.id]["components"] = children.get(row.id, [])
        return [node for root in roots for node in children.get(root, [])], [row.id for row in rows]

    async def _up(self, session: Any, parents: list[Any]) -> list[dict[str, Any]]:
        """The assemblies above, innermost first."""
        if not parents:
            return []
        chain = select(InventoryRow.id, InventoryRow.installed_in_id).where(InventoryRow.id.in_(parents)).cte(
            "chain", recursive=True)
        chain = chain.union_all(
            select(InventoryRow.id, InventoryRow.installed_in_id).where(InventoryRow.id == chain.c.installed_in_id))
        rows = {row.id: row for row in await session.execute(_rows(InventoryRow.id.in_(select(chain.c.id))))}
        ordered, seen = [], set()
        for start in parents:
            at = start
            while at in rows and at not in seen:
                seen.add(at)
                ordered.append({"id": at, **_node(rows[at])})
                at = rows[at].installed_in_id
        return ordered

    async def _runs(self, session: Any, where: Any) -> list[dict[str, Any]]:
        query = (select(Run.number, Run.state, RunItem.kind, RunItem.serial, RunItem.lot, RunItem.quantity,
                        RunItem.into_serial, RunItem.created_at, Part.part_number)
                 .join(Run, Run.id == RunItem.run_id).join(Part, Part.id == RunItem.part_id)
                 .where(where).order_by(RunItem.created_at, RunItem.id))
        return [{"run": row.number, "state": row.state, "kind": row.kind, "part": row.part_number,
                 "serial": row.serial, "lot": row.lot, "quantity": row.quantity, "into": row.into_serial,
                 "at": row.created_at} for row in await session.execute(query)]

    async def _ops(self, session: Any, where: Any) -> list[dict[str, Any]]:
        query = (select(Movement.created_at.label("at"), Movement.op_id, Movement.op_type, Movement.action,
                        Movement.actor, Movement.reason, Part.part_number.label("part"), Movement.serial,
                        Movement.lot, Movement.quantity, FromLocation.code.label("from_location"),
                        ToLocation.code.label("to_location"), Movement.parent_serial)
                 .join(Part, Part.id == Movement.part_id)
                 .outerjoin(FromLocation, FromLocation.id == Movement.from_location_id)
                 .outerjoin(ToLocation, ToLocation.id == Movement.to_location_id)
                 .where(where).order_by(Movement.created_at.desc(), Movement.id.desc()).limit(MAX_OPS))
        rows = [{**row._mapping, "op_id": str(row.op_id)} for row in await session.execute(query)]
        return rows[::-1]

    async def expiring(self, days: int) -> ExpiringPage:
        """Stock (not installed, scrapped or on order, not empty) whose expiry is within `days` from today, or
        past: the earliest first."""
        today = utc_today()
        async with self.db.read() as session:
            query = (
                select(*ROW_COLUMNS).join(Part, Part.id == InventoryRow.part_id)
                .join(Location, Location.id == InventoryRow.location_id)
                .where(InventoryRow.expiry.is_not(None), InventoryRow.expiry <= today + timedelta(days=days),
                       InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), is_stock(),
                       InventoryRow.quantity > 0)
                .order_by(InventoryRow.expiry, Part.part_number, InventoryRow.lot, InventoryRow.serial)
                .limit(5000)
            )
            rows = list(await session.execute(query))
        return ExpiringPage(days=days, items=[
            ExpiringOut(part=row.part, lot=row.lot, serial=row.serial, location=row.location, quantity=row.quantity,
                        expiry=row.expiry, days_left=(row.expiry - today).days, status=row.status)
            for row in rows
        ])

