"""A spreadsheet's CSV, read and written: UTF-8 text (with or without Excel's byte-order mark), a header row
naming the columns, cells separated by `,` or `;` (what a spreadsheet writes where the decimal comma is the
custom) or a tab, chosen by counting them in the header row.

Rows are numbered as a spreadsheet numbers them: the header is row 1, so the first record is row 2 (a cell
holding line breaks stays in its row). Rows whose cells are all empty are skipped (spreadsheets leave
some at the end). Every cell is stripped of the spaces around it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

BOM = "\ufeff"
DELIMITERS = (",", ";", "\t")


class FileRefused(Exception):
    """The file as a whole cannot be read as a table of this kind; `message` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Record:
    row: int  # as a spreadsheet numbers it (the header is row 1)
    cells: dict[str, str]  # by column name as the header writes it
    extra: int = 0  # cells that are not empty in no column the header names


@dataclass(slots=True)
class Table:
    header: list[str]
    records: list[Record] = field(default_factory=list)
    delimiter: str = ","


def decoded(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise FileRefused(
            f"Row {row} is not UTF-8 text (byte {error.start + 1}): save the file as \"CSV UTF-8\" and import it again"
        ) from None
    return text.removeprefix(BOM)


def sniffed(text: str) -> str:
    """The delimiter the header row uses most; `,` when it has none (a single column)."""
    first = text.split("\n", 1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_table(data: bytes) -> Table:
    """The header and the records of a CSV file, or FileRefused saying what keeps it from being read."""
    text = decoded(data)
    if not text.strip():
        raise FileRefused("The file is empty: it needs a header row naming its columns, then a row per item")
    delimiter = sniffed(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        table = Table(header, delimiter=delimiter)
        seen: dict[str, int] = {}
        for position, name in enumerate(header):
            if name and name.lower() in seen:
                raise FileRefused(f"The header names the column {name!r} twice (columns {seen[name.lower()] + 1} and {position + 1})")
            seen[name.lower()] = position
        for row, cells in enumerate(reader, start=2):
            stripped = [cell.strip() for cell in cells]
            if not any(stripped):
                continue
            named = {name: stripped[i] if i < len(stripped) else "" for i, name in enumerate(header) if name}
            unnamed = sum(1 for i, cell in enumerate(stripped) if cell and (i >= len(header) or not header[i]))
            table.records.append(Record(row, named, unnamed))
    except csv.Error as error:
        raise FileRefused(f"Row {reader.line_num}: the file is not valid CSV ({error})") from None
    return table


def csv_lines(header: list[str], rows: Iterable[list[str]], *, bom: bool = True) -> Iterator[str]:
    """A CSV file as pieces of text of about 64 KB: the header, then the rows. With a byte-order mark first, so
    that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    return "".join(csv_lines(header, rows)).encode()
