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
        cwd=REPO, capture_output=True, text=True, timeout=300,
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


def test_bench_phones_runs(tmp_path: Path) -> None:
    result = run_benchmark("bench_phones", tmp_path, "--setups", "sqlite1", "--phones", "1,2", "--ops", "1,3",
                           "--pushes", "2", "--name", "bench_phones")
    setup = result["setups"]["sqlite1"]
    assert all(setup["checks"].values()), setup["checks"]
    assert [(r["phones"], r["ops_per_push"], r["ops"], r["errors"]) for r in setup["rounds"]] == [
        (1, 1, 2, 0), (2, 1, 4, 0), (1, 3, 6, 0), (2, 3, 12, 0)]


def test_bench_import_runs(tmp_path: Path) -> None:
    result = run_benchmark("bench_import", tmp_path, "--rows", "300", "--parts", "60", "--bins", "1")
    (run,) = result["runs"]
    assert run["stock"]["counts"]["created"] == 300 and run["stock"]["applied"]
    assert run["stock_dry_run"]["counts"]["created"] == 300 and not run["stock_dry_run"]["applied"]
    assert run["stock_again"]["counts"]["unchanged"] == 300
    assert run["rows_written"] == {"inventory": run["rows_written"]["inventory"], "ops": 300, "movements": 300, "ledger": 300}


def test_bench_production_runs(tmp_path: Path) -> None:
    result = run_benchmark("bench_production", tmp_path, "--units", "6", "--components", "3", "--chunk", "4",
                           "--depth", "3", "--fanout", "2", "--lookups", "2")
    assert result["complete"]["units"] == 6 and result["complete"]["rows_written"] > 6
    assert (result["trace"]["units"], result["trace"]["leaf"]["up"], result["trace"]["root"]["down_top"]) == (7, 2, 2)
