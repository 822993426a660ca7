"""Parts, locations and suppliers: the master data that operations refer to.

Every change takes a value of the change clock, like an op does, so that sync pull sees it. Creating or
editing a part or a location writes its trail in the same transaction (`master_changes`: who, when, each
field from → to), which the activity log shows next to the movements.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.actor import Actor
from server.clock import next_version
from server.db import Database
from server.errors import AlreadyExists, Forbidden, Invalid, NotFound, TrackingSwitchBlocked
from server.models import InventoryRow, Location, MasterChange, Part, Role, Supplier
from server.rules.patterns import PatternError, validate
from server.rules.quantities import pack_sizes
from server.rules.tracking import blocker_advice, switch_blockers

PART_FIELDS = ("description", "revision", "unit", "quantity_places", "packs", "serial_pattern", "lot_pattern")
BLOCKING_ROWS_SHOWN = 20  # a refused tracking switch names its first blocking rows
ROW_FIELDS = ("code", "available")  # what an inventory row shows of its location (sync/views.py)
PART_CREATED = (
    "part_number", "tracking", "description", "revision", "unit", "quantity_places", "packs", "serial_pattern",
    "lot_pattern",
)
LOCATION_CREATED = ("code", "name", "parent", "kind", "available")


def _said(value: Any) -> str:
    if value is None:
        return "none"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _record(
    session: AsyncSession, actor: Actor, subject: Part | Location, changes: list[dict[str, Any]], *, created: bool = False
) -> None:
    """The trail of a master-data change (nothing when nothing changed)."""
    if not changes:
        return
    kind = "part" if isinstance(subject, Part) else "location"
    session.add(MasterChange(
        op_type=f"{kind}_{'create' if created else 'update'}", action="Create" if created else "Edit",
        actor=actor.username, device_id=actor.device_id, part_id=subject.id if kind == "part" else None,
        location_id=subject.id if kind == "location" else None, changes=changes,
        reason="; ".join(f"{c['field']}: {_said(c['from'])} → {_said(c['to'])}" for c in changes),
    ))


def _created(values: dict[str, Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"field": name, "from": None, "to": values[name]} for name in fields if values.get(name) not in (None, "")]


def _edits(subject: Any, changes: dict[str, Any]) -> list[dict[str, Any]]:
    """{field, from, to} of each change that alters `subject`."""
    return [{"field": name, "from": getattr(subject, name), "to": value}
            for name, value in changes.items() if getattr(subject, name) != value]


def check_patterns(values: dict[str, Any]) -> None:
    for name in ("serial_pattern", "lot_pattern"):
        if values.get(name):
            try:
                validate(values[name])
            except PatternError as error:
                raise Invalid(f"{name}: {error}", field=name) from None


def check_packs(values: dict[str, Any]) -> None:
    """A part's packs (Pack Structs or {name, quantity}) as it stores them: [{name, quantity}], names unique,
    sizes more than 0 (an int when whole, else a decimal string in JSON); none given: null."""
    if values.get("packs") is not None:
        given = [{"name": p["name"], "quantity": p["quantity"]} if isinstance(p, dict) else
                 {"name": p.name, "quantity": p.quantity} for p in values["packs"]]
        values["packs"] = [
            {"name": p["name"], "quantity": p["quantity"] if isinstance(p["quantity"], int) else str(p["quantity"])}
            for p in pack_sizes(given)
        ] or None


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


# ---- the writes, in a transaction the caller owns (the API's, one per request; an import's, one per file) --------
async def add_part(session: AsyncSession, values: dict[str, Any], actor: Actor, version: int) -> Part:
    """A new part with its trail; `values` checked (PartIn, `check_patterns`) and its part number free."""
    part = Part(**values, version=version)
    session.add(part)
    await session.flush()  # before its trail, which refers to it
    _record(session, actor, part, _created(values, PART_CREATED), created=True)
    return part


async def edit_part(session: AsyncSession, part: Part, changes: dict[str, Any], actor: Actor, version: int) -> None:
    """Apply `changes` (checked as PartPatch's) to `part`, with its trail. A change of tracking needs an admin and
    follows the switch rules."""
    changes = dict(changes)
    new_tracking = changes.pop("tracking", None)
    edits = _edits(part, {"tracking": new_tracking} if new_tracking is not None else {}) + _edits(part, changes)
    if new_tracking is not None and new_tracking != part.tracking:
        if not actor.at_least(Role.admin):
            raise Forbidden("Only an admin can change a part's tracking type", field="tracking")
        await check_switch(session, part, new_tracking)
        part.tracking = new_tracking
    for name, value in changes.items():
        setattr(part, name, value)
    part.version = version
    _record(session, actor, part, edits)


async def check_switch(session: AsyncSession, part: Part, new: str) -> None:
    """Refuse switching `part` to tracking `new` while rows of its old tracking type block it (TrackingSwitchBlocked
    naming how many, of which kind, and the first of them)."""
    live = [  # what a purchase order was cancelled for will never come: it does not block
        InventoryRow.part_id == part.id, ~InventoryRow.scrapped, InventoryRow.quantity > 0,
        or_(InventoryRow.po_state.is_(None), InventoryRow.po_state == "open"),
    ]
    counts = {tracking: n for tracking, n in (await session.execute(
        select(InventoryRow.tracking, func.count()).where(*live).group_by(InventoryRow.tracking)
    )).all()}
    blocked = switch_blockers(part.tracking, new, counts)
    if blocked is None:
        return
    rows, why = blocked
    kind = case(
        (InventoryRow.po_state.is_not(None), "on_order"), (InventoryRow.installed_in_id.is_not(None), "installed"),
        (InventoryRow.isolated, "isolated"), else_="on_hand",
    )
    mine = [*live, InventoryRow.tracking == part.tracking]
    by_kind = {k: n for k, n in (await session.execute(select(kind, func.count()).where(*mine).group_by(kind))).all()}
    advice, kinds = blocker_advice(by_kind)
    parent, here = aliased(InventoryRow), aliased(Location)
    examples = (await session.execute(
        select(kind, InventoryRow.serial, InventoryRow.lot, here.code, InventoryRow.quantity, parent.serial)
        .join(here, here.id == InventoryRow.location_id)
        .outerjoin(parent, parent.id == InventoryRow.installed_in_id)
        .where(*mine).order_by(here.code, InventoryRow.serial, InventoryRow.lot).limit(BLOCKING_ROWS_SHOWN)
    )).all()
    raise TrackingSwitchBlocked(
        f"Cannot switch {part.part_number} from {part.tracking} to {new}: {why} — {advice}",
        field="tracking",
        blocking_rows=rows,
        blockers=kinds,
        rows=[
            {"kind": k, "serial": serial, "lot": lot, "location": code, "quantity": quantity, "installed_in": installed_in}
            for k, serial, lot, code, quantity, installed_in in examples
        ],
    )


async def add_location(
    session: AsyncSession, values: dict[str, Any], parent: Location | None, actor: Actor, version: int
) -> Location:
    """A new location under `parent`, with its trail; `values` checked (LocationIn, without `parent`) and its code
    free."""
    location = Location(**values, parent_id=parent.id if parent else None, version=version,
                        rows_version=version)
    session.add(location)
    await session.flush()  # before its trail, which refers to it
    shown = {**values, "parent": parent.code if parent else None, "available": values.get("available", True)}
    _record(session, actor, location, _created(shown, LOCATION_CREATED), created=True)
    return location


async def edit_location(
    session: AsyncSession, location: Location, changes: dict[str, Any], actor: Actor, version: int
) -> None:
    """Apply `changes` (checked as LocationPatch's; `parent` a code or None) to `location`, with its trail. A
    parent inside the location is refused (a loop)."""
    changes = dict(changes)
    edits = _edits(location, {name: value for name, value in changes.items() if name != "parent"})
    if "parent" in changes:
        parent_key = changes.pop("parent")
        before = await session.scalar(select(Location.code).where(Location.id == location.parent_id))
        if parent_key is None:
            location.parent_id = None
            after = None
        else:
            parent = await _one(session, Location, "code", parent_key, "parent")
            if location.id in await _ancestor_ids(session, parent):
                raise Invalid(f"{parent.code} is inside {location.code}: that would make a loop", field="parent")
            location.parent_id, after = parent.id, parent.code
        if before != after:
            edits.append({"field": "parent", "from": before, "to": after})
    _record(session, actor, location, edits)
    if any(name in ROW_FIELDS and getattr(location, name) != value for name, value in changes.items()):
        location.rows_version = version  # its rows' `location` or `status` change: phones get them again
    for name, value in changes.items():
        setattr(location, name, value)
    location.version = version


async def _ancestor_ids(session: AsyncSession, location: Location) -> set[UUID]:
    seen = {location.id}
    parent_id = location.parent_id
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent_id = await session.scalar(select(Location.parent_id).where(Location.id == parent_id))
    return seen


class CatalogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- parts --------------------------------------------------------------------------------
    async def create_part(self, values: dict[str, Any], actor: Actor) -> Part:
        check_patterns(values)
        check_packs(values)
        async with self.db.write() as session:
            version = await next_version(session)
            if await session.scalar(select(Part.id).where(Part.part_number == values["part_number"])):
                raise AlreadyExists(f"Part {values['part_number']} already exists", field="part_number")
            part = await add_part(session, values, actor, version)
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
        check_patterns(changes)
        check_packs(changes)
        async with self.db.write() as session:
            version = await next_version(session)
            part = await _one(session, Part, "part_number", key, "part")
            await edit_part(session, part, changes, actor, version)
        return part
    # ---- locations ----------------------------------------------------------------------------
    async def create_location(self, values: dict[str, Any], actor: Actor) -> Location:
        parent_key = values.pop("parent", None)
        async with self.db.write() as session:
            version = await next_version(session)
            if await session.scalar(select(Location.id).where(Location.code == values["code"])):
                raise AlreadyExists(f"Location {values['code']} already exists", field="code")
            parent = await _one(session, Location, "code", parent_key, "parent") if parent_key is not None else None
            location = await add_location(session, values, parent, actor, version)
        return location

    async def update_location(self, key: str | UUID, changes: dict[str, Any], actor: Actor) -> Location:
        async with self.db.write() as session:
            version = await next_version(session)
            location = await _one(session, Location, "code", key, "location")
            await edit_location(session, location, changes, actor, version)
        return location

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
            if await session.scalar(select(Supplier.id).where(Supplier.named(name))):
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
