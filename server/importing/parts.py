"""Importing parts: a row per part number (the natural key). A new part needs its tracking type; a part that
exists gets the cells given (an empty cell leaves its field as it is), through the same writes as the API's
(server/catalog.py: the trail of each change, the tracking switch rules).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.schemas import PartIn
from server.catalog import add_part, check_patterns, edit_part
from server.errors import DomainError, Invalid
from server.importing.cells import CellError
from server.importing.kinds import Kind, Run, batches, text_of
from server.importing.report import CREATED, UNCHANGED, UPDATED, Row
from server.models import Part
from server.clock import next_version
from server.rules.quantities import pack_sizes, parse_quantity, quantity_text

COLUMNS = (
    "part_number", "description", "unit", "tracking", "revision", "serial_pattern", "lot_pattern", "quantity_places",
    "packs",
)


def packs_of(text: str) -> list[dict[str, Any]]:
    """The packs cell: `box=100|reel=5000` (a pack's name = its size in the part's unit; `|` between packs, so
    that neither a comma nor a semicolon separating the file's cells is needed inside one)."""
    packs = []
    for i, given in enumerate(p.strip() for p in text.split("|")):
        name, equals, size = given.rpartition("=")
        if not equals or not name.strip():
            raise CellError(f"pack {i + 1} ({given!r}): write NAME=SIZE, e.g. box=100|reel=5000")
        packs.append({"name": name.strip(), "quantity": size.strip().replace(",", ".")})
    try:
        return pack_sizes(packs)
    except Invalid as error:
        raise CellError(error.message.removeprefix("packs")) from None


def cell_text(name: str, value: Any) -> str:
    """A part's field as its cell holds it (packs as `box=100|reel=5000`)."""
    if name == "packs":
        return "|".join(f"{p['name']}={quantity_text(parse_quantity(p['quantity'], 'packs'))}" for p in value or [])
    return text_of(value)


def check(row: Row) -> None:
    for name in ("serial_pattern", "lot_pattern"):
        if name in row.values:
            try:
                check_patterns({name: row.values[name]})
            except Invalid as error:
                row.refuse(name, error.message.removeprefix(f"{name}: "))


def stored(values: dict[str, Any]) -> dict[str, Any]:
    """Typed cells as the model stores them (enums by their value)."""
    return {name: getattr(value, "value", value) for name, value in values.items()}


async def existing(session: AsyncSession, numbers: list[str]) -> dict[str, Part]:
    found: dict[str, Part] = {}
    for batch in batches(numbers):
        for part in (await session.execute(select(Part).where(Part.part_number.in_(batch)))).scalars():
            found[part.part_number] = part
    return found


async def apply(session: AsyncSession, rows: list[Row], run: Run) -> None:
    version = await next_version(session)
    parts = await existing(session, [row.key for row in rows if not row.refused])
    for done, row in enumerate(rows, start=1):
        if not row.refused:
            await _one(session, row, parts, run, version)
        await run.tick("applying", done, len(rows))


async def _one(session: AsyncSession, row: Row, parts: dict[str, Part], run: Run, version: int) -> None:
    values = stored(row.values)
    part = parts.get(row.key)
    if part is None:
        if "tracking" not in values:
            row.refuse("tracking", "required for a new part: serial, lot or untracked")
            return
        created = msgspec.convert(values, PartIn)  # the API's defaults for the cells left empty
        parts[row.key] = await add_part(session, stored(msgspec.structs.asdict(created)), run.actor, version)
        row.done(CREATED, f"{values['tracking']}-tracked")
        return
    changes = {name: value for name, value in values.items()
               if name != "part_number" and cell_text(name, getattr(part, name)) != cell_text(name, value)}
    if not changes:
        row.done(UNCHANGED)
        return
    before = {name: getattr(part, name) for name in changes}
    try:
        await edit_part(session, part, changes, run.actor, version)
    except DomainError as error:
        row.refuse(error.field or "", error.message)
        return
    row.done(UPDATED, "; ".join(f"{name}: {cell_text(name, before[name]) or '(empty)'} → {cell_text(name, value) or '(empty)'}"
                                for name, value in changes.items()))


async def export(session: AsyncSession) -> AsyncIterator[list[str]]:
    for part in (await session.execute(select(Part).order_by(Part.part_number))).scalars():
        yield [cell_text(name, getattr(part, name)) for name in COLUMNS]


KIND = Kind(
    name="parts", columns=COLUMNS, key="part_number", shape=PartIn, apply=apply, export=export, check=check,
    cells={"packs": packs_of},
)
