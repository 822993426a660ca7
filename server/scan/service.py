"""GET /api/scan: what a scanned code is, with the matching inventory; and the log of codes that
matched nothing (`scan_misses`), for review.

Which reading wins, first match:
1. one of our labels (`U:`, `L:`, `P:`, `B:`, see `codes.py`);
2. an ISO/IEC 15434 message or a marked GS1 element string: a supplier label (a GTIN alone is a
   `gtin`), matched to our part by its part numbers (P, 1P, 30P; GS1 241, 240, the GTIN);
3. plain text equal to a serial, a location code, a part number, or a lot code of exactly one part
   (operators type them);
4. a bare EAN/UPC/GTIN with a valid check digit, then an unmarked GS1 string starting with (00),
   (01) or (02);
5. unknown.
A code that finds nothing in the inventory (an unknown code, a label of a unit or part that does not
exist, a supplier label of no part of ours) is recorded in `scan_misses`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import aliased

from server.actor import Actor
from server.db import Database, dialect_insert
from server.models import InventoryRow, Location, Part
from server.queries import InventoryFilter, InventoryQueries, location_subtree
from server.rules.status import inventory_status_sql
from server.scan import codes
from server.scan.models import ScanMiss
from server.scan.reading import FIELD_NAMES, Reading, read

ROW_LIMIT = 100
ParentLocation = aliased(Location, name="parent_location")


@dataclass(slots=True)
class Answer:
    code: str
    kind: str = "unknown"
    found: bool = False
    format: str = "text"
    fields: dict[str, Any] = field(default_factory=dict)
    elements: list[dict[str, str]] = field(default_factory=list)
    part: dict[str, Any] | None = None
    unit: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    rows_total: int = 0
    stock: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def _stock_query(where: Any, group_by_part: bool) -> Select[Any]:
    """Quantities per (part or location, lot, status): stock that is not scrapped and not empty."""
    inner = (
        select(
            Part.part_number.label("part"),
            Location.code.label("location"),
            InventoryRow.lot,
            inventory_status_sql(InventoryRow, Location).label("status"),
            InventoryRow.quantity,
        )
        .join(Part, Part.id == InventoryRow.part_id)
        .join(Location, Location.id == InventoryRow.location_id)
        .where(where, InventoryRow.scrapped == false(), InventoryRow.quantity > 0)
        .subquery()
    )
    keys = [inner.c.part, inner.c.location, inner.c.lot, inner.c.status]
    return (
        select(*keys, func.sum(inner.c.quantity).label("quantity"), func.count().label("rows"))
        .group_by(*keys)
        .order_by(*(keys if group_by_part else [inner.c.location, inner.c.part, inner.c.lot, inner.c.status]))
    )


class ScanService:
    def __init__(self, db: Database, queries: InventoryQueries) -> None:
        self.db = db
        self.queries = queries

    # ---- the answer -------------------------------------------------------------------------------
    async def scan(self, code: str, actor: Actor, today: date | None = None) -> dict[str, Any]:
        reading = read(code, today)
        answer = Answer(code=code, errors=list(reading.errors), warnings=list(reading.warnings))
        answer.elements = [{"id": e.id, "name": e.name, "value": e.value} for e in reading.elements]
        answer.fields = {name: reading.fields.get(name) for name in FIELD_NAMES}
        structured = reading.structured
        if structured == "gemba":
            answer.format = "gemba"
            await self._own(reading.own, answer)  # type: ignore[arg-type]
            if not answer.found:
                await self._plain(reading.text, answer, keep_kind=True)
        elif structured in ("iso15434", "gs1"):
            answer.format = structured
            await self._label(reading, answer)
        elif not await self._plain(reading.text, answer) and (reading.gtin or reading.gs1):
            answer.format = "gtin" if reading.gtin else "gs1"
            await self._label(reading, answer)
        if not answer.found:
            await self._record_miss(code, answer.kind, actor)
        return answer.as_dict()

    async def _own(self, own: codes.OwnCode, answer: Answer) -> None:
        match own:
            case codes.UnitCode(serial):
                answer.kind = "unit"
                await self._unit(serial, answer)
            case codes.LotCode(part, lot):
                answer.kind = "lot"
                await self._lot(part, lot, answer)
            case codes.PartCode(part_number):
                answer.kind = "part"
                await self._part(part_number, answer)
            case codes.LocationCode(location):
                answer.kind = "location"
                await self._location(location, answer)

    async def _plain(self, text: str, answer: Answer, keep_kind: bool = False) -> bool:
        """Text as an operator types it: a serial, a location code, a part number, a lot code."""
        if not text or len(text) > 128:
            return False
        kind = answer.kind
        for name, look_up in (
            ("unit", self._unit), ("location", self._location), ("part", self._part), ("lot", self._lot_alone),
        ):
            await look_up(text, answer)
            if answer.found:
                answer.kind = name
                answer.fields = {**answer.fields, **self._plain_fields(name, text, answer)}
                return True
        if keep_kind:
            answer.kind = kind
        return False

    @staticmethod
    def _plain_fields(kind: str, text: str, answer: Answer) -> dict[str, Any]:
        if kind == "unit":
            return {"serial": text, "part": answer.part and answer.part["part_number"]}
        if kind == "lot":
            return {"lot": text, "part": answer.part and answer.part["part_number"]}
        return {kind: answer.part["part_number"] if kind == "part" and answer.part else text}

    async def _label(self, reading: Reading, answer: Answer) -> None:
        """A supplier's label or a GTIN: our part by the label's part numbers, and the unit if the label
        carries a serial we know."""
        message = reading.gs1
        if reading.gtin is None and not reading.elements:
            answer.kind = "unknown"  # a header or marker with nothing readable after it: `errors` say why
            return
        gtin_only = reading.gtin is not None or (message is not None and [e.ai for e in message.elements] == ["01"])
        answer.kind = "gtin" if gtin_only else "supplier_label"
        part = await self._part_by_candidates(reading.part_candidates)
        if part is not None:
            answer.fields["part"] = part["part_number"]
            await self._part(part["part_number"], answer)
        serial = reading.fields.get("serial")
        if serial:
            unit = await self._unit_row(serial)
            if unit is not None and (part is None or unit["part"] == part["part_number"]):
                answer.unit, answer.found = unit, True

    # ---- look-ups -------------------------------------------------------------------------------
    async def _unit_row(self, serial: str) -> dict[str, Any] | None:
        items, _ = await self.queries.page(InventoryFilter(serial=serial, include_empty=True), 1, 0)
        return items[0] if items else None

    async def _unit(self, serial: str, answer: Answer) -> None:
        unit = await self._unit_row(serial)
        if unit is None:
            return
        answer.unit, answer.found = unit, True
        answer.part = await self._part_info(unit["part"])

    async def _lot(self, part: str, lot: str, answer: Answer) -> None:
        """A lot's rows across locations. The part is shown even when the lot does not exist yet (a
        label printed before the receipt)."""
        answer.part = await self._part_info(part) or answer.part
        if answer.part is None or answer.part["part_number"] != part:
            return
        await self._rows(InventoryFilter(part=part, lot=lot), answer)
        async with self.db.read() as session:
            answer.stock = await self._stock(
                session, (InventoryRow.part_id == answer.part["id"]) & (InventoryRow.lot == lot), False
            )
        answer.found = answer.rows_total > 0 or await self._lot_exists(answer.part["id"], lot)

    async def _lot_alone(self, lot: str, answer: Answer) -> None:
        async with self.db.read() as session:
            parts = (
                await session.scalars(
                    select(Part.part_number).join(InventoryRow, InventoryRow.part_id == Part.id)
                    .where(InventoryRow.lot == lot).distinct().limit(2)
                )
            ).all()
        if len(parts) == 1:
            await self._lot(parts[0], lot, answer)

    async def _lot_exists(self, part_id: Any, lot: str) -> bool:
        async with self.db.read() as session:
            found = await session.scalar(
                select(InventoryRow.id).where(InventoryRow.part_id == part_id, InventoryRow.lot == lot).limit(1)
            )
        return found is not None

    async def _part(self, part_number: str, answer: Answer) -> None:
        part = await self._part_info(part_number)
        if part is None:
            return
        answer.part, answer.found = part, True
        await self._rows(InventoryFilter(part=part_number), answer)
        async with self.db.read() as session:
            answer.stock = await self._stock(session, InventoryRow.part_id == answer.part["id"], False)

    async def _location(self, code: str, answer: Answer) -> None:
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(
                        Location.id, Location.code, Location.name, Location.kind, Location.available,
                        Location.count_locked, ParentLocation.code.label("parent"),
                    )
                    .outerjoin(ParentLocation, ParentLocation.id == Location.parent_id)
                    .where(Location.code == code)
                )
            ).one_or_none()
            if row is None:
                return
            answer.location, answer.found = dict(row._mapping), True
            answer.stock = await self._stock(session, InventoryRow.location_id.in_(location_subtree(code)), True)
        await self._rows(InventoryFilter(location=code), answer)

    async def _rows(self, filters: InventoryFilter, answer: Answer) -> None:
        answer.rows, answer.rows_total = await self.queries.page(filters, ROW_LIMIT, 0)

    async def _stock(self, session: Any, where: Any, group_by_part: bool) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in await session.execute(_stock_query(where, group_by_part))]

    async def _part_info(self, part_number: str) -> dict[str, Any] | None:
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(
                        Part.id, Part.part_number, Part.description, Part.revision, Part.unit, Part.tracking,
                    ).where(Part.part_number == part_number)
                )
            ).one_or_none()
        return dict(row._mapping) if row else None

    async def _part_by_candidates(self, candidates: list[str]) -> dict[str, Any] | None:
        if not candidates:
            return None
        async with self.db.read() as session:
            found = set(await session.scalars(select(Part.part_number).where(Part.part_number.in_(candidates))))
        for candidate in candidates:
            if candidate in found:
                return await self._part_info(candidate)
        return None

    # ---- misses ---------------------------------------------------------------------------------
    async def _record_miss(self, code: str, kind: str, actor: Actor) -> None:
        now = datetime.now(UTC)
        values = {
            "code_hash": hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest(),
            "code": code, "kind": kind, "count": 1, "last_user": actor.username,
            "last_device_id": actor.device_id, "last_seen_at": now, "created_at": now, "updated_at": now,
        }
        statement = dialect_insert(self.db.dialect, ScanMiss).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[ScanMiss.code_hash],
            set_={
                "count": ScanMiss.count + 1, "kind": kind, "last_user": actor.username,
                "last_device_id": actor.device_id, "last_seen_at": now, "updated_at": now,
            },
        )
        async with self.db.write() as session:
            await session.execute(statement)

    async def misses(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Codes scanned that matched nothing, most recently seen first."""
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(ScanMiss))
            rows = await session.execute(
                select(
                    ScanMiss.code, ScanMiss.kind, ScanMiss.count, ScanMiss.last_user, ScanMiss.last_device_id,
                    ScanMiss.created_at.label("first_seen_at"), ScanMiss.last_seen_at,
                )
                .order_by(ScanMiss.last_seen_at.desc(), ScanMiss.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [dict(row._mapping) for row in rows], int(total or 0)
