"""Liveness and readiness for load balancers and process managers: no token needed, nothing sensitive said.

- `GET /healthz`: the process is up and answers (it touches nothing else).
- `GET /readyz`: the database answers and its schema is at the migrations' head, so this process can serve;
  otherwise 503 `not-ready`, naming the check that failed (`database` or `migrations`). What the driver
  said (it may name hosts and users) goes to the server's log, not to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache

from alembic.script import ScriptDirectory
from litestar import get
from litestar.datastructures import State
from sqlalchemy import text

from server.db import Database
from server.errors import NotReady
from server.migrate import alembic_config

READY_TIMEOUT_S = 5.0  # a database that has not answered by then is not ready (a load balancer waits less)
log = logging.getLogger("gemba.health")


@cache
def migrations_head() -> str:
    """The revision the code's migrations end at (read from the migration scripts, once)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


async def schema_revision(db: Database) -> str | None:
    """The database's migration revision; None if it was never migrated. Raises if the database does not
    answer."""
    async with db.read(quick=True) as session:
        await session.execute(text("SELECT 1"))
    try:
        async with db.read(quick=True) as session:
            return await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as error:  # no such table: reached, but never migrated (the driver's words stay here)
        log.warning("readyz: the database has no migration table (%s)", type(error).__name__)
        return None


@get("/healthz", exclude_from_auth=True, include_in_schema=False)
async def health(state: State) -> dict[str, str]:
    return {"status": "ok", "database": state.db.dialect}


@get("/readyz", exclude_from_auth=True, include_in_schema=False, raises=[NotReady])
async def ready(state: State) -> dict[str, str]:
    db: Database = state.db
    try:
        revision = await asyncio.wait_for(schema_revision(db), READY_TIMEOUT_S)
    except Exception:
        log.warning("readyz: the database does not answer", exc_info=True)
        raise NotReady(f"The database does not answer (waited up to {READY_TIMEOUT_S:g} s)", check="database") from None
    head = migrations_head()
    if revision != head:
        raise NotReady(
            f"The database schema is at {revision or 'no migration'}, the code needs {head}: run gemba migrate",
            check="migrations", revision=revision, head=head,
        )
    return {"status": "ready", "database": db.dialect, "revision": revision}
