"""Scrap, isolate/release, adjust, split and merge through POST /api/ops, and switching a part's
tracking type through PATCH /api/parts/{id}."""

from __future__ import annotations

from tests.integration.ops_support import ledger_sums, on_hand, one, quantities, refused, shop  # noqa: F401

SERIAL = {"part": "SN-PART", "tracking": "serial"}
ASM = {"part": "ASM", "tracking": "serial"}
LOT = {"part": "LOT-PART", "tracking": "lot"}
BULK = {"part": "BULK", "tracking": "untracked"}


# ---- scrap ----------------------------------------------------------------------------------------
async def test_scrap_a_unit_and_part_of_a_lot(shop, db):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    await shop.ok("scrap", **SERIAL, serial="SN-1", location="DOCK", quantity=1, reason="cracked")
    await shop.ok("scrap", **LOT, lot="LOT-A", location="DOCK", quantity=3, reason="corroded")
    assert (await one(shop, serial="SN-1"))["status"] == "scrapped"
    assert await quantities(shop, "LOT-PART") == {("DOCK", "LOT-A", "available"): 7, ("DOCK", "LOT-A", "scrapped"): 3}

    again = await shop.op("scrap", **SERIAL, serial="SN-1", location="DOCK", quantity=1, reason="twice")
    refused(again, 409, "insufficient_quantity", "args.serial")
    refused(await shop.op("move", **SERIAL, serial="SN-1", from_location="DOCK", to_location="LINE", quantity=1),
            409, "insufficient_quantity", "args.serial")
    body = refused(await shop.op("scrap", **LOT, lot="LOT-A", location="DOCK", quantity=8, reason="all"), 409,
                   "insufficient_quantity", "args.quantity")
    assert body["available"] == 7
    log = (await shop.get("/api/activity", params={"action": "Scrap"})).json()["items"]
    assert {(entry["serial"] or entry["lot"], entry["reason"]) for entry in log} == {
        ("SN-1", "cracked"), ("LOT-A", "corroded"),
    }
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


# ---- isolate / release ----------------------------------------------------------------------------
async def test_an_isolated_unit_is_unavailable_until_released(shop):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    result = await shop.ok("isolate", **SERIAL, serial="SN-1", location="DOCK", quantity=1, reason="suspect weld")
    assert result["isolated"] is True
    unit = await one(shop, serial="SN-1")
    assert (unit["status"], unit["isolated"], unit["isolation_reason"]) == ("unavailable", True, "suspect weld")
    refused(await shop.op("isolate", **SERIAL, serial="SN-1", location="DOCK", quantity=1, reason="again"), 409,
            "insufficient_quantity")
    # it can still be carried to MRB, and stays isolated there
    await shop.ok("move", **SERIAL, serial="SN-1", from_location="DOCK", to_location="MRB", quantity=1)
    await shop.ok("release", **SERIAL, serial="SN-1", location="MRB", quantity=1)
    unit = await one(shop, serial="SN-1")
    assert (unit["isolated"], unit["status"]) == (False, "unavailable")  # MRB itself is an unavailable location
    await shop.ok("move", **SERIAL, serial="SN-1", from_location="MRB", to_location="SHELF", quantity=1)
    assert (await one(shop, serial="SN-1"))["status"] == "available"


async def test_isolating_part_of_a_lot_sets_it_aside_in_place(shop, db):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    await shop.ok("isolate", **LOT, lot="LOT-A", location="DOCK", quantity=4, reason="failed inspection")
    assert await quantities(shop, "LOT-PART") == {
        ("DOCK", "LOT-A", "available"): 6, ("DOCK", "LOT-A", "unavailable"): 4,
    }
    body = refused(await shop.op("move", **LOT, lot="LOT-A", from_location="DOCK", to_location="LINE", quantity=7),
                   409, "insufficient_quantity")
    assert body["available"] == 6  # isolated stock is not free stock
    refused(await shop.op("release", **LOT, lot="LOT-A", location="DOCK", quantity=5), 409, "insufficient_quantity")
    await shop.ok("release", **LOT, lot="LOT-A", location="DOCK", quantity=4, reason="re-inspected OK")
    assert await quantities(shop, "LOT-PART") == {("DOCK", "LOT-A", "available"): 10}
    async with db.read() as session:  # isolation moves nothing: stock stays on hand
        assert await ledger_sums(session) == await on_hand(session)


