"""Importing locations: a row per code (the natural key). A code written as a path, `PLANT-1/STORES/CAGE-A`,
has its path's parent (`PLANT-1/STORES`) as its parent unless the row names another; parents missing from the
database and from the file are made (`PLANT-1`, then `PLANT-1/STORES`). Rows are applied parents first,
whatever their order in the file. A location that exists gets the cells given (an empty cell leaves its field
as it is), through the same writes as the API's (server/catalog.py: the trail, the loop check).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.schemas import LocationIn
from server.catalog import add_location, edit_location
from server.errors import DomainError
from server.importing.kinds import Kind, Run, batches, text_of
from server.importing.report import CREATED, UNCHANGED, UPDATED, Row
from server.models import Location
from server.clock import next_version

COLUMNS = ("code", "name", "parent", "kind", "available")


def path_parents(code: str) -> list[str]:
    """The path's ancestors of a code, outermost first: `A/B/C` → [`A`, `A/B`]."""
    parts = code.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts)) if all(parts[:depth])]


async def existing(session: AsyncSession, codes: set[str]) -> dict[str, Location]:
    found: dict[str, Location] = {}
    for batch in batches(sorted(codes)):
        for location in (await session.execute(select(Location).where(Location.code.in_(batch)))).scalars():
            found[location.code] = location
    return found


def parents_first(rows: list[Row]) -> list[Row]:
    """The rows in an order that applies the rows of their parents (named, or on their path) before them, and a
    row whose path makes a parent another row names before that row. Rows whose parents in the file make a
    loop are refused."""
    in_file = {row.key: row for row in rows}
    makers: dict[str, Row] = {}  # a parent no row names as its code, made on the path of a row's code
    for row in rows:
        for code in path_parents(row.key):
            makers.setdefault(code, row)
    ordered: list[Row] = []
    state: dict[str, str] = {}  # key -> "visiting" / "done"

    def visit(row: Row, trail: list[Row]) -> None:
        if state.get(row.key) == "done":
            return
        if state.get(row.key) == "visiting":
            loop = trail[trail.index(row):]
            for member in loop:
                member.refuse("parent", "the parents in this file make a loop: rows "
                              + ", ".join(str(r.number) for r in loop))
            return
        state[row.key] = "visiting"
        given = row.values.get("parent")
        for code in [*path_parents(row.key), *([given] if given is not None else [])]:
            before = in_file.get(code) or (makers.get(code) if code == given else None)
            if before is not None and before is not row:
                visit(before, [*trail, row])
        state[row.key] = "done"
        ordered.append(row)

    for row in rows:
        visit(row, [])
    return ordered


async def apply(session: AsyncSession, rows: list[Row], run: Run) -> None:
    version = await next_version(session)
    good = [row for row in rows if not row.refused]
    wanted = {row.key for row in good} | {code for row in good for code in path_parents(row.key)}
    wanted |= {row.values["parent"] for row in good if "parent" in row.values}
    known = await existing(session, wanted)
    in_file = {row.key: row for row in good}
    for done, row in enumerate(parents_first(good), start=1):
        if not row.refused:
            await _one(session, row, known, in_file, run, version)
        await run.tick("applying", done, len(good))


async def _one(
    session: AsyncSession, row: Row, known: dict[str, Location], in_file: dict[str, Row], run: Run, version: int
) -> None:
    location = known.get(row.key)
    named = row.values.get("parent")
    wanted = named if named is not None else (None if location is not None else (path_parents(row.key) or [None])[-1])
    if wanted == row.key:
        row.refuse("parent", "a location cannot be its own parent")
        return
    made: list[str] | None = []
    if wanted is not None and wanted not in known:
        source = in_file.get(wanted)
        if source is not None and source.refused:
            row.refuse("parent", f"{wanted} is refused on row {source.number}")
            return
        if wanted not in path_parents(row.key):
            row.refuse("parent", f"No location {wanted}, neither in the database nor in this file")
            return
        made = await _path_to(session, wanted, known, in_file, run, version)
        if made is None:
            row.refuse("parent", f"{wanted} cannot be made: a location on its path is refused")
            return
    values = {name: getattr(value, "value", value) for name, value in row.values.items() if name != "parent"}
    if location is None:
        created = msgspec.convert({**values, "code": row.key}, LocationIn)  # the API's defaults for empty cells
        fields = {name: getattr(value, "value", value) for name, value in msgspec.structs.asdict(created).items()
                  if name != "parent"}
        parent = known.get(wanted) if wanted is not None else None
        known[row.key] = await add_location(session, fields, parent, run.actor, version)
        row.done(CREATED, f"with {', '.join(made)}" if made else "")
        return
    await _update(session, row, location, values, wanted if named is not None else None, known, run, version)


async def _update(
    session: AsyncSession, row: Row, location: Location, values: dict[str, Any], parent: str | None,
    known: dict[str, Location], run: Run, version: int,
) -> None:
    changes = {name: value for name, value in values.items() if name != "code" and getattr(location, name) != value}
    if parent is not None and known[parent].id != location.parent_id:
        changes["parent"] = parent
    if not changes:
        row.done(UNCHANGED)
        return
    try:
        await edit_location(session, location, changes, run.actor, version)
    except DomainError as error:
        row.refuse(error.field or "", error.message)
        return
    row.done(UPDATED, ", ".join(changes))


async def _path_to(
    session: AsyncSession, code: str, known: dict[str, Location], in_file: dict[str, Row], run: Run, version: int
) -> list[str] | None:
    """Make the locations of the path down to `code` that neither the database nor the file has, each under the
    one before (None: one of them is a row of the file that was refused). Returns the codes made."""
    made = []
    parent = None
    for step in [*path_parents(code), code]:
        if step in in_file and in_file[step].refused:
            return None
        if step not in known:
            known[step] = await add_location(session, {"code": step}, parent, run.actor, version)
            made.append(step)
        parent = known[step]
    return made


async def export(session: AsyncSession) -> AsyncIterator[list[str]]:
    parents = Location.__table__.alias("parent")
    query = select(Location, parents.c.code).outerjoin(parents, parents.c.id == Location.parent_id).order_by(Location.code)
    for location, parent in (await session.execute(query)).all():
        yield [location.code, location.name, parent or "", text_of(location.kind), text_of(location.available)]


KIND = Kind(name="locations", columns=COLUMNS, key="code", shape=LocationIn, apply=apply, export=export)
