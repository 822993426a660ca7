"""`gemba import KIND FILE.csv [--dry-run] [--skip-bad-rows OUT.csv] [--preset inventree] [--actor NAME]` and
`gemba export KIND FILE.csv [--template]` (FILE `-`: standard output).

Exit status of an import: 0 when every row was applied (or, dry, would be), 1 when rows were refused (nothing
was applied, unless --skip-bad-rows: then the others were), 2 when the file was refused as a whole.
Progress goes to standard error: a bar on a terminal, a line per tenth otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from server.importing.presets import PRESETS
from server.importing.report import CREATED, REFUSED, UNCHANGED, UPDATED, Report, refused_csv
from server.importing.service import KINDS, Options, exported, run_import
from server.importing.stock import left_out
from server.importing.table import csv_lines
from server.models import Role
from server.actor import Actor

# The server's (server/app.py): a big file's rows in memory make the collector's default pace costly (17 % of the
# CPU of 20,000 stock rows)
GC_THRESHOLDS = (10_000, 10, 10)
SHOWN_REFUSALS = 50  # refused rows printed; the rest are in the --skip-bad-rows file
WORDS = {  # how the summary names each status, per kind
    "stock": {CREATED: "received", UPDATED: "updated", UNCHANGED: "imported already", REFUSED: "refused"},
}


class ProgressBar:
    """Progress on standard error: redrawn in place on a terminal (at most 10 times a second), else a line per
    tenth of each phase."""

    def __init__(self, kind: str, stream: TextIO = sys.stderr) -> None:
        self.kind, self.stream = kind, stream
        self.tty = stream.isatty()
        self.shown: tuple[str, int] = ("", -1)
        self.drawn = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if self.tty:
            if time.monotonic() - self.drawn < 0.1 and done < total:
                return
            self.drawn = time.monotonic()
            filled = done * 30 // total if total else 30
            self.stream.write(f"\r{self.kind} {phase:<9} [{'#' * filled}{'.' * (30 - filled)}] {tenth * 10:3d}% "
                              f"{done:,}/{total:,}")
            if done >= total:
                self.stream.write("\n")
        elif (phase, tenth) != self.shown:
            self.stream.write(f"{self.kind}: {phase} {done:,} of {total:,} rows\n")
        self.shown = (phase, tenth)
        self.stream.flush()


def summary(report: Report) -> str:
    words = WORDS.get(report.kind, {})
    counts = ", ".join(f"{n:,} {words.get(status, status)}" for status, n in report.counts.items() if n)
    if report.dry_run:
        outcome = "dry run: nothing was changed"
    elif report.applied:
        outcome = "applied" + (" without the refused rows" if report.refused else "")
    else:
        outcome = "nothing was imported: fix the refused rows, or import with --skip-bad-rows OUT.csv"
    return f"{report.kind}: {len(report.rows):,} rows — {counts or 'none'} ({outcome}; {report.seconds:.1f} s)"


def cmd_import(args: argparse.Namespace) -> int:
    from server.db import Database
    from server.migrate import upgrade_to_head
    from server.settings import get_settings

    gc.set_threshold(*GC_THRESHOLDS)

    path = Path(args.file)
    if not path.is_file():
        print(f"gemba: no file {path}", file=sys.stderr)
        return 2
    data = path.read_bytes()
    upgrade_to_head(get_settings().database_url)
    options = Options(dry_run=args.dry_run, skip_bad_rows=args.skip_bad_rows is not None, preset=args.preset)

    async def run() -> Report:
        db = Database(get_settings())
        try:
            return await run_import(db, args.kind, data, Actor(args.actor, Role.admin), options, ProgressBar(args.kind))
        finally:
            await db.dispose()

    report = asyncio.run(run())
    if report.file_error:
        print(f"gemba: {path.name} refused: {report.file_error}", file=sys.stderr)
        return 2
    for outcome in report.refused[:SHOWN_REFUSALS]:
        print(f"row {outcome.row}: {outcome.error_text()}")
    if len(report.refused) > SHOWN_REFUSALS:
        print(f"… and {len(report.refused) - SHOWN_REFUSALS:,} more refused rows")
    if args.skip_bad_rows and report.refused:
        Path(args.skip_bad_rows).write_bytes(refused_csv(data, report))
        print(f"the refused rows, with an error column, are in {args.skip_bad_rows}: fix them there and import it again")
    print(summary(report))
    return 1 if report.refused else 0


def cmd_export(args: argparse.Namespace) -> int:
    from server.db import Database
    from server.migrate import upgrade_to_head
    from server.settings import get_settings

    kind = KINDS[args.kind]
    if not args.template:
        upgrade_to_head(get_settings().database_url)

    async def rows() -> tuple[list[list[str]], dict[str, int]]:
        if args.template:
            return [], {}
        db = Database(get_settings())
        try:
            found = [row async for row in exported(db, args.kind)]
            if args.kind != "stock":
                return found, {}
            async with db.read() as session:
                return found, await left_out(session)
        finally:
            await db.dispose()

    found, left = asyncio.run(rows())
    out: Any = sys.stdout if args.file == "-" else open(args.file, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        for piece in csv_lines(list(kind.columns), found, bom=args.file != "-"):
            out.write(piece)
    finally:
        if out is not sys.stdout:
            out.close()
    if args.file != "-":
        print(f"{args.kind}: {len(found):,} rows written to {args.file}", file=sys.stderr)
    if any(left.values()):
        print(f"left out (an import cannot make them again): {left['isolated']:,} isolated and {left['installed']:,} "
              "installed rows", file=sys.stderr)
    return 0


def actor_name(text: str) -> str:
    if not 1 <= len(text) <= 64 or text != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: 1 to 64 characters, no spaces around")
    return text


def add_commands(commands: Any) -> None:
    """`gemba import` and `gemba export` (server/cli.py's parser)."""
    kinds = list(KINDS)
    imported = commands.add_parser("import", help="import parts, locations, suppliers or opening stock from a CSV file")
    imported.add_argument("kind", choices=kinds)
    imported.add_argument("file", help="a CSV file with a header row (UTF-8; , or ; between cells)")
    imported.add_argument("--dry-run", action="store_true", help="report what each row would do; change nothing")
    imported.add_argument("--skip-bad-rows", metavar="OUT.csv",
                          help="apply the good rows; write the refused ones, with an error column, to OUT.csv")
    imported.add_argument("--preset", choices=list(PRESETS), help="read another system's export (its column names)")
    imported.add_argument("--actor", default="import", type=actor_name,
                          help="the name the trail records the changes under (default: import)")
    imported.set_defaults(run=cmd_import)
    export = commands.add_parser("export", help="export parts, locations, suppliers or stock as a CSV file to import")
    export.add_argument("kind", choices=kinds)
    export.add_argument("file", help="where to write it (- for standard output)")
    export.add_argument("--template", action="store_true", help="the header only: a template to fill in")
    export.set_defaults(run=cmd_export)
