"""Decimal quantities (issue 15): 2.5 m received, 0.75 m moved, 1.75 m counted — online and through a phone's
push — are exact everywhere a user looks (the inventory, the ledger's balances, the count line, the pull); a
quantity finer than its unit counts is refused naming the field and the precision; a receipt in packs stores
the part's unit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ops_support import refused
from tests.integration.sync_helpers import Phone, by_seq

CABLE = {"part": "CABLE", "tracking": "untracked"}
SCREW = {"part": "SCREW", "tracking": "untracked"}


@pytest.fixture
async def site(api: Any) -> Any:
    await api.part("CABLE", "untracked", unit="m", description="Cable 3x1.5")  # metres: 3 decimal places
    await api.part("SCREW", "untracked", packs=[{"name": "box", "quantity": 100}, {"name": "pallet", "quantity": "4800"}])
    await api.part("PUMP", "serial", unit="m")  # a serialized part: whole units whatever its unit
    for code in ("DOCK", "SHELF"):
        await api.location(code)
    return api


async def stock(api: Any, part: str) -> dict[str, Any]:
    return {i["location"]: i["quantity"] for i in await api.items(part=part)}


async def balances(api: Any, part: str) -> dict[str, Any]:
    response = await api.get("/api/balances", "supervisor", params={"part": part})
    assert response.status_code == 200, response.text
    return {b["location"]: b["quantity"] for b in response.json()["items"]}


async def test_decimal_quantities_online_are_exact_in_stock_ledger_and_count(site: Any) -> None:
    received = await site.ok("receive", **CABLE, location="DOCK", quantity="2.5")
    assert (received["quantity"], received["received"]) == ("2.5", "2.5")  # a decimal string on the wire
    await site.ok("move", **CABLE, from_location="DOCK", to_location="SHELF", quantity=0.75)  # a JSON number: its text
    assert await stock(site, "CABLE") == {"DOCK": "1.75", "SHELF": "0.75"}
    assert await balances(site, "CABLE") == {"DOCK": "1.75", "SHELF": "0.75"}

    counted = await site.ok("count", **CABLE, location="DOCK", counted_quantity="1.750")
    assert counted["counted_quantity"] == "1.75"
    await site.ok("receive", **CABLE, location="DOCK", quantity="0.25")
    assert await stock(site, "CABLE") == {"DOCK": 2, "SHELF": "0.75"}  # whole again: an integer
    part = (await site.get("/api/parts/CABLE")).json()
    assert (part["unit"], part["places"], part["quantity_places"], part["packs"]) == ("m", 3, None, [])


async def test_a_quantity_finer_than_its_unit_is_refused_online_and_at_sync(site: Any) -> None:
    body = refused(await site.op("receive", **CABLE, location="DOCK", quantity="2.0005"), 422, "invalid", "args.quantity")
    assert body["detail"] == "2.0005 m: m is counted to at most 3 decimal places"
    body = refused(await site.op("receive", **SCREW, location="DOCK", quantity="1.5"), 422, "invalid", "args.quantity")
    assert body["detail"] == "1.5 ea: ea is counted in whole numbers"
    refused(await site.op("receive", part="PUMP", tracking="serial", location="DOCK", quantity="0.5"),
            422, "tracking_mismatch", "args.quantity")  # a unit is one, not half
    refused(await site.op("receive", **CABLE, location="DOCK", quantity="0.0000001"), 422, "invalid", "args.quantity")
    refused(await site.op("receive", **CABLE, location="DOCK", quantity="-1"), 422, "invalid", "args.quantity")

    phone = await Phone.sign_in(site)
    results = by_seq(await phone.push(
        phone.op("receive", **CABLE, location="DOCK", quantity="1.2345"),
        phone.op("receive", **CABLE, location="DOCK", quantity="1.234"),
    ))
    assert (results[1]["status"], results[1]["reason"]) == ("rejected", "invalid")
    assert "m is counted to at most 3 decimal places" in results[1]["message"]
    assert results[2]["status"] == "applied"  # the queue goes on past the refused op
    assert await stock(site, "CABLE") == {"DOCK": "1.234"}


async def test_a_phone_pushes_and_pulls_decimal_quantities_exactly(site: Any) -> None:
    phone = await Phone.sign_in(site)
    receive = phone.op("receive", **CABLE, location="DOCK", quantity="2.5")
    move = phone.op("move", **CABLE, from_location="DOCK", to_location="SHELF", quantity="0.75", depends_on=[receive])
    count = phone.op("count", **CABLE, location="DOCK", counted_quantity="1.75")
    results = by_seq(await phone.push(receive, move, count))
    assert [results[n]["status"] for n in (1, 2, 3)] == ["applied"] * 3
    assert await stock(site, "CABLE") == {"DOCK": "1.75", "SHELF": "0.75"}

    pulled = [c for c in (await phone.pull())["changes"] if c["entity"] in ("inventory", "part")]
    rows = {c["data"]["location"]: c["data"]["quantity"] for c in pulled if c["entity"] == "inventory"}
    assert rows == {"DOCK": "1.75", "SHELF": "0.75"}
    cable = next(c["data"] for c in pulled if c["entity"] == "part" and c["data"]["part_number"] == "CABLE")
    assert (cable["unit"], cable["places"]) == ("m", 3)

    again = by_seq(await phone.push(receive))  # sent again: recognised, not applied twice
    assert again[1]["status"] == "duplicate" and await stock(site, "CABLE") == {"DOCK": "1.75", "SHELF": "0.75"}


async def test_a_receipt_in_packs_stores_the_parts_unit_and_records_the_packs(site: Any) -> None:
    received = await site.ok("receive", **SCREW, location="DOCK", quantity=3, pack="box", package_price="12.00")
    assert (received["quantity"], received["pack"], received["packs"], received["pack_size"]) == (300, "box", 3, 100)
    await site.ok("receive", **SCREW, location="DOCK", quantity=1, pack="PALLET")
    assert await stock(site, "SCREW") == {"DOCK": 5100}
    assert (await site.items(part="SCREW"))[0]["unit_cost"] == "0.04"  # 12.00 over 300 (a pallet with no cost adds none)

    body = refused(await site.op("receive", **SCREW, location="DOCK", quantity=1, pack="reel"), 422, "invalid", "args.pack")
    assert body["detail"] == "pack: SCREW is not bought in 'reel' (its packs: box, pallet)"
    assert (await site.ok("receive", **SCREW, location="DOCK", quantity="0.5", pack="box"))["received"] == 50  # half a box
    assert await stock(site, "SCREW") == {"DOCK": 5150}
    refused(await site.op("receive", **SCREW, location="DOCK", quantity="0.005", pack="box"), 422, "invalid", "args.quantity")

    changed = await site.patch("/api/parts/SCREW", {"packs": [{"name": "reel", "quantity": 5000}], "quantity_places": 2})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["packs"], changed.json()["places"]) == ([{"name": "reel", "quantity": 5000}], 2)
    bad = await site.patch("/api/parts/SCREW", {"packs": [{"name": "box", "quantity": 1}, {"name": "BOX", "quantity": 2}]})
    assert bad.status_code == 422 and "named twice" in bad.json()["detail"]
