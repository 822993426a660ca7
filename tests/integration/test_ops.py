"""Receive and move through POST /api/ops, replays of an op id, argument validation, and the trail
(activity log and ledger) every operation leaves. Install/uninstall: test_ops_install.py; scrap,
isolate, adjust, split, merge and tracking switches: test_ops_stock.py."""

from __future__ import annotations

import uuid

from tests.integration.ops_support import ledger_sums, on_hand, one, quantities, refused, shop  # noqa: F401

SERIAL = {"part": "SN-PART", "tracking": "serial"}
LOT = {"part": "LOT-PART", "tracking": "lot"}
BULK = {"part": "BULK", "tracking": "untracked"}


# ---- receive --------------------------------------------------------------------------------------
async def test_receive_serial_with_the_suppliers_serial(shop):
    result = await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SUP-77")
    assert (result["serial"], result["quantity"], result["location"]) == ("SUP-77", 1, "DOCK")
    item = await one(shop, serial="SUP-77")
    assert (item["part"], item["location"], item["quantity"], item["status"]) == ("SN-PART", "DOCK", 1, "available")
    assert item["tracking"] == "serial" and item["id"] == result["inventory_id"]


async def test_receive_serial_generated_from_the_pattern_skips_numbers_already_taken(shop):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-PART-0002")  # a label that collides
    first = await shop.ok("receive", **SERIAL, location="DOCK", quantity=1)
    second = await shop.ok("receive", **SERIAL, location="DOCK", quantity=1)
    assert (first["serial"], second["serial"]) == ("SN-PART-0001", "SN-PART-0003")
    assert {item["serial"] for item in await shop.items(part="SN-PART")} == {
        "SN-PART-0001", "SN-PART-0002", "SN-PART-0003",
    }


async def test_receive_serial_needs_quantity_one_and_no_repeated_serial(shop):
    response = await shop.op("receive", **SERIAL, location="DOCK", quantity=3, serial="SN-1")
    refused(response, 422, "tracking_mismatch", "args.quantity")
    assert await shop.items(part="SN-PART") == []

    first = await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    again = await shop.op("receive", **SERIAL, location="SHELF", quantity=1, serial="SN-1")
    body = refused(again, 409, "duplicate_serial", "args.serial")
    assert body["existing_inventory_id"] == first["inventory_id"]
    assert (await one(shop, serial="SN-1"))["location"] == "DOCK"


async def test_receive_lot_merges_a_repeat_receipt_into_one_row_per_location(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A", unit_cost=2.0)
    result = await shop.ok("receive", **LOT, location="DOCK", quantity=5, lot="LOT-A", unit_cost=5.0)
    await shop.ok("receive", **LOT, location="SHELF", quantity=1, lot="LOT-A")
    rows = await shop.items(part="LOT-PART", location="DOCK")
    assert len(rows) == 1 and rows[0]["id"] == result["inventory_id"]
    assert (rows[0]["lot"], rows[0]["quantity"], rows[0]["unit_cost"]) == ("LOT-A", 15, "3.00")  # weighted average, a decimal string
    assert await quantities(shop, "LOT-PART") == {
        ("DOCK", "LOT-A", "available"): 15, ("SHELF", "LOT-A", "available"): 1,
    }


async def test_receive_takes_money_as_a_string_or_a_number_and_averages_it_exactly(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=1, lot="LOT-M", unit_cost="0.1")
    await shop.ok("receive", **LOT, location="DOCK", quantity=1, lot="LOT-M", unit_cost=0.2)
    (row,) = await shop.items(part="LOT-PART", location="DOCK")
    assert row["unit_cost"] == "0.15"  # (0.1 + 0.2) / 2; floats make it 0.15000000000000002
    await shop.ok("receive", **LOT, location="DOCK", quantity=1, lot="LOT-M", unit_cost="0.000002")
    (row,) = await shop.items(part="LOT-PART", location="DOCK")
    assert row["unit_cost"] == "0.100001"  # 0.300002 / 3 = 0.1000006…, to 6 places
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-M", unit_cost="123456789012.345678")
    assert (await one(shop, serial="SN-M"))["unit_cost"] == "123456789012.345678"  # beyond a float's 15 digits


async def test_receive_refuses_money_that_is_not_an_amount(shop):
    for bad in ("0.1234567", "-1", "12,50", "1e400", 1e13):
        response = await shop.op("receive", **LOT, location="DOCK", quantity=1, lot="LOT-X", unit_cost=bad)
        refused(response, 422, "invalid", "args.unit_cost")
    assert await shop.items(part="LOT-PART") == []


async def test_receive_costs_a_package_price_over_the_quantity(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=60, lot="LOT-P", package_price="126.00", package_ref="PK-1")
    (row,) = await shop.items(part="LOT-PART", location="DOCK")
    assert (row["quantity"], row["unit_cost"], row["package_ref"]) == (60, "2.10", "PK-1")
    await shop.ok("receive", **BULK, location="DOCK", quantity=3, package_price=10, unit_cost="3.333333")  # both, alike
    assert (await shop.items(part="BULK"))[0]["unit_cost"] == "3.333333"


async def test_receive_refuses_a_package_price_and_a_unit_cost_that_disagree(shop):
    response = await shop.op("receive", **LOT, location="DOCK", quantity=50, lot="LOT-P", package_price="100", unit_cost="2.10")
    body = refused(response, 422, "invalid", "args.package_price")
    assert "unit_cost" in body["detail"]
    assert await shop.items(part="LOT-PART") == []


async def test_receive_lot_generates_the_lot_when_none_is_given(shop):
    first = await shop.ok("receive", **LOT, location="DOCK", quantity=4)
    second = await shop.ok("receive", **LOT, location="DOCK", quantity=6)
    assert (first["lot"], second["lot"]) == ("L-001", "L-002")
    assert await quantities(shop, "LOT-PART") == {("DOCK", "L-001", "available"): 4, ("DOCK", "L-002", "available"): 6}


async def test_receive_untracked_keeps_one_row_per_part_and_location(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=100)
    await shop.ok("receive", **BULK, location="DOCK", quantity=50)
    await shop.ok("receive", **BULK, location="SHELF", quantity=7)
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 150, ("SHELF", None, "available"): 7}
    assert len(await shop.items(part="BULK")) == 2


