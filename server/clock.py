"""The change clock and named counters.

The clock is one counter row (`CLOCK`): every write transaction takes a value of it and holds the row's
lock until it commits, so that versions follow commit order — a change committing after a pull was
answered has a version above that pull's cursor (sync/pull.py relies on it). Serial and lot sequences are
counters too (server/ops/numbers.py).

PostgreSQL also has the writers' lock (a transaction-level advisory lock, released at commit or
rollback): push chunks hold it shared while they work beside each other and take the clock last
(server/ops/batch.py); every other writer takes it exclusive with the clock, first thing. Waiting exclusive
requests queue later shared ones.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.db import dialect_insert
from server.models import Counter

CLOCK = "clock"

# Core statements on the session's connection: no ORM evaluation of the session's objects for a counter row
BUMP = (
    update(Counter).where(Counter.key == bindparam("counter_key")).values(value=Counter.value + bindparam("by"))
    .returning(Counter.value)
)
WRITERS_KEY = int.from_bytes(b"gemba-wr")
WRITERS_SHARED = select(func.pg_advisory_xact_lock_shared(WRITERS_KEY))
WRITERS_EXCLUSIVE = select(func.pg_advisory_xact_lock(WRITERS_KEY))


async def bump_counter(session: AsyncSession, key: str, *, by: int = 1) -> int:
    """A named counter moved on by `by`: its new value. The row lock held until commit serialises concurrent
    writers."""
    connection = await session.connection()
    value = (await connection.execute(BUMP, {"counter_key": key, "by": by})).scalar_one_or_none()
    if value is not None:
        return value
    absent = dialect_insert(connection.dialect.name, Counter).values(key=key, value=0).on_conflict_do_nothing()
    await connection.execute(absent)
    return (await connection.execute(BUMP, {"counter_key": key, "by": by})).scalar_one()


async def writers_shared(connection: AsyncConnection) -> None:
    await connection.execute(WRITERS_SHARED)


async def next_version(session: AsyncSession) -> int:
    """The change clock's next value for this write transaction, taken first and held until commit; on
    PostgreSQL with the writers' lock exclusive."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(WRITERS_EXCLUSIVE)
    return await bump_counter(session, CLOCK)
