"""Three `gemba serve` started at once on one empty database: one migrates while the others wait on the
migration lock, then all three serve, and the schema is at head exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.migrate import alembic_config
from tests.integration.test_cli import GEMBA, HTTP, ROOT, database_url, free_port  # noqa: F401 - database_url: a fixture

SERVERS = 3


def wait_for_health(server: subprocess.Popen[str], base: str, deadline: float) -> None:
    while True:
        try:
            if HTTP.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise AssertionError(f"a server exited with {server.returncode}:\n{server.stdout.read() if server.stdout else ''}")
        assert time.monotonic() < deadline, "a server did not answer /healthz within 120 s"
        time.sleep(0.2)


async def versions(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await engine.dispose()


def test_three_servers_started_at_once_on_an_empty_database_all_serve(database_url: str) -> None:  # noqa: F811
    env = {**os.environ, "DATABASE_URL": database_url}
    ports = [free_port() for _ in range(SERVERS)]
    servers = [
        subprocess.Popen([*GEMBA, "serve", "--port", str(port)], env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 120
        for server, port in zip(servers, ports, strict=True):
            wait_for_health(server, f"http://127.0.0.1:{port}", deadline)
        for port in ports:  # each one works on the schema: a sign-in is refused as such, not a 500
            refused = HTTP.post(f"http://127.0.0.1:{port}/api/auth/token", json={"username": "nobody", "password": "x" * 12})
            assert refused.status_code == 401, refused.text
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert asyncio.run(versions(database_url)) == [head]
