"""Shared fixtures: a fresh real database per test (SQLite file, and PostgreSQL when configured), the
app on top of it, and signed-in clients for each role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import httpx
from litestar import Litestar

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.settings import Settings
from server.throttle import SignInThrottle
from tests.dbs import ENGINES, database_with_tables, fresh_database

PASSWORD = "correct horse battery"


@pytest.fixture(params=ENGINES)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


# The files that take longest, longest first: with `--dist loadfile --no-loadscope-reorder` (./scripts/test) each
# worker takes the next file in collection order when it is free, so a long file collected last would run alone at the end while the other workers idle
# (the last 5 % of the run took a quarter of it). Measured with `--durations=0` (whole suite, 4 workers).
LONG_FILES = [
    "integration/test_workers.py", "integration/test_sync_simulation.py", "integration/test_sync_crash.py",
    "integration/test_api_contract.py", "integration/test_backup.py", "integration/test_labels.py",
    "integration/test_hardening_input.py", "integration/test_benchmarks_smoke.py", "integration/test_ops_property.py",
    "integration/test_purchasing_property.py", "integration/test_ops.py", "integration/test_supervisor_pages.py",
    "integration/test_migrations.py", "integration/test_concurrent_start.py", "e2e/test_browse.py",
    "integration/test_usage_csv.py", "integration/test_bench_sync_smoke.py", "integration/test_cli.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0].removeprefix("tests/")
        return LONG_FILES.index(path) if path in LONG_FILES else len(LONG_FILES)

    items.sort(key=rank)  # stable: the rest keep their order


# One Database object and one app per engine in this test process, pointed at each test's own new database.
# Building the app registers ~270 routes: 0.2-0.4 s a test, a third of what a small test costs. The app's
# services hold the Database object, which each test re-initialises on its database (a new engine, new
# sessions), so nothing of a previous test's data is reachable; the one piece of memory the services keep,
# the sign-in throttle, is made anew for each test (`_fresh_app`).
_databases: dict[str, Database] = {}
_apps: dict[str, Litestar] = {}


@pytest.fixture(params=ENGINES)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A new database of each engine with the models' tables and no rows."""
    async with database_with_tables(request.param, tmp_path) as url:
        # A cheap scrypt cost: hundreds of tests sign users in, and the real cost is ~0.1 s a hash.
        settings = Settings(database_url=url, scrypt_log2_n=4)
        database = _databases.get(request.param)
        if database is None:
            database = _databases[request.param] = Database(settings)
        else:
            database.__init__(settings)  # type: ignore[misc]  # the same object on a new engine (see above)
        yield database
        await database.dispose()


def _fresh_app(db: Database) -> Litestar:
    """This process's app of the database's engine, with a sign-in throttle of its own for the test."""
    app = _apps.get(db.dialect)
    if app is None or app.state.db is not db:
        app = _apps[db.dialect] = create_app(db.settings, db)
    auth: AuthService = app.state.auth
    auth.throttle = SignInThrottle(db.settings.signin_free_attempts, db.settings.signin_max_delay)
    return app


class Api:
    """An HTTP client with one signed-in user per role, plus helpers for ops."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, url: str, role: str = "operator", **kw: Any) -> Any:
        return await self.client.get(url, headers=self.headers(role), **kw)

    async def post(self, url: str, json: Any, role: str = "operator") -> Any:
        return await self.client.post(url, json=json, headers=self.headers(role))

    async def patch(self, url: str, json: Any, role: str = "supervisor") -> Any:
        return await self.client.patch(url, json=json, headers=self.headers(role))

    async def op(self, op_type: str, role: str = "operator", op_id: str | None = None, **args: Any) -> Any:
        body = {"op_id": op_id or str(uuid.uuid4()), "type": op_type, "args": args}
        return await self.post("/api/ops", body, role)

    async def ok(self, op_type: str, role: str = "operator", **args: Any) -> dict[str, Any]:
        response = await self.op(op_type, role, **args)
        assert response.status_code == 201, response.text
        return response.json()["result"]

    async def part(self, part_number: str, tracking: str, **extra: Any) -> dict[str, Any]:
        response = await self.post("/api/parts", {"part_number": part_number, "tracking": tracking, **extra}, "admin")
        assert response.status_code == 201, response.text
        return response.json()

    async def location(self, code: str, **extra: Any) -> dict[str, Any]:
        response = await self.post("/api/locations", {"code": code, **extra}, "admin")
        assert response.status_code == 201, response.text
        return response.json()

    async def items(self, role: str = "operator", **filters: Any) -> list[dict[str, Any]]:
        response = await self.get("/api/inventory", role, params={"limit": 500, **filters})
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    app = _fresh_app(db)
    auth = AuthService(db)
    tokens = {}
    for role in ("operator", "supervisor", "admin"):
        await auth.add_user(role, role, PASSWORD)
        tokens[role] = (await auth.issue(role, PASSWORD)).access_token
    # In-process ASGI on the test's own event loop, so the app and the fixtures share the engine's pool.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield Api(client, tokens)