async def test_isolated_stock_is_moved_or_scrapped_only_when_the_op_says_so(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    await shop.ok("isolate", **BULK, location="DOCK", quantity=10, reason="rust")
    refused(await shop.op("scrap", **BULK, location="DOCK", quantity=1, reason="rust"), 409, "insufficient_quantity")
    await shop.ok("move", **BULK, from_location="DOCK", to_location="MRB", quantity=10, isolated=True)
    await shop.ok("scrap", **BULK, location="MRB", quantity=3, reason="rust", isolated=True)
    items = await shop.items(part="BULK")
    assert {(i["location"], i["isolated"], i["isolation_reason"], i["status"], i["quantity"]) for i in items} == {
        ("MRB", True, "rust", "unavailable", 7), ("MRB", False, None, "scrapped", 3),
    }


# ---- adjust ---------------------------------------------------------------------------------------
async def test_adjust_needs_a_supervisor(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    refused(await shop.op("adjust", **BULK, location="DOCK", delta=5, reason="found"), 403, "forbidden")
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 10}


async def test_a_supervisor_adjusts_up_and_down_with_a_reason(shop, db):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    await shop.ok("adjust", "supervisor", **BULK, location="DOCK", delta=5, reason="found a box")
    await shop.ok("adjust", "supervisor", **BULK, location="SHELF", delta=2, reason="found elsewhere")
    await shop.ok("adjust", "admin", **BULK, location="DOCK", delta=-12, reason="count")
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 3, ("SHELF", None, "available"): 2}
    body = refused(await shop.op("adjust", "supervisor", **BULK, location="DOCK", delta=-4, reason="count"), 409,
                   "insufficient_quantity")
    assert body["available"] == 3
    refused(await shop.op("adjust", "supervisor", **BULK, location="DOCK", delta=0, reason="x"), 422, "invalid",
            "args.delta")
    log = (await shop.get("/api/activity", params={"action": "Adjust"})).json()["items"]
    assert [(e["quantity"], e["reason"], e["actor"]) for e in log] == [
        (-12, "count", "admin"), (2, "found elsewhere", "supervisor"), (5, "found a box", "supervisor"),
    ]
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_adjusting_a_unit_writes_it_off_and_back(shop, db):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    refused(await shop.op("adjust", "supervisor", **SERIAL, serial="SN-1", location="DOCK", delta=2, reason="x"),
            422, "tracking_mismatch", "args.delta")
    await shop.ok("adjust", "supervisor", **SERIAL, serial="SN-1", location="DOCK", delta=-1, reason="lost")
    unit = await one(shop, serial="SN-1")
    assert (unit["quantity"], unit["status"]) == (0, "unavailable")
    refused(await shop.op("receive", **SERIAL, serial="SN-1", location="DOCK", quantity=1), 409, "duplicate_serial")
    await shop.ok("adjust", "supervisor", **SERIAL, serial="SN-1", location="SHELF", delta=1, reason="found")
    unit = await one(shop, serial="SN-1")
    assert (unit["quantity"], unit["status"], unit["location"]) == (1, "available", "SHELF")
    refused(await shop.op("adjust", "supervisor", **SERIAL, serial="SN-1", location="SHELF", delta=1, reason="x"),
            409, "duplicate_serial")
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_adjusting_a_written_off_unit_back_checks_its_part(shop, db):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    await shop.ok("adjust", "supervisor", **SERIAL, serial="SN-1", location="DOCK", delta=-1, reason="lost")
    refused(await shop.op("adjust", "supervisor", **ASM, serial="SN-1", location="DOCK", delta=1, reason="found"),
            422, "tracking_mismatch", "args.serial")
    assert (await one(shop, serial="SN-1"))["quantity"] == 0
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


# ---- split / merge --------------------------------------------------------------------------------
async def test_split_part_of_a_lot_into_a_new_lot(shop, db):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    result = await shop.ok("split", **LOT, lot="LOT-A", location="DOCK", quantity=4, new_lot="LOT-A2")
    assert (result["lot"], result["quantity"], result["split_from"]) == ("LOT-A2", 4, "LOT-A")
    generated = await shop.ok("split", **LOT, lot="LOT-A", location="DOCK", quantity=1)
    assert generated["lot"] == "L-001"
    assert await quantities(shop, "LOT-PART") == {
        ("DOCK", "LOT-A", "available"): 5, ("DOCK", "LOT-A2", "available"): 4, ("DOCK", "L-001", "available"): 1,
    }
    refused(await shop.op("split", **LOT, lot="LOT-A", location="DOCK", quantity=1, new_lot="LOT-A"), 422, "invalid",
            "args.new_lot")
    body = refused(await shop.op("split", **LOT, lot="LOT-A", location="DOCK", quantity=6, new_lot="LOT-X"), 409,
                   "insufficient_quantity")
    assert body["available"] == 5
    await shop.ok("receive", **BULK, location="DOCK", quantity=3)
    refused(await shop.op("split", **BULK, location="DOCK", quantity=1, new_lot="X"), 422, "tracking_mismatch")
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_merge_whole_lots_into_one(shop, db):
    await shop.ok("receive", **LOT, location="DOCK", quantity=6, lot="LOT-A")
    await shop.ok("receive", **LOT, location="DOCK", quantity=4, lot="LOT-B")
    await shop.ok("receive", **LOT, location="SHELF", quantity=1, lot="LOT-B")
    result = await shop.ok("merge", **LOT, lots=["LOT-A", "LOT-B"], into_lot="LOT-A", location="DOCK")
    assert (result["lot"], result["quantity"], result["merged"]) == ("LOT-A", 10, 4)
    merged = {("DOCK", "LOT-A", "available"): 10, ("SHELF", "LOT-B", "available"): 1}
    assert await quantities(shop, "LOT-PART") == merged

    refused(await shop.op("merge", **LOT, lots=["LOT-A", "LOT-B"], into_lot="LOT-C", location="DOCK"), 409,
            "insufficient_quantity", "args.lots")  # LOT-B is empty at DOCK now
    refused(await shop.op("merge", **LOT, lots=["LOT-A", "LOT-A"], into_lot="LOT-C", location="DOCK"), 422, "invalid",
            "args.lots")
    refused(await shop.op("merge", **LOT, lots=["LOT-A"], into_lot="LOT-A", location="DOCK"), 422, "invalid",
            "args.lots")
    assert await quantities(shop, "LOT-PART") == merged
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def lot_events(shop, lot):
    response = await shop.get(f"/api/lots/LOT-PART/{lot}/history")
    assert response.status_code == 200, response.text
    return [(e["action"], e["quantity"], e["from_location"], e["to_location"], e["reason"]) for e in response.json()["events"]]


