"""Pushes of different phones side by side on PostgreSQL: a chunk does its work before it takes the change
clock (server/ops/batch.py), so a phone's push does not wait for another phone's push in progress, and what
must still take turns does (rows both touch, a count's lines, writers that change parts or locations).
Each test holds one push in the middle of its chunk and looks at what another one does meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text

from server.counts import lines
from server.counts.models import CountLine
from server.db import Database
from server.ops import batch, costs, handlers
from tests.conftest import Api
from tests.integration.counts_support import BULK, room, started  # noqa: F401 - fixtures
from tests.integration.sync_helpers import Phone, other_phone, phone, receive_u, shop  # noqa: F401 - fixtures
from tests.integration.test_sync_pull import lock_waiters


@pytest.fixture
def pg(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("writers side by side: PostgreSQL (SQLite has one writer at a time)")
    return db


class Held:
    """Holds the first call of an async function in the middle until `go` is set."""

    def __init__(self) -> None:
        self.inside, self.go, self.calls = asyncio.Event(), asyncio.Event(), 0

    def around(self, function: Any) -> Any:
        async def held(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            result = await function(*args, **kwargs)
            if self.calls == 1:
                self.inside.set()
                await self.go.wait()
            return result

        return held


@pytest.fixture
async def held_prefetch(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Held]:
    held = Held()
    monkeypatch.setattr(batch.WriteBatch, "prefetch", held.around(batch.WriteBatch.prefetch))
    yield held
    held.go.set()


async def inside(held: Held, push: asyncio.Task[Any]) -> None:
    """Until the push is held in the middle (or it ended: then its error, if any, is the test's)."""
    waiting = asyncio.create_task(held.inside.wait())
    await asyncio.wait({waiting, push}, return_when=asyncio.FIRST_COMPLETED)
    if push.done():
        waiting.cancel()
        push.result()
        raise AssertionError("the push ended without being held")


async def turn_holders(db: Database) -> set[int]:
    """The server processes holding a turn (an exclusive transaction-level advisory lock)."""
    async with db.read() as session:
        query = text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return set((await session.scalars(query)).all())


def inventory(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in page["changes"] if c["entity"] == "inventory"]


async def test_postgres_a_push_does_not_wait_for_another_phones_push_in_progress(
    pg: Database, shop: Api, phone: Phone, other_phone: Phone, held_prefetch: Held
) -> None:
    cursor = (await phone.pull())["cursor"]
    first = asyncio.create_task(phone.push(receive_u(phone, 3, location="A")))
    await inside(held_prefetch, first)  # the first push's chunk is open, its work under way
    second = await asyncio.wait_for(other_phone.push(receive_u(other_phone, 4, location="B")), 30)
    assert second["results"][0]["status"] == "applied"  # answered meanwhile: it did not queue behind the first
    between = await phone.pull(cursor)
    assert [(c["data"]["location"], c["data"]["quantity"]) for c in inventory(between)] == [("B", 4)]
    held_prefetch.go.set()
    assert (await first)["results"][0]["status"] == "applied"
    after = await phone.pull(between["cursor"])  # the one that began first and committed last: not skipped
    assert [(c["data"]["location"], c["data"]["quantity"]) for c in inventory(after)] == [("A", 3)]
    assert inventory(after)[0]["version"] > inventory(between)[0]["version"]  # versions in commit order


async def test_postgres_two_pushes_onto_one_row_take_turns_and_both_count(
    pg: Database, shop: Api, phone: Phone, other_phone: Phone
) -> None:
    await phone.push(receive_u(phone, 1, location="A"))  # the row both pushes add to
    held = Held()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch.WriteBatch, "prefetch", held.around(batch.WriteBatch.prefetch))
        first = asyncio.create_task(phone.push(receive_u(phone, 3, location="A")))
        await inside(held, first)  # the first chunk read (and locked) the row
        second = asyncio.create_task(other_phone.push(receive_u(other_phone, 4, location="A")))
        while await lock_waiters(pg) == 0 and not second.done():  # the second waits for that row
            await asyncio.sleep(0.01)
        assert not second.done()
        held.go.set()
        for push in (first, second):
            assert (await push)["results"][0]["status"] == "applied"
    fresh = await phone.pull()
    assert [c["data"]["quantity"] for c in inventory(fresh) if c["data"]["location"] == "A"] == [8]  # none lost


async def test_postgres_two_phones_counting_one_item_at_once_leave_one_current_line(
    pg: Database, room: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = await started(room, location="CAGE")
    phones = [await Phone.sign_in(room), await Phone.sign_in(room, "supervisor")]
    held = Held()
    monkeypatch.setattr(handlers, "record_line", held.around(lines.record_line))
    ops = [p.op("count", **BULK, location="CAGE/S1", counted_quantity=90 + i, count_id=count["id"])
           for i, p in enumerate(phones)]
    first = asyncio.create_task(phones[0].push(ops[0]))
    await inside(held, first)  # the first line is written, its chunk not committed
    second = asyncio.create_task(phones[1].push(ops[1]))
    while await lock_waiters(pg) == 0 and not second.done():  # the second waits for the count's turn
        await asyncio.sleep(0.01)
    assert not second.done()
    held.go.set()
    for push in (first, second):
        assert (await push)["results"][0]["status"] == "applied"
    async with pg.read() as session:
        current = (await session.execute(select(CountLine.counted_quantity).where(
            CountLine.count_id == count["id"], CountLine.superseded.is_(False)))).scalars().all()
    assert current == [91]  # the line committed last is the count; the first one superseded


async def test_postgres_two_pushes_receiving_two_parts_in_opposite_orders_both_apply_without_a_deadlock(
    pg: Database, shop: Api, phone: Phone, other_phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Held()
    monkeypatch.setattr(handlers, "layer_in", held.around(costs.layer_in))
    first = asyncio.create_task(phone.push(
        receive_u(phone, 1, location="A"), phone.op("receive", part="PN-L", tracking="lot", lot="L-A", location="A", quantity=1)
    ))
    await inside(held, first)  # its first receipt costed (PN-U), the chunk not committed
    second = asyncio.create_task(other_phone.push(
        other_phone.op("receive", part="PN-L", tracking="lot", lot="L-B", location="B", quantity=2),
        receive_u(other_phone, 2, location="B"),
    ))
    while await lock_waiters(pg) == 0 and not second.done():  # the second waits for the parts' turns
        await asyncio.sleep(0.01)
    assert not second.done()
    # the first took both parts' turns with its first receipt; the second waits holding neither (in the
    # turns' key order), so the first's next receipt does not wait for the second: no deadlock, which
    # PostgreSQL would break only after deadlock_timeout (1 s) by failing one of their statements
    assert len(await turn_holders(pg)) == 1
    held.go.set()
    for push in (first, second):
        body = await push
        assert [r["status"] for r in body["results"]] == ["applied", "applied"]
        assert body["stopped"] is None
    assert {(item["part"], item["location"]): item["quantity"] for item in await shop.items()} == {
        ("PN-U", "A"): 1, ("PN-L", "A"): 1, ("PN-L", "B"): 2, ("PN-U", "B"): 2
    }
