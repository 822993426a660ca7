"""Sync pull through the HTTP API: what a phone needs to work offline, in version order, in pages that
never split a version, from any cursor; resets; op results; and no skipped change under concurrent
writers on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from server.clock import next_version
from server.db import Database
from server.models import Location
from sync.pull import PullService
from tests.conftest import Api
from tests.integration.sync_helpers import (  # noqa: F401 - fixtures
    Phone,
    Replica,
    move_u,
    phone,
    receive_u,
    shop,
)


async def first_half(phone: Phone) -> None:
    """Receipts of every tracking type, moves that split and empty rows, an install."""
    ops = [
        receive_u(phone, 10), receive_u(phone, 5, location="B"),
        phone.op("receive", part="PN-L", tracking="lot", location="A", quantity=20, lot="L-1"),
        phone.op("receive", part="PN-L", tracking="lot", location="A", quantity=7, lot="L-2"),
        *(phone.op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial=f"SN-{n}")
          for n in range(6)),
        phone.op("receive", part="PN-ASM", tracking="serial", location="A", quantity=1, serial="ASM-1"),
        move_u(phone, 4, "A", "C"),  # one version, two rows
        move_u(phone, 5, "B", "C"),  # empties B: a "del"
        phone.op("move", part="PN-L", tracking="lot", lot="L-1", from_location="A", to_location="B", quantity=8),
        phone.op("install", parent_serial="ASM-1", part="PN-S", tracking="serial", serial="SN-0", quantity=1),
    ]
    assert {r["status"] for r in (await phone.push(*ops))["results"]} == {"applied"}


async def second_half(api: Api, phone: Phone) -> None:
    """More ops, a new part and location, and a location made unavailable (its rows change status)."""
    await api.part("PN-NEW", "untracked")
    await api.location("D")
    ops = [
        phone.op("move", part="PN-ASM", tracking="serial", serial="ASM-1", from_location="A", to_location="C",
                 quantity=1),  # the installed unit moves with it
        phone.op("scrap", part="PN-S", tracking="serial", serial="SN-1", location="DOCK", quantity=1, reason="bent"),
        phone.op("receive", part="PN-NEW", tracking="untracked", location="D", quantity=3),
        move_u(phone, 6, "A", "B"),  # A is emptied, B has stock again
    ]
    assert {r["status"] for r in (await phone.push(*ops))["results"]} == {"applied"}
    assert (await api.patch("/api/locations/C", {"available": False})).status_code == 200


async def listed(api: Api) -> dict[tuple[Any, ...], int]:
    return {
        (item["part"], item["serial"], item["lot"], item["location"], item["status"]): item["quantity"]
        for item in await api.items()
    }


def check_pages(pages: list[dict[str, Any]], limit: int) -> None:
    """Pages never split a version, and hold at most `limit` changes unless one version has more."""
    seen: set[int] = set()
    for page in pages:
        versions = [change["version"] for change in page["changes"]]
        assert versions == sorted(versions)
        assert not seen & set(versions), "a version was split across pages"
        seen |= set(versions)
        if len(page["changes"]) > limit:
            assert len(set(versions)) == 1
        if versions:
            assert page["cursor"].endswith(f".{versions[-1]}") or not page["has_more"]


async def test_a_first_pull_holds_what_a_phone_needs(shop: Api, phone: Phone) -> None:
    await first_half(phone)
    page = await phone.pull()
    assert (page["has_more"], page["reset"], page["last_seq"]) == (False, False, phone.seq)
    assert isinstance(page["cursor"], str)
    replica = Replica(phone)
    replica.rows = {(c["entity"], c["id"]): c["data"] for c in page["changes"] if c["op"] == "put"}
    parts = {p["part_number"]: p for p in replica.of("part")}
    assert parts["PN-L"]["tracking"] == "lot"
    locations = {loc["code"]: loc for loc in replica.of("location")}
    assert locations["A"]["available"] is True and locations["A"]["count_locked"] is False
    rows = {(row["serial"] or row["lot"] or row["part"], row["location"]): row for row in replica.of("inventory")}
    assert rows["SN-0", "A"] | {"id": None, "part_id": None, "location_id": None} == {
        "id": None, "part": "PN-S", "part_id": None, "unit": "ea", "tracking": "serial", "serial": "SN-0",
        "lot": None, "expiry": None, "location": "A", "location_id": None, "quantity": 1, "status": "installed",
        "installed_in": "ASM-1", "isolated": False, "scrapped": False,
    }
    assert (rows["L-1", "A"]["quantity"], rows["L-1", "B"]["quantity"], rows["L-1", "A"]["status"]) == (12, 8, "available")
    assert ("PN-U", "B") not in rows  # emptied by a move: deleted from the phone's copy
    assert replica.stock() == await listed(shop)
    versions = [(c["version"], c["entity"], c["id"]) for c in page["changes"]]
    assert versions == sorted(versions)


async def test_a_locations_rows_come_again_when_it_becomes_unavailable_not_when_a_count_closes_it(
    shop: Api, phone: Phone
) -> None:
    await phone.push(receive_u(phone, 10), receive_u(phone, 5, location="B"),
                     phone.op("receive", part="PN-S", tracking="serial", location="B", quantity=1, serial="SN-B"))
    replica = await Replica(phone).sync()
    count = (await shop.post("/api/counts", {"kind": "location", "location": "B", "name": "B",
                                             "closes_locations": True}, "supervisor")).json()
    assert (await shop.post(f"/api/counts/{count['id']}/start", {}, "supervisor")).status_code == 200
    page = await phone.pull(replica.cursor)
    changed = {(c["entity"], (c["data"] or {}).get("code")) for c in page["changes"]}
    assert ("location", "B") in changed and not any(c["entity"] == "inventory" for c in page["changes"])
    await replica.sync()
    assert {loc["code"]: loc["count_locked"] for loc in replica.of("location")}["B"] is True

    assert (await shop.patch("/api/locations/B", {"available": False})).status_code == 200
    page = await phone.pull(replica.cursor)
    again = sorted((c["data"]["part"], c["data"]["status"]) for c in page["changes"] if c["entity"] == "inventory")
    assert again == [("PN-S", "unavailable"), ("PN-U", "unavailable")]  # B's rows, with their new status
    await replica.sync()
    assert replica.stock() == await listed(shop)


@pytest.mark.parametrize("limit", [1, 7, 1000])
async def test_paged_pulls_of_any_size_give_the_state_of_one_big_pull(shop: Api, phone: Phone, limit: int) -> None:
    await first_half(phone)
    replica = await Replica(phone).sync(limit)
    await second_half(shop, phone)
    await replica.sync(limit)  # incremental, from the cursor of the first pulls

    check_pages(replica.pages, limit)
    if limit == 1:
        assert any(len(page["changes"]) > 1 for page in replica.pages)  # a version is never split
    fresh = await Replica(phone).sync(10_000)
    assert len(fresh.pages) == 1
    assert replica.rows == fresh.rows
    assert replica.stock() == await listed(shop)
    statuses = {row["serial"] or row["lot"] or row["part"]: row["status"] for row in replica.of("inventory")
                if row["location"] == "C"}
    assert statuses == {"PN-U": "unavailable", "ASM-1": "unavailable", "SN-0": "installed"}
    assert ("inventory", next(r["id"] for r in fresh.of("inventory") if r["serial"] == "SN-1")) in replica.rows
    assert not any(row["location"] == "A" and row["part"] == "PN-U" for row in replica.of("inventory"))


async def test_a_pull_from_the_latest_cursor_is_empty_until_something_changes(shop: Api, phone: Phone) -> None:
    await first_half(phone)
    cursor = (await phone.pull())["cursor"]
    assert (await phone.pull(cursor))["changes"] == []
    assert (await phone.pull(cursor))["cursor"] == cursor
    await phone.push(receive_u(phone, 1, location="DOCK"))
    page = await phone.pull(cursor)
    assert [(c["entity"], c["data"].get("location"), c["data"].get("quantity")) for c in page["changes"]] == [
        ("inventory", "DOCK", 1), ("part", None, None)  # the part: its new cost layer may move its average price
    ]


@pytest.mark.parametrize("cursor", ["garbage", "g1.999999999", "g0.3", "g1.-1"])
async def test_an_unusable_cursor_answers_reset_and_everything(shop: Api, phone: Phone, cursor: str) -> None:
    await first_half(phone)
    page = await phone.pull(cursor)
    assert page["reset"] is True
    assert page["changes"] == (await phone.pull())["changes"]


async def test_op_results_tell_the_device_of_its_held_and_rejected_ops_once(shop: Api, phone: Phone) -> None:
    held, rejected, applied = move_u(phone, 5, "A", "B"), receive_u(phone, 1, location="NOWHERE"), receive_u(phone, 2)
    await phone.push(held, rejected, applied)
    page = await phone.pull()
    results = {r["op_id"]: r for r in page["op_results"]}
    assert set(results) == {held["op_id"], rejected["op_id"]}
    assert (results[held["op_id"]]["status"], results[held["op_id"]]["reason"]) == ("held", "insufficient_quantity")
    assert results[held["op_id"]]["conflict_id"]
    assert (results[rejected["op_id"]]["status"], results[rejected["op_id"]]["seq"]) == ("rejected", 2)
    assert (await phone.pull(page["cursor"]))["op_results"] == []


async def test_pull_needs_a_token_bound_to_the_device(shop: Api, phone: Phone) -> None:
    response = await shop.post("/api/sync/pull", {"protocol": 1, "device_id": phone.device_id})
    assert response.status_code == 403
    response = await phone.post("/api/sync/pull", {"protocol": 3, "device_id": phone.device_id})
    assert response.status_code == 409 and response.json()["type"] == "/problems/protocol-not-supported"


async def test_a_busy_database_answers_503_retry_later(shop: Api, phone: Phone, monkeypatch: pytest.MonkeyPatch) -> None:
    async def busy(*_: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(PullService, "_pull", busy)
    response = await phone.post("/api/sync/pull", {"protocol": 1, "device_id": phone.device_id})
    assert response.status_code == 503 and response.json()["type"] == "/problems/retry-later"


# ---- concurrent writers (PostgreSQL) --------------------------------------------------------------
async def lock_waiters(db: Database) -> int:
    async with db.read() as session:
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(await session.scalar(query) or 0)


async def rename(db: Database, code: str, name: str, *, started: asyncio.Event, go: asyncio.Event,
                 clock_first: bool) -> int:
    """A writer that starts, waits for `go`, and renames a location; returns its version."""
    async with db.write() as session:
        version = await next_version(session) if clock_first else None
        await session.execute(select(1))
        started.set()
        await go.wait()
        version = version or await next_version(session)
        location = (await session.execute(select(Location).where(Location.code == code))).scalar_one()
        location.name, location.version = name, version
        return version


def location_names(page: dict[str, Any]) -> dict[str, str]:
    return {c["data"]["code"]: c["data"]["name"] for c in page["changes"] if c["entity"] == "location"}


async def test_postgres_a_writer_holding_the_clock_makes_later_writers_wait(db: Database, shop: Api, phone: Phone) -> None:
    if db.dialect != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    cursor = (await phone.pull())["cursor"]
    started, go = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(rename(db, "A", "renamed first", started=started, go=go, clock_first=True))
    await started.wait()  # the first writer holds the clock
    second = asyncio.create_task(phone.push(receive_u(phone, 3, location="DOCK")))
    while await lock_waiters(db) == 0:  # the second queues behind it (no sleep: wait for the condition)
        await asyncio.sleep(0.01)
    between = await phone.pull(cursor)
    assert between["changes"] == []  # neither is visible; the cursor stays before both
    go.set()
    first_version = await first
    assert (await second)["results"][0]["status"] == "applied"
    after = await phone.pull(between["cursor"])
    assert location_names(after) == {"A": "renamed first"}
    inventory = [c for c in after["changes"] if c["entity"] == "inventory"]
    assert [c["data"]["location"] for c in inventory] == ["DOCK"]
    assert inventory[0]["version"] > first_version  # versions follow commit order


async def test_postgres_the_writer_that_started_first_and_commits_last_is_not_skipped(
    db: Database, shop: Api, phone: Phone
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    cursor = (await phone.pull())["cursor"]
    started, go = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(rename(db, "B", "started first", started=started, go=go, clock_first=False))
    await started.wait()  # its transaction is open
    assert (await phone.push(receive_u(phone, 3, location="DOCK")))["results"][0]["status"] == "applied"
    between = await phone.pull(cursor)  # sees the second writer's commit (and the part's average price it set)
    assert [c["data"]["location"] for c in between["changes"] if c["entity"] == "inventory"] == ["DOCK"]
    go.set()
    first_version = await first  # commits last
    after = await phone.pull(between["cursor"])
    assert location_names(after) == {"B": "started first"}  # after the cursor: not skipped
    assert first_version > between["changes"][0]["version"]


async def test_a_lots_expiry_comes_with_its_rows(shop: Api, phone: Phone) -> None:
    """The phone's FEFO suggestions (moves, kits) read it from its copy."""
    await phone.push(phone.op("receive", part="PN-L", tracking="lot", lot="L-EXP", location="A", quantity=4,
                              expiry="2027-01-05"), phone.op("receive", part="PN-L", tracking="lot", lot="L-NONE",
                                                             location="A", quantity=2))
    replica = await Replica(phone).sync()
    assert {row["lot"]: row["expiry"] for row in replica.of("inventory")} == {"L-EXP": "2027-01-05", "L-NONE": None}
