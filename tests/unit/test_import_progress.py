"""`gemba import`'s progress on standard error: a bar redrawn in place on a terminal, a line per tenth of each
phase otherwise; and its summary line."""

from __future__ import annotations

import io

from server.importing.cli import ProgressBar, summary
from server.importing.report import Outcome, Refusal, Report


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_line_per_tenth_when_not_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar("stock", out)
    for done in range(0, 1001, 50):
        bar("applying", done, 1000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "stock: applying 0 of 1,000 rows" and lines[-1] == "stock: applying 1,000 of 1,000 rows"
    assert len(lines) == 11


def test_a_bar_redrawn_in_place_on_a_terminal() -> None:
    out = Terminal()
    bar = ProgressBar("parts", out)
    bar("checking", 250, 1000)
    bar("checking", 1000, 1000)
    assert out.getvalue() == (
        "\rparts checking  [#######.......................]  20% 250/1,000"
        "\rparts checking  [##############################] 100% 1,000/1,000\n"
    )


def test_the_summary_counts_each_outcome_and_says_what_became_of_the_file() -> None:
    rows = [Outcome(row=2, status="created"), Outcome(row=3, status="unchanged"),
            Outcome(row=4, status="refused", refusals=[Refusal("quantity", "2.5 is not a whole number")])]
    report = Report(kind="stock", dry_run=False, skip_bad_rows=True, applied=True, rows=rows, seconds=1.25)
    assert summary(report) == ("stock: 3 rows — 1 received, 1 imported already, 1 refused (applied without the refused "
                               "rows; 1.2 s)")
    parts = Report(kind="parts", dry_run=True, skip_bad_rows=False, rows=rows[:1], seconds=0.1)
    assert summary(parts) == "parts: 1 rows — 1 created (dry run: nothing was changed; 0.1 s)"
