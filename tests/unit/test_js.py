"""Runs the phone app's pure-logic tests (pwa/tests/*.test.js) with Node's test runner, so that the
project's one test command covers them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = sorted((ROOT / "pwa" / "tests").glob("*.test.js"))


def test_js_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        message = "NODE IS MISSING: the phone app's JavaScript tests (pwa/tests) did NOT run. Install Debian's nodejs."
        print(f"\n{'!' * 100}\n{message}\n{'!' * 100}", file=sys.stderr)
        pytest.skip(message)
    assert JS_TESTS, "no pwa/tests/*.test.js found"
    done = subprocess.run(
        [node, "--test", *map(str, JS_TESTS)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        pytest.fail(f"node --test failed:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}", pytrace=False)
    assert "# fail 0" in done.stdout, done.stdout[-5000:]
