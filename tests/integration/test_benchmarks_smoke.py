"""The benchmarks still run: each one at a tiny size, as the command a reader would type, on SQLite.

The numbers are not checked (they mean nothing at this size); what is checked is that the benchmark
finished, wrote its JSON, and — for the ops benchmark — that the server accepted every op and the
raw-SQL floor wrote exactly the same rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.common import REPO


def run_benchmark(module: str, out: Path, *args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", f"tests.benchmarks.{module}", "--out", str(out), *args],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    return json.loads((out / f"{module}.json").read_text())


def test_bench_queries_runs(tmp_path: Path) -> None:
    result = run_benchmark("bench_queries", tmp_path, "--rows", "2000", "--lookups", "10")
    assert result["rows"] == 2000
    for where in ("in_process", "http"):
        assert {"serial_lookup", "unit_history", "filtered_page"} <= result[where].keys()
        assert result[where]["serial_lookup"]["n"] == 10
    assert result["in_process"]["_sample"]["available_in_area_total"] > 0


def test_bench_ops_runs(tmp_path: Path) -> None:
    result = run_benchmark("bench_ops", tmp_path, "--ops", "120", "--clients", "4")
    assert result["gemba"]["failures"] == 0
    assert result["same_writes"], result["rows_written"]
    assert result["rows_written"]["gemba"]["ops"] == 120
    assert result["floor"]["ops_per_s"] > 0
