"""Runs the phone app's pure-logic tests (pwa/tests/*.test.js) with Node's test runner, so that the
project's one test command covers them: on the modules as written, and on the modules as the server
serves them (minified, server/web.py), the same tests on the same code a phone runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.web import load_shell

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = sorted((ROOT / "pwa" / "tests").glob("*.test.js"))


def served_copy(into: Path) -> Path:
    """pwa/ as the server serves it, with the tests beside it."""
    for url, asset in load_shell().assets.items():
        name = {"/": "index.html", "/sw.js": "sw.js"}.get(url) or url.removeprefix("/app/")
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_bytes(asset.body)
    shutil.copytree(ROOT / "pwa" / "tests", into / "tests")
    shutil.copy(ROOT / "pwa" / "package.json", into)  # "type": "module"
    return into


@pytest.mark.parametrize("served", [False, True], ids=["as-written", "as-served"])
def test_js_unit_tests_pass(served: bool, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        message = "NODE IS MISSING: the phone app's JavaScript tests (pwa/tests) did NOT run. Install Debian's nodejs."
        print(f"\n{'!' * 100}\n{message}\n{'!' * 100}", file=sys.stderr)
        pytest.skip(message)
    assert JS_TESTS, "no pwa/tests/*.test.js found"
    tests = sorted((served_copy(tmp_path) / "tests").glob("*.test.js")) if served else JS_TESTS
    done = subprocess.run(
        [node, "--test", *map(str, tests)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        pytest.fail(f"node --test failed:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}", pytrace=False)
    assert "# fail 0" in done.stdout, done.stdout[-5000:]