async def test_receive_args_must_fit_the_tracking_type(shop):
    refused(await shop.op("receive", **BULK, location="DOCK", quantity=1, lot="X"), 422, "tracking_mismatch",
            "args.lot")
    refused(await shop.op("receive", **LOT, location="DOCK", quantity=1, serial="X"), 422, "tracking_mismatch",
            "args.serial")
    refused(await shop.op("receive", part="BULK", tracking="lot", location="DOCK", quantity=1, lot="X"), 409,
            "tracking_changed", "args.tracking")
    assert await shop.items() == []


async def test_receive_creates_an_unknown_supplier_on_the_fly(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=1, supplier="Acme Fasteners")
    await shop.ok("receive", **BULK, location="SHELF", quantity=1, supplier="acme fasteners")
    suppliers = (await shop.get("/api/suppliers", params={"q": "acme"})).json()
    assert [s["name"] for s in suppliers] == ["Acme Fasteners"]  # matched case-insensitively the second time
    assert {item["supplier"] for item in await shop.items(part="BULK")} == {"Acme Fasteners"}


async def test_receive_names_the_unknown_reference(shop):
    body = refused(await shop.op("receive", part="NOPE", tracking="untracked", location="DOCK", quantity=1), 404,
                   "unknown_reference", "args.part")
    assert "NOPE" in body["detail"]
    refused(await shop.op("receive", **BULK, location="NOWHERE", quantity=1), 404, "unknown_reference", "args.location")


async def test_receive_into_a_location_closed_for_a_count_is_held_until_it_reopens(shop):
    assert (await shop.patch("/api/locations/DOCK", {"count_locked": True})).status_code == 200
    refused(await shop.op("receive", **BULK, location="DOCK", quantity=5), 409, "location_locked", "args.location")
    assert await shop.items(part="BULK") == []
    assert (await shop.patch("/api/locations/DOCK", {"count_locked": False})).status_code == 200
    await shop.ok("receive", **BULK, location="DOCK", quantity=5)
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 5}


async def test_an_op_made_for_the_old_tracking_type_is_refused_with_the_servers(shop):
    body = refused(await shop.op("receive", part="SN-PART", tracking="lot", location="DOCK", quantity=1, lot="L"),
                   409, "tracking_changed", "args.tracking")
    assert body["server_tracking"] == "serial"
    assert await shop.items() == []


# ---- move -----------------------------------------------------------------------------------------
async def test_move_serial_must_name_where_the_unit_is(shop):
    await shop.ok("receive", **SERIAL, location="DOCK", quantity=1, serial="SN-1")
    body = refused(await shop.op("move", **SERIAL, serial="SN-1", from_location="SHELF", to_location="LINE",
                                 quantity=1), 409, "stale_location", "args.serial")
    assert body["actual_location"] == "DOCK"
    result = await shop.ok("move", **SERIAL, serial="SN-1", from_location="DOCK", to_location="LINE", quantity=1)
    assert result["location"] == "LINE"
    assert (await one(shop, serial="SN-1"))["location"] == "LINE"


