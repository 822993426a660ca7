"""Kits, as a storeman and a line lead check them: a kit opened for a run lists what it needs and where to pick
it; picks (the `kit` op) move stock into the kit's tote, Kitted; completing or cancelling releases it; each
refusal online (409) and at sync (held for a supervisor, who may approve); two phones picking one unit into
two kits offline; phones pull the open kits' lines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.db import Database
from tests.conftest import Api
from tests.integration.ops_support import ledger_sums, on_hand, refused
from tests.integration.sync_helpers import Phone, by_seq
from tests.integration.test_po_receiving import approve, conflict_of


@pytest.fixture
async def stores(api: Api) -> Api:
    await api.part("PUMP", "serial")
    await api.part("RESIN", "lot", unit="kg")
    await api.part("BOLT", "untracked", unit="pcs")
    await api.part("NUT", "untracked")
    for code in ("STORES", "LINE-1"):
        await api.location(code)
    await api.location("STORES/A", parent="STORES")
    await api.location("STORES/B", parent="STORES")
    for serial in ("P-1", "P-2"):
        await api.ok("receive", part="PUMP", tracking="serial", serial=serial, location="STORES/A", quantity=1)
    await api.ok("receive", part="RESIN", tracking="lot", lot="R-OLD", location="STORES/B", quantity="2.5")
    await api.ok("receive", part="RESIN", tracking="lot", lot="R-NEW", location="STORES/A", quantity=10)
    await api.ok("receive", part="BOLT", tracking="untracked", location="STORES/A", quantity=100)
    return api


async def open_kit(api: Api, status: int = 201, **body: Any) -> dict[str, Any]:
    body = {"location": "LINE-1", "lines": [
        {"part": "PUMP", "quantity": 1}, {"part": "RESIN", "quantity": "3.5"}, {"part": "BOLT", "quantity": 8}],
        **body}
    response = await api.post("/api/kits", body, "supervisor")
    assert response.status_code == status, response.text
    return response.json()


async def kit_of(api: Api, number: str) -> dict[str, Any]:
    response = await api.get(f"/api/kits/{number}")
    assert response.status_code == 200, response.text
    return response.json()


def lines(kit: dict[str, Any]) -> dict[str, tuple[Any, Any, Any]]:
    return {line["part"]: (line["quantity"], line["picked"], line["remaining"]) for line in kit["lines"]}


def pick(kit: str, part: str, tracking: str, source: str, quantity: Any = 1, **item: Any) -> dict[str, Any]:
    return {"kit": kit, "part": part, "tracking": tracking, "from_location": source, "quantity": quantity, **item}


async def test_a_kit_is_picked_kitted_and_released_when_it_completes(stores: Api, db: Database) -> None:
    kit = await open_kit(stores, run="RUN-7")
    number = kit["number"]
    assert (number, kit["status"], kit["run"], kit["location"], kit["tote"]) == (
        "KIT-0001", "open", "RUN-7", "LINE-1", "LINE-1/KIT-0001")
    assert lines(kit) == {"PUMP": (1, 0, 1), "RESIN": ("3.5", 0, "3.5"), "BOLT": (8, 0, 8)}
    resin = next(line for line in kit["lines"] if line["part"] == "RESIN")
    assert resin["suggested"] == [  # the oldest stock first (no expiry known)
        {"location": "STORES/B", "lot": "R-OLD", "quantity": "2.5"}, {"location": "STORES/A", "lot": "R-NEW", "quantity": 1}]

    pump = await stores.ok("kit", **pick(number, "PUMP", "serial", "STORES/A", serial="P-2"))
    assert (pump["location"], pump["kit"], pump["remaining"]) == ("LINE-1/KIT-0001", "KIT-0001", 0)
    await stores.ok("kit", **pick(number, "RESIN", "lot", "STORES/B", "2.5", lot="R-OLD"))
    await stores.ok("kit", **pick(number, "BOLT", "untracked", "STORES/A", 5))
    assert lines(await kit_of(stores, number)) == {"PUMP": (1, 1, 0), "RESIN": ("3.5", "2.5", 1), "BOLT": (8, 5, 3)}
    kitted = {(i["part"], i["serial"], i["lot"], i["quantity"]) for i in await stores.items(status="kitted")}
    assert kitted == {("PUMP", "P-2", None, 1), ("RESIN", None, "R-OLD", "2.5"), ("BOLT", None, None, 5)}
    assert [i["quantity"] for i in await stores.items(part="BOLT", location="STORES/A")] == [95]
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)  # the ledger moved with the stock

    assert (await kit_of(stores, kit["id"]))["number"] == number  # by its id too
    listed = (await stores.get("/api/kits?status=open&run=RUN-7")).json()
    assert [(k["number"], k["lines"], k["quantity"], k["picked"]) for k in listed["items"]] == [
        ("KIT-0001", 3, "12.5", "8.5")]

    response = await stores.post(f"/api/kits/{number}/complete", {})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed" and response.json()["closed_by"] == "operator"
    assert await stores.items(status="kitted") == []
    released = await stores.items(location="LINE-1/KIT-0001", status="available")
    assert {(i["part"], i["quantity"]) for i in released} == {("PUMP", 1), ("RESIN", "2.5"), ("BOLT", 5)}
    history = (await stores.get("/api/units/P-2/history")).json()["events"]
    assert [e["action"] for e in history][-2:] == ["Kit", "Unkit"]

    late = await stores.op("kit", **pick(number, "BOLT", "untracked", "STORES/A", 3))
    refused(late, 409, "kit_not_open", "args.kit")
    refused(await stores.post(f"/api/kits/{number}/complete", {}), 409, "kit_not_open", "number")


async def test_refusals_online(stores: Api) -> None:
    first, second = (await open_kit(stores))["number"], (await open_kit(stores))["number"]
    refused(await stores.op("kit", **pick(first, "NUT", "untracked", "STORES/A")), 409, "not_on_kit", "args.part")
    refused(await stores.op("kit", **pick(first, "BOLT", "untracked", "STORES/A", 9)), 409, "not_on_kit",
            "args.quantity")
    refused(await stores.op("kit", **pick("KIT-9999", "BOLT", "untracked", "STORES/A")), 404, "unknown_reference",
            "args.kit")
    await stores.ok("kit", **pick(first, "PUMP", "serial", "STORES/A", serial="P-1"))
    body = refused(await stores.op("kit", **pick(second, "PUMP", "serial", "STORES/A", serial="P-1")), 409,
                   "already_kitted", "args.serial")
    assert "KIT-0001" in body["detail"]
    await stores.ok("kit", **pick(first, "BOLT", "untracked", "STORES/A", 4))
    refused(await stores.op("kit", **pick(second, "BOLT", "untracked", f"LINE-1/{first}", 4)), 409, "already_kitted",
            "args.from_location")

    refused(await stores.post("/api/kits", {"location": "LINE-1", "lines": [{"part": "BOLT", "quantity": 1}]}), 403,
            "forbidden")
    refused(await stores.post(f"/api/kits/{first}/cancel", {}), 403, "forbidden")
    refused(await stores.post("/api/kits", {"location": "LINE-1", "lines": [
        {"part": "BOLT", "quantity": 1}, {"part": "BOLT", "quantity": 2}]}, "supervisor"), 422, "invalid", "lines[1].part")
    refused(await stores.post("/api/kits", {"location": "LINE-1", "lines": [{"part": "PUMP", "quantity": "0.5"}]},
                              "supervisor"), 422, "invalid", "lines[0].quantity")
    refused(await stores.post("/api/kits", {"location": "NOWHERE", "lines": [{"part": "BOLT", "quantity": 1}]},
                              "supervisor"), 404, "unknown_reference", "location")
    refused(await stores.get("/api/kits?status=lost"), 422, "invalid", "status")
    cancelled = await stores.post(f"/api/kits/{first}/cancel", {}, "supervisor")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [i["status"] for i in await stores.items(serial="P-1")] == ["available"]


async def test_two_phones_pick_one_unit_into_two_kits_offline_the_second_is_held(stores: Api, db: Database) -> None:
    first, second = (await open_kit(stores))["number"], (await open_kit(stores))["number"]
    anna, ben = await Phone.sign_in(stores, "operator"), await Phone.sign_in(stores, "supervisor")
    pulled = await anna.pull()
    kit_lines = [c["data"] for c in pulled["changes"] if c["entity"] == "kit_line"]
    assert {(d["kit"], d["part"], d["remaining"], d["tote"]) for d in kit_lines} >= {
        (first, "PUMP", 1, f"LINE-1/{first}"), (second, "BOLT", 8, f"LINE-1/{second}")}

    by_anna = anna.op("kit", **pick(first, "PUMP", "serial", "STORES/A", serial="P-1"))
    by_ben = ben.op("kit", **pick(second, "PUMP", "serial", "STORES/A", serial="P-1"))
    assert by_seq(await anna.push(by_anna))[1]["status"] == "applied"
    held = by_seq(await ben.push(by_ben))[1]
    assert (held["status"], held["reason"], held["details"]["kit"]) == ("held", "already_kitted", first)
    assert [i["location"] for i in await stores.items(serial="P-1")] == [f"LINE-1/{first}"]

    late = anna.op("kit", **pick(first, "BOLT", "untracked", "STORES/A", 9))
    assert by_seq(await anna.push(late))[2]["reason"] == "not_on_kit"
    await approve(stores, await conflict_of(stores, by_ben["op_id"]))  # the supervisor: it belongs in the second
    assert [(i["location"], i["status"]) for i in await stores.items(serial="P-1")] == [(f"LINE-1/{second}", "kitted")]
    assert lines(await kit_of(stores, first))["PUMP"] == (1, 0, 1)  # the first kit gave it back
    assert lines(await kit_of(stores, second))["PUMP"] == (1, 1, 0)
    await approve(stores, await conflict_of(stores, late["op_id"]))  # 9 bolts went in: more than the line
    assert lines(await kit_of(stores, first))["BOLT"] == (8, 9, 0)

    await stores.post(f"/api/kits/{first}/complete", {})
    closed = anna.op("kit", **pick(first, "RESIN", "lot", "STORES/A", 1, lot="R-NEW"))  # picked before it heard
    assert by_seq(await anna.push(closed))[3]["reason"] == "kit_not_open"
    await approve(stores, await conflict_of(stores, closed["op_id"]))  # into the former tote, a plain location
    assert [(i["quantity"], i["status"]) for i in await stores.items(part="RESIN", location=f"LINE-1/{first}")] == [
        (1, "available")]
    after = await anna.pull(pulled["cursor"])
    gone = {c["id"] for c in after["changes"] if c["entity"] == "kit_line" and c["op"] == "del"}
    assert len(gone) == 3  # the completed kit's lines leave the phone
    bolts = [c["data"] for c in after["changes"] if c["entity"] == "inventory" and c["data"]
             and c["data"]["location"] == f"LINE-1/{first}"]
    assert {(d["part"], d["status"]) for d in bolts} == {("BOLT", "available"), ("RESIN", "available")}  # sent again
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_two_phones_pushing_picks_into_one_kit_at_once_lose_none(stores: Api) -> None:
    """On PostgreSQL push chunks of many phones run side by side: no pick, and no count of one, is lost (here the
    source bucket's row lock already serialises them; picks from different places take their turn on the kit)."""
    number = (await open_kit(stores))["number"]
    phones = [await Phone.sign_in(stores, "operator") for _ in range(2)]
    pushes = [phone.push(*(phone.op("kit", **pick(number, "BOLT", "untracked", "STORES/A", 1)) for _ in range(3)))
              for phone in phones]
    answers = await asyncio.gather(*pushes)
    assert [r["status"] for answer in answers for r in answer["results"]] == ["applied"] * 6
    assert lines(await kit_of(stores, number))["BOLT"] == (8, 6, 2)
    assert [i["quantity"] for i in await stores.items(part="BOLT", status="kitted")] == [6]
