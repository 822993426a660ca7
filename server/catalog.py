"""Parts, locations and suppliers: the master data that operations refer to.

Every change takes a value of the change clock, like an op does, so that sync pull sees it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import AlreadyExists, Forbidden, Invalid, NotFound, TrackingSwitchBlocked
from server.models import InventoryRow, Location, Part, Role, Supplier
from server.ops.stock import Actor, next_version
from server.rules.patterns import PatternError, validate
from server.rules.tracking import switch_blockers

PART_FIELDS = ("description", "revision", "unit", "serial_pattern", "lot_pattern")
ROW_FIELDS = ("code", "available")  # what an inventory row shows of its location (sync/views.py)


def _check_patterns(values: dict[str, Any]) -> None:
    for name in ("serial_pattern", "lot_pattern"):
        if values.get(name):
            try:
                validate(values[name])
            except PatternError as error:
                raise Invalid(f"{name}: {error}", field=name) from None


def _contains(column: Any, text: str) -> Any:
    """Case-insensitive substring match; `%` and `_` in `text` are literal characters."""
    return func.lower(column).contains(text.lower(), autoescape=True)


async def _one(session: AsyncSession, model: type, key: str, value: str | UUID, field: str) -> Any:
    """Find by id (a UUID) or by natural key (part number, location code)."""
    column = getattr(model, key)
    try:
        condition = model.id == UUID(str(value))
    except ValueError:
        condition = column == value
    found = (await session.execute(select(model).where(or_(condition, column == str(value))))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {model.__tablename__[:-1]} {value}", field=field)
    return found


class CatalogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- parts --------------------------------------------------------------------------------
    async def create_part(self, values: dict[str, Any]) -> Part:
        _check_patterns(values)
        async with self.db.write() as session:
            version = await next_version(session)
            if await session.scalar(select(Part.id).where(Part.part_number == values["part_number"])):
                raise AlreadyExists(f"Part {values['part_number']} already exists", field="part_number")
            part = Part(**values, version=version)
            session.add(part)
        return part

    async def get_part(self, key: str | UUID) -> Part:
        async with self.db.read() as session:
            return await _one(session, Part, "part_number", key, "part")

    async def list_parts(self, q: str | None, limit: int, offset: int) -> tuple[list[Part], int]:
        query = select(Part)
        if q:
            query = query.where(or_(_contains(Part.part_number, q), _contains(Part.description, q)))
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(query.order_by(Part.part_number).limit(limit).offset(offset))
            return list(rows.scalars()), int(total or 0)

    async def update_part(self, key: str | UUID, changes: dict[str, Any], actor: Actor) -> Part:
        _check_patterns(changes)
        async with self.db.write() as session:
            version = await next_version(session)
            part = await _one(session, Part, "part_number", key, "part")
            new_tracking = changes.pop("tracking", None)
            if new_tracking is not None and new_tracking != part.tracking:
                if not actor.at_least(Role.admin):
                    raise Forbidden("Only an admin can change a part's tracking type", field="tracking")
                await self._check_switch(session, part, new_tracking)
                part.tracking = new_tracking
            for name, value in changes.items():
                setattr(part, name, value)
            part.version = version
        return part

    async def _check_switch(self, session: AsyncSession, part: Part, new: str) -> None:
        live = (
            select(InventoryRow.tracking, func.count())
            .where(InventoryRow.part_id == part.id, ~InventoryRow.scrapped, InventoryRow.quantity > 0)
            .group_by(InventoryRow.tracking)
        )
        counts = {tracking: n for tracking, n in (await session.execute(live)).all()}
        blocked = switch_blockers(part.tracking, new, counts)
        if blocked is not None:
            rows, why = blocked
            raise TrackingSwitchBlocked(
                f"Cannot switch {part.part_number} from {part.tracking} to {new}: {why}",
                field="tracking",
                blocking_rows=rows,
            )

    # ---- locations ----------------------------------------------------------------------------
    async def create_location(self, values: dict[str, Any]) -> Location:
        parent_key = values.pop("parent", None)
        async with self.db.write() as session:
            version = await next_version(session)
            if await session.scalar(select(Location.id).where(Location.code == values["code"])):
                raise AlreadyExists(f"Location {values['code']} already exists", field="code")
            if parent_key is not None:
                values["parent_id"] = (await _one(session, Location, "code", parent_key, "parent")).id
            location = Location(**values, version=version, rows_version=version)
            session.add(location)
        return location

    async def update_location(self, key: str | UUID, changes: dict[str, Any]) -> Location:
        async with self.db.write() as session:
            version = await next_version(session)
            location = await _one(session, Location, "code", key, "location")
            if "parent" in changes:
                parent_key = changes.pop("parent")
                if parent_key is None:
                    location.parent_id = None
                else:
                    parent = await _one(session, Location, "code", parent_key, "parent")
                    if location.id in await self._ancestor_ids(session, parent):
                        raise Invalid(f"{parent.code} is inside {location.code}: that would make a loop", field="parent")
                    location.parent_id = parent.id
            if any(name in ROW_FIELDS and getattr(location, name) != value for name, value in changes.items()):
                location.rows_version = version  # its rows' `location` or `status` change: phones get them again
            for name, value in changes.items():
                setattr(location, name, value)
            location.version = version
        return location

    async def _ancestor_ids(self, session: AsyncSession, location: Location) -> set[UUID]:
        seen = {location.id}
        parent_id = location.parent_id
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            parent_id = await session.scalar(select(Location.parent_id).where(Location.id == parent_id))
        return seen

    async def parent_code(self, location: Location) -> str | None:
        if location.parent_id is None:
            return None
        async with self.db.read() as session:
            return await session.scalar(select(Location.code).where(Location.id == location.parent_id))

    async def list_locations(self, q: str | None = None) -> list[tuple[Location, str | None]]:
        parent_table = Location.__table__.alias("parent")
        query = select(Location, parent_table.c.code).outerjoin(parent_table, parent_table.c.id == Location.parent_id)
        if q:
            query = query.where(or_(_contains(Location.code, q), _contains(Location.name, q)))
        async with self.db.read() as session:
            return [(loc, parent_code) for loc, parent_code in (await session.execute(query.order_by(Location.code))).all()]

    # ---- suppliers ----------------------------------------------------------------------------
    async def create_supplier(self, name: str, code: str | None) -> Supplier:
        async with self.db.write() as session:
            if await session.scalar(select(Supplier.id).where(func.lower(Supplier.name) == name.lower())):
                raise AlreadyExists(f"Supplier {name} already exists", field="name")
            if code is not None and await session.scalar(select(Supplier.name).where(Supplier.code == code)):
                raise AlreadyExists(f"Supplier code {code} is taken", field="code")
            supplier = Supplier(name=name, code=code)
            session.add(supplier)
        return supplier

    async def search_suppliers(self, q: str | None, limit: int) -> list[Supplier]:
        """Autocomplete: names or codes starting with `q` first, then containing it."""
        query = select(Supplier)
        if q:
            needle = q.lower()
            name, code = func.lower(Supplier.name), func.lower(func.coalesce(Supplier.code, ""))
            starts = or_(name.startswith(needle, autoescape=True), code.startswith(needle, autoescape=True))
            contains = or_(name.contains(needle, autoescape=True), code.contains(needle, autoescape=True))
            query = query.where(contains).order_by(case((starts, 0), else_=1), Supplier.name)
        else:
            query = query.order_by(Supplier.name)
        async with self.db.read() as session:
            return list((await session.execute(query.limit(limit))).scalars())