async def test_move_part_of_a_lot_splits_the_row_and_moving_the_rest_merges_it(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    await shop.ok("move", **LOT, lot="LOT-A", from_location="DOCK", to_location="SHELF", quantity=4)
    assert await quantities(shop, "LOT-PART") == {
        ("DOCK", "LOT-A", "available"): 6, ("SHELF", "LOT-A", "available"): 4,
    }
    await shop.ok("move", **LOT, lot="LOT-A", from_location="DOCK", to_location="SHELF", quantity=6)
    assert await quantities(shop, "LOT-PART") == {("SHELF", "LOT-A", "available"): 10}
    emptied = await shop.items(part="LOT-PART", location="DOCK", include_empty=True)
    assert [(row["quantity"], row["status"]) for row in emptied] == [(0, "unavailable")]  # kept, never deleted


async def test_move_untracked_quantity(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=100)
    await shop.ok("move", **BULK, from_location="DOCK", to_location="LINE", quantity=30)
    await shop.ok("move", **BULK, from_location="DOCK", to_location="LINE", quantity=20)
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 50, ("LINE", None, "available"): 50}


async def test_move_more_than_is_there_says_how_much_is(shop):
    await shop.ok("receive", **LOT, location="DOCK", quantity=10, lot="LOT-A")
    body = refused(await shop.op("move", **LOT, lot="LOT-A", from_location="DOCK", to_location="SHELF", quantity=11),
                   409, "insufficient_quantity", "args.quantity")
    assert body["available"] == 10
    body = refused(await shop.op("move", **LOT, lot="LOT-B", from_location="DOCK", to_location="SHELF", quantity=1),
                   409, "insufficient_quantity")
    assert body["available"] == 0
    assert await quantities(shop, "LOT-PART") == {("DOCK", "LOT-A", "available"): 10}


async def test_move_to_the_same_location_is_invalid(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    refused(await shop.op("move", **BULK, from_location="DOCK", to_location="DOCK", quantity=1), 422, "invalid",
            "args.to_location")


async def test_move_out_of_or_into_a_locked_location_names_it(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    await shop.patch("/api/locations/LINE", {"count_locked": True})
    refused(await shop.op("move", **BULK, from_location="DOCK", to_location="LINE", quantity=1), 409,
            "location_locked", "args.to_location")
    await shop.patch("/api/locations/LINE", {"count_locked": False})
    await shop.patch("/api/locations/DOCK", {"count_locked": True})
    refused(await shop.op("move", **BULK, from_location="DOCK", to_location="LINE", quantity=1), 409,
            "location_locked", "args.from_location")
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 10}


# ---- op ids ---------------------------------------------------------------------------------------
async def test_a_repeated_op_id_answers_the_first_result_and_applies_once(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=10)
    op_id = str(uuid.uuid4())
    args = {**BULK, "from_location": "DOCK", "to_location": "LINE", "quantity": 4}
    first = await shop.op("move", op_id=op_id, **args)
    again = await shop.op("move", op_id=op_id, **args)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["replayed"] is False and again.json()["replayed"] is True
    assert again.json()["result"] == first.json()["result"]
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 6, ("LINE", None, "available"): 4}

    reused = await shop.op("move", op_id=op_id, **{**args, "quantity": 5})
    refused(reused, 409, "op_id_reused", "op_id")
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 6, ("LINE", None, "available"): 4}


async def test_a_refused_op_can_be_corrected_and_sent_again_under_the_same_id(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=3)
    op_id = str(uuid.uuid4())
    args = {**BULK, "from_location": "DOCK", "to_location": "LINE"}
    refused(await shop.op("move", op_id=op_id, **args, quantity=5), 409, "insufficient_quantity")
    assert (await shop.op("move", op_id=op_id, **args, quantity=3)).status_code == 201
    assert await quantities(shop, "BULK") == {("LINE", None, "available"): 3}


# ---- validation -----------------------------------------------------------------------------------
async def test_invalid_args_name_the_field(shop):
    cases = [
        ({**BULK, "location": "DOCK", "quantity": 0}, "args.quantity"),
        ({**BULK, "location": "DOCK", "quantity": "three"}, "args.quantity"),
        ({**BULK, "location": "DOCK"}, "args.quantity"),
        ({**BULK, "location": "DOCK", "quantity": 1, "colour": "red"}, "args.colour"),
        ({"part": "BULK", "tracking": "bulk", "location": "DOCK", "quantity": 1}, "args.tracking"),
        ({**BULK, "location": " ", "quantity": 1}, "args.location"),
    ]
    for args, field in cases:
        body = refused(await shop.op("receive", **args), 422, "invalid", field)
        assert field in body["detail"]
    assert await shop.items() == []