async def test_split_and_merge_show_in_both_lots_histories(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    split = "0190a000-0000-7000-8000-000000000022"
    assert (await shop.op("split", op_id=split, **LOT, lot="LOT-A", location="DOCK", quantity=4, new_lot="LOT-B")).status_code == 201
    assert (await lot_events(shop, "LOT-A"))[1:] == [("Split", 4, "DOCK", None, "split into lot LOT-B")]
    assert await lot_events(shop, "LOT-B") == [("Split", 4, None, "DOCK", "split from lot LOT-A")]
    await shop.ok("receive", **LOT, location="DOCK", quantity=2, lot="LOT-C")
    await shop.ok("merge", **LOT, lots=["LOT-B", "LOT-C"], into_lot="LOT-A", location="DOCK")
    assert (await lot_events(shop, "LOT-B"))[1:] == [("Merge", 4, "DOCK", None, "merged into lot LOT-A")]
    assert (await lot_events(shop, "LOT-C"))[1:] == [("Merge", 2, "DOCK", None, "merged into lot LOT-A")]
    assert (await lot_events(shop, "LOT-A"))[2:] == [
        ("Merge", 4, None, "DOCK", "merged from lot LOT-B"), ("Merge", 2, None, "DOCK", "merged from lot LOT-C"),
    ]
    log = (await shop.get("/api/activity", params={"op_id": split})).json()["items"]
    assert {(entry["lot"], entry["from_location"], entry["to_location"]) for entry in log} == {
        ("LOT-A", "DOCK", None), ("LOT-B", None, "DOCK"),
    }


# ---- tracking switches ----------------------------------------------------------------------------
async def test_a_serialized_part_cannot_switch_while_units_exist(shop):
    part = (await shop.get("/api/parts/SN-PART")).json()
    for serial in ("SN-1", "SN-2"):
        await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial=serial)
    response = await shop.patch(f"/api/parts/{part['id']}", {"tracking": "lot"}, role="admin")
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"].endswith("tracking-switch-blocked") and body["blocking_rows"] == 2
    assert "2" in body["detail"]
    forbidden = await shop.patch(f"/api/parts/{part['id']}", {"tracking": "lot"}, role="supervisor")
    refused(forbidden, 403, "forbidden")
    assert (await shop.get("/api/parts/SN-PART")).json()["tracking"] == "serial"

    # scrapped units no longer block
    for serial in ("SN-1", "SN-2"):
        await shop.ok("scrap", **SERIAL, serial=serial, location="DOCK", quantity=1, reason="end of life")
    response = await shop.patch(f"/api/parts/{part['id']}", {"tracking": "untracked"}, role="admin")
    assert response.status_code == 200, response.text


async def test_untracked_may_become_serialized_and_old_stock_stays_untracked(shop):
    part = (await shop.get("/api/parts/BULK")).json()
    await shop.ok("receive", **BULK, location="DOCK", quantity=5)
    response = await shop.patch(f"/api/parts/{part['id']}", {"tracking": "serial", "serial_pattern": "B-{seq}"},
                                role="admin")
    assert response.status_code == 200, response.text
    assert response.json()["tracking"] == "serial"

    body = refused(await shop.op("receive", **BULK, location="DOCK", quantity=1), 409, "tracking_changed")
    assert body["server_tracking"] == "serial"
    new = await shop.ok("receive", part="BULK", tracking="serial", location="DOCK", quantity=1)
    assert new["serial"] == "B-1"
    # the old untracked stock is still addressed by naming neither serial nor lot
    await shop.ok("move", part="BULK", tracking="serial", from_location="DOCK", to_location="LINE", quantity=2)
    assert {(i["location"], i["tracking"], i["serial"], i["quantity"]) for i in await shop.items(part="BULK")} == {
        ("DOCK", "untracked", None, 3), ("LINE", "untracked", None, 2), ("DOCK", "serial", "B-1", 1),
    }
