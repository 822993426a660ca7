"""Running an import: read the file, check each row on its own, then apply the rows in one write transaction
that is committed only when it should be:
- a dry run is rolled back whatever happened (the report says what would have);
- a real run is all or nothing: one row refused and the transaction is rolled back;
- with `skip_bad_rows` the rows that were not refused are committed (a refused row wrote nothing).
Rows are checked against the database too (a part that does not exist, a tracking switch that rows block, a
serial that exists), so the report of a dry run is that of the real run.

While the transaction runs, other writers wait for it (on SQLite, the whole database: phones' pushes are
answered retry_later after 10 s): big imports are for quiet hours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from server.db import Database
from server.errors import DomainError
from server.importing import locations, parts, stock, suppliers
from server.importing.kinds import Kind, Progress, Run, check_row, no_progress, refuse_repeats
from server.importing.presets import PRESETS, Preset
from server.importing.report import ERROR_COLUMN, Report, Row
from server.importing.table import FileRefused, Table, read_table
from server.actor import Actor
from server.transient import is_transient

LOG = logging.getLogger(__name__)
KINDS: dict[str, Kind] = {kind.name: kind for kind in (parts.KIND, locations.KIND, suppliers.KIND, stock.KIND)}


@dataclass(frozen=True, slots=True)
class Options:
    dry_run: bool = False
    skip_bad_rows: bool = False
    preset: str | None = None


class Undo(Exception):
    """Leaves the import's transaction, rolling it back."""


def rows_of(kind: Kind, table: Table, preset: Preset | None) -> list[Row]:
    """The records as the kind's columns (through the preset's mapping, if any), or FileRefused when the header
    does not fit the kind."""
    lower = {name.lower(): name for name in table.header if name}
    ours = {name: lower[name] for name in kind.columns if name in lower}  # our columns, as the file names them
    if preset is None:
        unknown = [name for key, name in lower.items() if key not in kind.columns and key != ERROR_COLUMN]
        if unknown:
            raise FileRefused(f"Unknown column {unknown[0]!r}: the columns of {kind.name} are {', '.join(kind.columns)}"
                              " (download the template)")
        for needed in (kind.key, *kind.required):
            if needed is not None and needed not in ours:
                raise FileRefused(f"The file has no {needed} column: the columns of {kind.name} are "
                                  f"{', '.join(kind.columns)}")
        return [Row(record, {column: record.cells[name] for column, name in ours.items()}, dict(ours))
                for record in table.records]
    mapping = preset.mappings.get(kind.name)
    if mapping is None:
        raise FileRefused(f"The {preset.name} preset reads no {kind.name}: only {', '.join(preset.mappings)}")
    if not any(column in lower for column in preset.signature[kind.name]):
        raise FileRefused(f"This is not a {preset.name} export of {kind.name}: none of its columns "
                          f"{', '.join(preset.signature[kind.name])}")
    rows = []
    for record in table.records:
        theirs = {name.lower(): text for name, text in record.cells.items()}
        cells, sources, refusals = mapping(theirs)
        given = {column: name for column, name in ours.items() if record.cells[name]}  # ours win where filled in
        cells.update({column: record.cells[name] for column, name in given.items()})
        sources.update(given)
        rows.append(Row(record, cells, sources, refusals=list(refusals)))
    return rows


async def run_import(
    db: Database, kind_name: str, data: bytes, actor: Actor, options: Options = Options(),
    progress: Progress = no_progress,
) -> Report:
    """Import `data` (a CSV file's bytes) as `kind_name` (parts, locations, suppliers, stock)."""
    kind = KINDS[kind_name]
    started = time.monotonic()
    report = Report(kind=kind.name, dry_run=options.dry_run, skip_bad_rows=options.skip_bad_rows, preset=options.preset)
    preset = PRESETS[options.preset] if options.preset else None
    try:
        table = read_table(data)
        rows = rows_of(kind, table, preset)
    except FileRefused as error:
        report.file_error = error.message
        return report
    run = Run(actor, table.delimiter, kind.name in (preset.locate_by_name if preset else ()), progress)
    for done, row in enumerate(rows, start=1):
        check_row(kind, row, table.delimiter)
        await run.tick("checking", done, len(rows))
    refuse_repeats(kind, rows)
    try:
        async with db.write() as session:
            await kind.apply(session, rows, run)
            if options.dry_run or (not options.skip_bad_rows and any(row.refused for row in rows)):
                raise Undo
        report.applied = True
    except Undo:
        pass
    except Exception as error:
        report.file_error = _failed(error)
        report.seconds = round(time.monotonic() - started, 3)
        return report
    report.rows = [row.outcome() for row in rows]
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _failed(error: Exception) -> str:
    if is_transient(error):
        return "The database is busy or unavailable: nothing was imported; import the file again in a while"
    if isinstance(error, DomainError):
        return f"Nothing was imported: {error.message}"
    LOG.error("an import failed", exc_info=error)
    return f"Nothing was imported: the import failed ({type(error).__name__}: {str(error)[:300]})"


async def exported(db: Database, kind_name: str) -> AsyncIterator[list[str]]:
    """The rows of an export of `kind_name`, in the columns of its import (the header not included)."""
    async with db.read() as session:
        async for row in KINDS[kind_name].export(session):
            yield row
