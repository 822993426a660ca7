"""bench_sync still runs: at a tiny size, as the command a reader would type, on SQLite.

The numbers mean nothing at this size; what is checked is what makes them mean something at full size:
every pushed op came back applied, the replay answered every op as a duplicate, the raw-SQL floor wrote
exactly the rows the server wrote, and the first pull brought every inventory row, gzip'd.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.common import REPO


def test_bench_sync_runs(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_sync", "--out", str(tmp_path), "--ops", "120", "--devices", "3",
         "--rows", "1000", "--pull-limit", "400", "--repeats", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    result = json.loads((tmp_path / "sync.json").read_text())
    push = result["push_runs"][0]
    assert push["ops"] == 120 and push["statuses"].get("applied") == 120
    assert push["with_depends_on"] > 0 and {"install_serial", "count_lot"} & push["mix"].keys()
    assert push["same_writes"], push["rows_written"]
    assert push["rows_written"]["gemba"]["ops"] == 120 and push["rows_written"]["gemba"]["last_seq"] == 120
    assert push["replay"]["ops_per_s"] > 0
    pull = result["pull_runs"][0]
    assert pull["gzip"]["encoding"] == "gzip" and pull["identity"]["encoding"] == "identity"
    assert pull["gzip"]["changes"]["inventory:put"] + pull["gzip"]["changes"].get("inventory:del", 0) == 1000
    assert pull["gzip"]["changes"] == pull["identity"]["changes"]
    assert pull["gzip"]["bytes_on_wire"] < pull["identity"]["bytes_on_wire"]
