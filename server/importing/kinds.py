"""What the four kinds of import share: their shape (columns, natural key, the API Struct that types their
cells), the checks of a row on its own (every cell by the Struct's field types, the key given and given once
in the file), and the run they happen in (who imports, progress, a turn for the event loop now and then).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.importing.cells import CellError, typed
from server.importing.report import Row
from server.actor import Actor

Progress = Callable[[str, int, int], None]  # (phase: checking or applying, rows done, rows in all)
IN_BATCH = 500  # keys per IN (...) list
TICK_ROWS = 250  # rows between two reports of progress (and turns for the event loop)
T = TypeVar("T")


def no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


@dataclass(slots=True)
class Run:
    """One import: who makes it, how its file writes numbers, and where its progress goes."""

    actor: Actor
    delimiter: str = ","
    locate_by_name: bool = False  # stock: a location named by its name or last path segment (InvenTree's exports)
    progress: Progress = no_progress
    _last: float = field(default=0.0)

    async def tick(self, phase: str, done: int, total: int, *, now: bool = False) -> None:
        """Report progress every TICK_ROWS rows (and at the end, or `now`), and give the event loop a turn: a SQLite
        write transaction runs its statements on the loop (server/db.py), so a long import would hold it otherwise."""
        if now or done % TICK_ROWS == 0 or done == total:
            self.progress(phase, done, total)
            if time.monotonic() - self._last > 0.05:
                self._last = time.monotonic()
                await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # parts, locations, suppliers, stock
    columns: tuple[str, ...]  # in the template's order
    key: str | None  # the natural key column: a row with a key that exists updates it
    shape: type[msgspec.Struct]  # the API's Struct whose field types check the cells
    apply: Callable[[AsyncSession, list[Row], Run], Awaitable[None]]
    export: Callable[[AsyncSession], AsyncIterator[list[str]]]
    check: Callable[[Row], None] = lambda row: None  # what a row must hold beyond its cells' types
    fold: Callable[[str], str] = str  # how keys compare (suppliers: case-insensitively)
    required: tuple[str, ...] = ()  # columns a file must have (besides the key)
    cells: dict[str, Callable[[str], Any]] = field(default_factory=dict)  # columns with a text form of their own


def check_row(kind: Kind, row: Row, delimiter: str) -> None:
    """Type every cell given by the kind's Struct, then the kind's own checks; refusals go on the row."""
    if row.record.extra:
        row.refuse("", f"{row.record.extra} cell(s) outside the columns the header names")
    fields = kind.shape.__struct_fields__
    for column, text in row.cells.items():
        if text and column in fields:
            try:
                parse = kind.cells.get(column)
                row.values[column] = parse(text) if parse else typed(kind.shape, column, text, delimiter)
            except CellError as error:
                row.refuse(column, str(error))
    if kind.key is not None:
        row.key = row.cells.get(kind.key, "")
        if not row.key:
            row.refuse(kind.key, "required: every row names its " + kind.key.replace("_", " "))
    kind.check(row)


def refuse_repeats(kind: Kind, rows: Sequence[Row]) -> None:
    """A key given on two rows: the later rows are refused, naming the first."""
    if kind.key is None:
        return
    first: dict[str, int] = {}
    for row in rows:
        if not row.key:
            continue
        folded = kind.fold(row.key)
        if folded in first:
            row.refuse(kind.key, f"{row.key} is on row {first[folded]} already: one row each")
        else:
            first[folded] = row.number


def batches(items: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def text_of(value: Any) -> str:
    """A value as a cell: empty for none, true/false for yes/no, enums by their value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))
