"""What an import did, or would do, with each row of a file: created, updated, unchanged, or refused with the
column at fault and why; and the refused rows as a CSV to fix and import again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.importing.table import Record, csv_bytes, read_table

CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"
STATUSES = (CREATED, UPDATED, UNCHANGED, REFUSED)
ERROR_COLUMN = "error"  # the refused rows' CSV: why each was refused (ignored when the file is imported again)


class Refusal(msgspec.Struct, frozen=True):
    column: str  # as the file's header names it; "" for the row as a whole
    message: str


class Outcome(msgspec.Struct, kw_only=True):
    row: int
    status: str
    key: str = ""  # the row's natural key: a part number, a location code, a supplier, part @ location
    note: str = ""  # what changed, what was received, why nothing was
    refusals: list[Refusal] = msgspec.field(default_factory=list)

    def error_text(self) -> str:
        return "; ".join(f"{r.column}: {r.message}" if r.column else r.message for r in self.refusals)


class Report(msgspec.Struct, kw_only=True):
    kind: str
    dry_run: bool
    skip_bad_rows: bool
    preset: str | None = None
    applied: bool = False  # the file's changes are in the database
    file_error: str | None = None  # the file as a whole was refused (then `rows` is empty)
    rows: list[Outcome] = msgspec.field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(outcome.status for outcome in self.rows)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def refused(self) -> list[Outcome]:
        return [outcome for outcome in self.rows if outcome.status == REFUSED]


@dataclass(slots=True)
class Row:
    """One record of the file on its way through an import."""

    record: Record
    cells: dict[str, str]  # by the kind's column names (a preset maps its own to them)
    sources: dict[str, str]  # the file's name for each of those columns, for messages
    values: dict[str, Any] = field(default_factory=dict)  # the cells given (not empty), typed
    refusals: list[Refusal] = field(default_factory=list)
    status: str = ""
    key: str = ""
    note: str = ""

    @property
    def number(self) -> int:
        return self.record.row

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    def refuse(self, column: str, message: str) -> None:
        """`column`: one of the kind's columns (named as in the file in the report), or "" for the row."""
        self.refusals.append(Refusal(self.sources.get(column, column), message))

    def done(self, status: str, note: str = "") -> None:
        self.status, self.note = status, note

    def outcome(self) -> Outcome:
        status = REFUSED if self.refusals else self.status
        return Outcome(row=self.number, status=status, key=self.key, note="" if self.refusals else self.note,
                       refusals=list(self.refusals))


def refused_csv(data: bytes, report: Report) -> bytes:
    """The refused rows of the file `data`, as it wrote them, with an `error` column saying why: fix them there
    and import that file again."""
    table = read_table(data)
    header = [name for name in table.header if name and name.lower() != ERROR_COLUMN]
    why = {outcome.row: f"row {outcome.row}: {outcome.error_text()}" for outcome in report.refused}
    rows = [[record.cells.get(name, "") for name in header] + [why[record.row]]
            for record in table.records if record.row in why]
    return csv_bytes([*header, ERROR_COLUMN], rows)
