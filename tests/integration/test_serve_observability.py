"""`gemba serve --workers 2` as a site runs it, watched from outside: a scrape of /metrics adds up what
both worker processes counted, whichever of them answers it, and the request log is one JSON object a line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import HTTP, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "site-scraper-token"
T = TypeVar("T")


@contextmanager
def serving(url: str, log: Path, *extra: str) -> Iterator[str]:
    """`gemba serve` on a free port, its output in `log`: its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "GEMBA_METRICS_TOKEN": TOKEN,
           "GEMBA_LOG_FORMAT": "json"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), *extra],
                                   env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180  # spawned workers import the app: slow on a loaded machine
            while True:
                assert process.poll() is None, log.read_text()[-3000:]
                try:
                    if HTTP.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "gemba serve did not get ready"
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(60)


def request_lines(log: Path, route: str) -> list[dict[str, object]]:
    lines = (json.loads(line) for line in log.read_text().splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("logger") == "gemba.requests" and line.get("route") == route]


def readyz_count(exposition: str) -> float:
    return sum(
        sample.value for family in text_string_to_metric_families(exposition) for sample in family.samples
        if sample.name == "gemba_http_requests_total" and sample.labels == {"method": "GET", "route": "/readyz", "status": "200"}
    )


def eventually(probe: Callable[[], T], done: Callable[[T], bool], seconds: float = 20) -> T:
    """`probe()` until `done` holds of its value (a worker counts and logs a request just after answering it)."""
    deadline = time.monotonic() + seconds
    while not done(value := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def scrape(base: str) -> float:
    answer = HTTP.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return readyz_count(answer.text)


async def test_a_scrape_adds_up_both_workers_and_the_log_is_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(f"sqlite+aiosqlite:///{tmp_path / 'gemba.sqlite3'}", log, "--workers", "2") as base:
        sent = 1  # the readiness probe of `serving`
        for _ in range(30):  # new connections, many at once, until both workers have answered some
            async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_keepalive_connections=0)) as client:
                answers = await asyncio.gather(*(client.get("/readyz") for _ in range(20)))
            assert all(answer.status_code == 200 for answer in answers)
            sent += len(answers)
            lines = eventually(lambda: request_lines(log, "/readyz"), lambda lines: len(lines) == sent)
            if len({line["pid"] for line in lines}) == 2:
                break
        assert len(lines) == sent
        assert len({line["pid"] for line in lines}) == 2, "one worker answered every request"
        assert all(line["status"] == 200 and len(str(line["request_id"])) == 32 for line in lines)
        for _ in range(4):  # whichever worker answers the scrape, it counts both
            assert eventually(lambda: scrape(base), lambda counted: counted == sent) == sent
