"""GET /api/transactions (the signed ledger, each entry with its op) and GET /api/balances (its sums per part,
location, lot and bucket): filters, paging, and balances equal to the stock on hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.ops_support import shop  # noqa: F401

LOT = {"part": "LOT-PART", "tracking": "lot"}
BULK = {"part": "BULK", "tracking": "untracked"}


async def ledger(api: Any, **params: Any) -> dict[str, Any]:
    response = await api.get("/api/transactions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def balances(api: Any, **params: Any) -> list[tuple[str, str, str | None, str, int]]:
    response = await api.get("/api/balances", params=params)
    assert response.status_code == 200, response.text
    return [(b["part"], b["location"], b["lot"], b["bucket"], b["quantity"]) for b in response.json()["items"]]


async def test_every_change_of_stock_is_a_signed_entry_linked_to_its_op(shop):
    received = (await shop.op("receive", **LOT, lot="L-1", location="DOCK", quantity=10)).json()
    moved = (await shop.op("move", **LOT, lot="L-1", from_location="DOCK", to_location="SHELF", quantity=4)).json()
    assert received["status"] == moved["status"] == "applied"
    await shop.ok("scrap", **LOT, lot="L-1", location="SHELF", quantity=1, reason="bent")
    await shop.ok("receive", **BULK, location="DOCK", quantity=7)

    page = await ledger(shop, part="LOT-PART")
    assert page["total"] == 4
    entries = [(e["op_type"], e["location"], e["lot"], e["delta"], e["bucket"]) for e in reversed(page["items"])]
    assert entries == [
        ("receive", "DOCK", "L-1", 10, "on_hand"), ("move", "DOCK", "L-1", -4, "on_hand"),
        ("move", "SHELF", "L-1", 4, "on_hand"), ("scrap", "SHELF", "L-1", -1, "on_hand"),
    ]
    assert page["items"][-1]["op_id"] == received["op_id"]
    assert {e["op_id"] for e in page["items"] if e["op_type"] == "move"} == {moved["op_id"]}
    assert (await ledger(shop, location="SHELF"))["total"] == 2
    assert (await ledger(shop, bucket="on_order"))["total"] == 0
    assert (await ledger(shop))["total"] == 5
    newest = await ledger(shop, limit=2, offset=0)
    assert [e["part"] for e in newest["items"]] == ["BULK", "LOT-PART"] and newest["total"] == 5


async def test_transactions_of_a_period(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=7)
    now = datetime.now(UTC)
    assert (await ledger(shop, since=(now - timedelta(hours=1)).isoformat()))["total"] == 1
    assert (await ledger(shop, until=(now - timedelta(hours=1)).isoformat()))["total"] == 0
    assert (await ledger(shop, since=(now + timedelta(hours=1)).isoformat()))["total"] == 0


async def test_balances_are_the_stock_on_hand_per_part_location_and_lot(shop):
    await shop.ok("receive", **LOT, lot="L-1", location="DOCK", quantity=10)
    await shop.ok("move", **LOT, lot="L-1", from_location="DOCK", to_location="SHELF", quantity=4)
    await shop.ok("scrap", **LOT, lot="L-1", location="SHELF", quantity=1, reason="bent")
    await shop.ok("receive", **BULK, location="DOCK", quantity=7)
    await shop.ok("move", **BULK, from_location="DOCK", to_location="SHELF", quantity=7)  # DOCK sums to 0: not listed
    assert await balances(shop) == [
        ("BULK", "SHELF", None, "on_hand", 7),
        ("LOT-PART", "DOCK", "L-1", "on_hand", 6), ("LOT-PART", "SHELF", "L-1", "on_hand", 3),
    ]
    assert await balances(shop, part="LOT-PART", location="SHELF") == [("LOT-PART", "SHELF", "L-1", "on_hand", 3)]
    on_hand = {(i["part"], i["location"], i["lot"]): i["quantity"] for i in await shop.items(status="available")}
    assert {(p, loc, lot): n for p, loc, lot, _, n in await balances(shop)} == on_hand


async def test_an_unknown_bucket_is_a_422_naming_it(shop):
    response = await shop.get("/api/transactions", params={"bucket": "stolen"})
    assert response.status_code == 422 and response.json()["field"] == "bucket", response.text