async def test_an_unknown_op_type_is_refused(shop):
    refused(await shop.op("teleport", **BULK, location="DOCK", quantity=1), 422, "unknown_op_type", "type")


async def test_a_malformed_op_body_is_invalid(shop):
    response = await shop.post("/api/ops", {"op_id": "not-a-uuid", "type": "receive", "args": {}})
    refused(response, 422, "invalid", "op_id")


# ---- the trail ------------------------------------------------------------------------------------
async def test_every_op_writes_the_activity_log_and_the_ledger_matches_stock_on_hand(shop, db):
    steps = [
        ("receive", "operator", {**LOT, "location": "DOCK", "quantity": 10, "lot": "LOT-A"}, ["Add"]),
        ("receive", "operator", {**SERIAL, "location": "DOCK", "quantity": 1, "serial": "SN-1"}, ["Add"]),
        ("receive", "operator", {"part": "ASM", "tracking": "serial", "location": "LINE", "quantity": 1}, ["Add"]),
        ("receive", "operator", {**BULK, "location": "DOCK", "quantity": 50}, ["Add"]),
        ("move", "operator", {**LOT, "lot": "LOT-A", "from_location": "DOCK", "to_location": "SHELF",
                              "quantity": 3}, ["Move"]),
        ("install", "operator", {**SERIAL, "serial": "SN-1", "parent_serial": "ASM-1", "quantity": 1},
         ["Assemble"]),
        ("install", "operator", {**LOT, "lot": "LOT-A", "parent_serial": "ASM-1", "from_location": "SHELF",
                                 "quantity": 2}, ["Assemble"]),
        ("move", "operator", {"part": "ASM", "tracking": "serial", "serial": "ASM-1", "from_location": "LINE",
                              "to_location": "SHELF", "quantity": 1}, ["Move"]),
        ("uninstall", "operator", {**LOT, "lot": "LOT-A", "parent_serial": "ASM-1", "to_location": "DOCK",
                                   "quantity": 1}, ["Disassemble"]),
        ("scrap", "operator", {**BULK, "location": "DOCK", "quantity": 5, "reason": "bent"}, ["Scrap"]),
        ("isolate", "operator", {**LOT, "lot": "LOT-A", "location": "DOCK", "quantity": 2, "reason": "MRB"},
         ["Isolate"]),
        ("move", "operator", {**LOT, "lot": "LOT-A", "from_location": "DOCK", "to_location": "MRB", "quantity": 2,
                              "isolated": True}, ["Move"]),
        ("release", "operator", {**LOT, "lot": "LOT-A", "location": "MRB", "quantity": 1}, ["Release"]),
        ("adjust", "supervisor", {**BULK, "location": "DOCK", "delta": -3, "reason": "count"}, ["Adjust"]),
        ("split", "operator", {**LOT, "lot": "LOT-A", "location": "DOCK", "quantity": 2, "new_lot": "LOT-B"},
         ["Split", "Split"]),  # out of LOT-A, into LOT-B
        ("merge", "operator", {**LOT, "lots": ["LOT-A", "LOT-B"], "into_lot": "LOT-A", "location": "DOCK"},
         ["Merge", "Merge"]),  # out of LOT-B, into LOT-A
        ("uninstall", "operator", {**SERIAL, "serial": "SN-1", "parent_serial": "ASM-1", "to_location": "LINE",
                                   "quantity": 1}, ["Disassemble"]),
    ]
    for op_type, role, args, actions in steps:
        op_id = str(uuid.uuid4())
        response = await shop.op(op_type, role, op_id=op_id, **args)
        assert response.status_code == 201, (op_type, response.text)
        log = (await shop.get("/api/activity", params={"op_id": op_id})).json()["items"]
        assert [entry["action"] for entry in log] == actions, (op_type, log)
        assert all(entry["actor"] == role and entry["op_type"] == op_type for entry in log)
        assert all(entry["part"] == args["part"] for entry in log)
        async with db.read() as session:
            assert await ledger_sums(session) == await on_hand(session), op_type

    assert await quantities(shop, "LOT-PART") == {
        ("DOCK", "LOT-A", "available"): 6, ("MRB", "LOT-A", "unavailable"): 2,  # MRB: isolated 1 + released 1
        ("SHELF", "LOT-A", "available"): 1, ("SHELF", "LOT-A", "installed"): 1,  # installed follows ASM-1
    }
    assert await quantities(shop, "BULK") == {("DOCK", None, "available"): 42, ("DOCK", None, "scrapped"): 5}
    assert (await one(shop, serial="SN-1"))["location"] == "LINE"
    assert (await one(shop, part="LOT-PART", status="installed"))["location"] == "SHELF"
