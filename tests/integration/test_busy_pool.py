"""Every connection of the pool busy (many phones on one process): a request that waits too long for one is
answered 503 retry-later, as a push or pull already was, not 500."""

from __future__ import annotations

import pytest

from server.db import Database
from tests.conftest import Api


async def test_postgres_a_request_that_gets_no_connection_in_time_is_503_retry_later(db: Database, api: Api) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the pool's size is PostgreSQL's (SQLite's path is the same)")
    pool = db.engine.sync_engine.pool
    pool._timeout = 0.2  # type: ignore[attr-defined]  # instead of 30 s
    held = [await db.engine.connect() for _ in range(pool.size() + pool._max_overflow)]  # type: ignore[attr-defined]
    try:
        response = await api.get("/api/inventory")
    finally:
        for connection in held:
            await connection.close()
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/retry-later"
    assert (await api.get("/api/inventory")).status_code == 200
