"""The memory a real server process needs for POST /api/decode is bounded: eight 16-bit RGBA PNGs sent
at once (tests/benchmarks/bench_decode_memory.py at 3000×3000 pixels) raise its peak RSS by at most
~6 bytes per pixel for each decode slot (GEMBA_DECODE_CONCURRENCY), and the photos beyond the slots are
refused with 503 `decoder-busy` and Retry-After instead of queueing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.common import REPO

SIDE = 3000
BYTES_PER_PIXEL = 7  # the decoded RGBA (4), its grey plane and its alpha plane (1 + 1), and some slack
SLACK_MB = 40  # the working image, the engines' buffers, eight request bodies


def test_eight_large_16_bit_rgba_pngs_at_once_stay_within_the_bound(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_decode_memory", "--side", str(SIDE), "--images", "8",
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    result = json.loads((tmp_path / "decode_memory.json").read_text())
    assert result["all_decoded_read_the_code"]
    assert set(result["statuses"]) <= {200, 503} and 200 in result["statuses"]
    assert all(busy == {"type": "/problems/decoder-busy", "retry_after": "1"} for busy in result["busy_answers"])
    bound_mb = result["decodes_at_once"] * SIDE * SIDE * BYTES_PER_PIXEL / 2**20 + SLACK_MB
    assert result["peak_growth_mb"] <= bound_mb, result
