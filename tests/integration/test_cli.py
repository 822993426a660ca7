"""The `gemba` console script as a new user runs it: migrate, add users, load the demo, serve — on a
real SQLite file and on PostgreSQL, in subprocesses, talking HTTP to the served app (commands that do not serve
run once as a subprocess, then in this process: `gemba_here`)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server import cli
from server.settings import get_settings
from tests.dbs import ENGINES, fresh_database
from tests.e2e.server import HTTP

GEMBA = [sys.executable, "-m", "server.cli"]
ROOT = Path(__file__).resolve().parents[2]


def gemba(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([*GEMBA, *args], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def gemba_here(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`gemba ARGS` run by `server.cli.main` in this process (what the console script calls), its standard
    streams captured: the same exit status and output as `gemba` above without starting a Python and importing
    the server each time (~2 s of CPU a command). Commands that serve stay in subprocesses."""
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("DATABASE_URL"), sys.stdin
    os.environ["DATABASE_URL"], sys.stdin = url, io.StringIO(stdin or "")
    get_settings.cache_clear()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
                if exit.code is not None and not isinstance(exit.code, int):
                    print(exit.code, file=sys.stderr)
    finally:
        if saved[0] is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = saved[0]
        sys.stdin = saved[1]
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["gemba", *args], code, out.getvalue(), err.getvalue())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, made and dropped in an event loop of the fixture's own (the test is sync)."""
    manager = fresh_database(request.param, tmp_path)
    loop = asyncio.new_event_loop()
    try:
        yield loop.run_until_complete(manager.__aenter__())
        loop.run_until_complete(manager.__aexit__(None, None, None))
    finally:
        loop.close()


def test_users_add_with_password_flag_or_stdin(database_url: str) -> None:
    made = gemba(database_url, "users", "add", "alice", "--role", "supervisor", "--password", "long enough pw")
    assert made.returncode == 0, made.stderr
    piped = gemba_here(database_url, "users", "add", "bob", "--role", "operator", stdin="another long pw\n")
    assert piped.returncode == 0, piped.stderr

    again = gemba_here(database_url, "users", "add", "alice", "--role", "admin", "--password", "long enough pw")
    assert again.returncode == 1
    assert "alice" in again.stderr and "Traceback" not in again.stderr
    short = gemba_here(database_url, "users", "add", "carol", "--role", "admin", "--password", "short")
    assert short.returncode == 1 and "8 characters" in short.stderr

    listed = gemba_here(database_url, "users", "list").stdout.split("\n")
    assert [line.split()[:2] for line in listed if line.strip()] == [["alice", "supervisor"], ["bob", "operator"]]


def test_serve_migrates_loads_the_demo_once_and_answers(database_url: str) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen(
        [*GEMBA, "serve", "--demo", "--port", str(port)], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if HTTP.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        signed_in = HTTP.post(f"{base}/api/auth/token", json={"username": "olga", "password": "gemba-oper"})
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
        stock = HTTP.get(f"{base}/api/inventory", params={"location": "PLANT-1"}, headers={"Authorization": f"Bearer {token}"})
        assert stock.status_code == 200 and stock.json()["total"] > 0
        unauthenticated = HTTP.get(f"{base}/api/inventory")
        assert unauthenticated.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)

    second = gemba_here(database_url, "demo")
    assert second.returncode == 0 and "already has data" in second.stdout
