"""What every benchmark needs: scratch databases (a SQLite file or a PostgreSQL database of its own),
the schema, users and tokens, a real uvicorn server in a subprocess, percentiles and the JSON result.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from server.auth import AuthService
from server.db import Database
from server.schema import METADATA
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-password"
# The admin connection for scratch PostgreSQL databases (the test suite's variable, else the local server).
PG_ADMIN_URL = os.environ.get("GEMBA_TEST_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"
PORTS = range(18100, 18200)


# ---- numbers ------------------------------------------------------------------------------------
def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds (nearest-rank percentiles)."""
    ordered = sorted(samples_s)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": round(rank(50), 3),
        "p95_ms": round(rank(95), 3),
        "p99_ms": round(rank(99), 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def fmt(stats: dict[str, float]) -> str:
    return f"p50 {stats['p50_ms']:8.2f} ms  p95 {stats['p95_ms']:8.2f} ms  p99 {stats['p99_ms']:8.2f} ms  (n={stats['n']})"


def write_result(name: str, payload: dict[str, Any], out_dir: Path | None = None) -> Path:
    out_dir = out_dir or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        **payload,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


# ---- databases ----------------------------------------------------------------------------------
def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return _asyncpg_dsn(sqlalchemy_url)


@asynccontextmanager
async def scratch_database(engine: str, tmp_dir: Path) -> AsyncIterator[str]:
    """A SQLAlchemy URL of an empty database of its own, dropped (PostgreSQL) when the block ends."""
    if engine == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_dir / 'gemba-bench.sqlite3'}"
        return
    name = f"gemba_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def create_schema(url: str) -> None:
    """The tables and indexes of server/models.py (create_all, so that index changes made in the models
    are measured before their migration exists)."""
    db = Database(Settings(database_url=url))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
    finally:
        await db.dispose()


async def add_users(url: str, names: list[str], role: str = "operator") -> None:
    db = Database(Settings(database_url=url))
    try:
        auth = AuthService(db)
        for name in names:
            await auth.add_user(name, role, PASSWORD)
    finally:
        await db.dispose()


# ---- a real server --------------------------------------------------------------------------------
def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class Server:
    """`uvicorn server.app:create_app --factory` on a free port, in its own process."""

    def __init__(
        self, database_url: str, log_path: Path, extra_args: list[str] | None = None, app: str = "server.app:create_app",
        code: Path = REPO, start_seconds: float = 120, env: dict[str, str] | None = None,
    ) -> None:
        self.code = code  # the checkout whose server/ and sync/ are served (another commit's, to compare)
        self.start_seconds = start_seconds
        self.env = env or {}  # added to this process's environment
        self.database_url = database_url
        self.app = app
        self.log_path = log_path
        self.extra_args = extra_args or []
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Server:
        self.port = free_port()
        env = {**os.environ, **self.env, "DATABASE_URL": self.database_url,
               "PYTHONPATH": os.pathsep.join([str(self.code), *sys.path[1:]])}
        env.pop("GEMBA_SQL_ECHO", None)
        command = [
            sys.executable, "-m", "uvicorn", self.app, "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
            *self.extra_args,
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=self.code, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_seconds
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        await self.__aexit__(None, None, None)
        raise RuntimeError(f"server did not answer /healthz within {self.start_seconds} s")

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (Linux /proc; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, AttributeError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


async def sign_in(client: httpx.AsyncClient, username: str, device_id: uuid.UUID | None = None) -> str:
    body: dict[str, Any] = {"username": username, "password": PASSWORD}
    if device_id is not None:
        body["device_id"] = str(device_id)
    response = await client.post("/api/auth/token", json=body)
    response.raise_for_status()
    return response.json()["access_token"]
