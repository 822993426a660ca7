"""Where a delivery is (docs/costs.md, "Where a delivery is"): a layer follows its stock through moves, splits,
merges, isolation and installs; the FIFO report says where each delivery's parts are; a location's valuation
is what its rows hold, exactly; and built stock is worth what its components cost ("Built stock"). Through the
HTTP API, on both engines."""

from __future__ import annotations

from typing import Any

from tests.integration.ops_support import shop  # noqa: F401 - fixture
from tests.integration.production_support import BOARD, GLUE, SCREW, act, make_run, plant, set_bom  # noqa: F401
from tests.integration.test_costs import got

LOT = {"part": "LOT-PART", "tracking": "lot"}
BULK = {"part": "BULK", "tracking": "untracked"}


async def where(api: Any, part: str) -> dict[str, list[tuple[Any, ...]]]:
    """{package ref: [(location path, lot, installed in, quantity)]} of the part's open layers."""
    layers = await got(api, "/api/costs/layers", part=part, open="true")
    return {
        layer["package_ref"]: [(h["path"], h["serial"] or h["lot"], h["installed_in"], h["quantity"]) for h in layer["held"]]
        for layer in layers["items"]
    }


async def values(api: Any, location: str | None = None) -> dict[str, str]:
    found = await got(api, "/api/valuation", "supervisor", **({"location": location} if location else {}))
    return {item["part"]: item["fifo_value"] for item in found["items"]} | {"total": found["fifo_value"]}


async def test_a_deliverys_layer_follows_its_stock_through_moves_splits_and_merges(shop):
    await shop.location("STORE")
    await shop.location("BIN-1", parent="STORE")
    await shop.ok("receive", **LOT, lot="L-A", location="DOCK", quantity=10, unit_cost="1.00", package_ref="DN-1")
    await shop.ok("receive", **LOT, lot="L-A", location="DOCK", quantity=5, package_price="10.00", package_ref="DN-2")
    # one row holds both deliveries; moving 12 takes its oldest: all of DN-1 and 2 of DN-2
    moved = await shop.ok("move", **LOT, lot="L-A", from_location="DOCK", to_location="BIN-1", quantity=12)
    assert moved["quantity"] == 12
    assert await where(shop, "LOT-PART") == {
        "DN-1": [("STORE / BIN-1", "L-A", None, 10)],
        "DN-2": [("DOCK", "L-A", None, 3), ("STORE / BIN-1", "L-A", None, 2)],
    }
    # a split re-labels the row's oldest; the merge back gives the merged row each layer it had
    await shop.ok("split", **LOT, lot="L-A", location="BIN-1", quantity=4, new_lot="L-B")
    split = await where(shop, "LOT-PART")
    assert sorted(split["DN-1"]) == [("STORE / BIN-1", "L-A", None, 6), ("STORE / BIN-1", "L-B", None, 4)]
    assert split["DN-2"] == [("DOCK", "L-A", None, 3), ("STORE / BIN-1", "L-A", None, 2)]
    await shop.ok("isolate", **LOT, lot="L-B", location="BIN-1", quantity=4, reason="check")
    await shop.ok("release", **LOT, lot="L-B", location="BIN-1", quantity=4, reason="fine")
    await shop.ok("merge", **LOT, lots=["L-B"], into_lot="L-A", location="BIN-1")
    assert await where(shop, "LOT-PART") == {
        "DN-1": [("STORE / BIN-1", "L-A", None, 10)],
        "DN-2": [("DOCK", "L-A", None, 3), ("STORE / BIN-1", "L-A", None, 2)],
    }
    # a location's value is what its rows hold: 3 × 2.00 at the dock, 10 × 1.00 + 2 × 2.00 in the store
    assert await values(shop, "DOCK") == {"LOT-PART": "6.00", "total": "6.00"}
    assert await values(shop, "STORE") == {"LOT-PART": "14.00", "total": "14.00"}
    assert await values(shop) == {"LOT-PART": "20.00", "total": "20.00"}
    # stock that leaves a row takes that row's oldest layers (FIFO within the stock that leaves)
    used = await shop.ok("remove", **LOT, lot="L-A", location="BIN-1", quantity=11, reason="maintenance")
    assert used["cost"] == "12.00"  # 10 × 1.00 of DN-1, 1 × 2.00 of DN-2
    assert await where(shop, "LOT-PART") == {"DN-2": [("DOCK", "L-A", None, 3), ("STORE / BIN-1", "L-A", None, 1)]}
    assert await values(shop, "STORE") == {"LOT-PART": "2.00", "total": "2.00"}
    chart = await got(shop, "/api/valuation", "supervisor", location="DOCK")
    assert chart["items"][0]["quantity"] == 3


async def test_the_specs_example_in_one_place_and_a_count_adjustment(shop):
    await shop.ok("receive", **BULK, location="SHELF", quantity=60, package_price="126.00", package_ref="DN-1")
    await shop.ok("receive", **BULK, location="SHELF", quantity=50, unit_cost="2.00", package_ref="DN-2")
    used = await shop.ok("remove", **BULK, location="SHELF", quantity=70, reason="maintenance")
    assert used["cost"] == "146.00"
    assert await values(shop, "SHELF") == {"BULK": "80.00", "total": "80.00"}
    # found stock comes at the average price, held where it was found; a loss takes that row's oldest
    found = await shop.ok("adjust", "supervisor", **BULK, location="DOCK", delta=2, reason="count")
    assert found["unit_cost"] == "2.054545"
    assert await where(shop, "BULK") == {"DN-2": [("SHELF", None, None, 40)], None: [("DOCK", None, None, 2)]}
    lost = await shop.ok("adjust", "supervisor", **BULK, location="SHELF", delta=-5, reason="count")
    assert lost["cost"] == "10.00"
    assert await values(shop) == {"BULK": "74.10909", "total": "74.10909"}  # 35 × 2.00 + 2 × 2.054545


async def test_an_install_takes_the_layers_with_the_stock_into_the_assembly(shop):
    await shop.ok("receive", part="ASM", tracking="serial", serial="ASM-1", location="LINE", quantity=1,
                  unit_cost="100.00", package_ref="DN-A")
    await shop.ok("receive", **BULK, location="DOCK", quantity=10, unit_cost="0.50", package_ref="DN-9")
    await shop.ok("install", **BULK, parent_serial="ASM-1", from_location="DOCK", quantity=4)
    assert await where(shop, "BULK") == {"DN-9": [("DOCK", None, None, 6), ("LINE", None, "ASM-1", 4)]}
    assert await where(shop, "ASM") == {"DN-A": [("LINE", "ASM-1", None, 1)]}
    assert await values(shop, "LINE") == {"ASM": "100.00", "BULK": "2.00", "total": "102.00"}
    await shop.ok("move", part="ASM", tracking="serial", serial="ASM-1", from_location="LINE", to_location="SHELF",
                  quantity=1)
    assert await values(shop, "SHELF") == {"ASM": "100.00", "BULK": "2.00", "total": "102.00"}
    await shop.ok("uninstall", **BULK, parent_serial="ASM-1", to_location="DOCK", quantity=4)
    assert await where(shop, "BULK") == {"DN-9": [("DOCK", None, None, 10)]}


async def test_a_run_values_what_it_built_at_the_fifo_cost_of_its_components(plant):
    await plant.ok("receive", **BOARD, serial="BD-1", location="STORES", quantity=1, unit_cost="30.00")
    await plant.ok("receive", **BOARD, serial="BD-2", location="STORES", quantity=1, unit_cost="31.00")
    await plant.ok("receive", **GLUE, lot="G-1", location="STORES", quantity=2, unit_cost="10.00", expiry="2099-06-30")
    await plant.ok("receive", **GLUE, lot="G-2", location="STORES", quantity=1, unit_cost="12.00", expiry="2099-01-31")
    await plant.ok("receive", **SCREW, location="STORES", quantity=100, unit_cost="0.05")
    await make_run(plant, number="RUN-1")
    await act(plant, "RUN-1", "start")
    for serial in ("BD-1", "BD-2"):
        await plant.ok("issue", **BOARD, run="RUN-1", serial=serial, from_location="STORES", quantity=1)
    await plant.ok("issue", **GLUE, run="RUN-1", lot="G-2", from_location="STORES", quantity="0.5")
    await plant.ok("issue", **SCREW, run="RUN-1", from_location="STORES", quantity=8)
    before = await values(plant)
    await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE")
    await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE", serials=["PU-X"])
    # each pump: its board, 0.25 kg of G-2 at 12.00 and 4 screws at 0.05 — value moved, none made or lost
    pumps = (await got(plant, "/api/costs/layers", part="PUMP"))["items"]
    assert [(p["kind"], p["unit_cost"], p["held"][0]["serial"], p["held"][0]["location"]) for p in pumps] == [
        ("produced", "33.20", "PU-0001", "LINE"), ("produced", "34.20", "PU-X", "LINE")]
    after = await values(plant)
    assert after["total"] == before["total"] == "98.00"  # boards 61.00, glue 32.00, screws 5.00: all of it, still
    assert (after["PUMP"], after["BOARD"], after["GLUE"], after["SCREW"]) == ("67.40", "0.00", "26.00", "4.60")
    usage = await got(plant, "/api/usage", reason="consumed by run RUN-1")
    assert sorted((u["part"], u["serial"] or u["lot"], u["quantity"], u["cost"], u["reference"]) for u in usage["items"]) == [
        ("BOARD", "BD-1", 1, "30.00", "RUN-1"), ("BOARD", "BD-2", 1, "31.00", "RUN-1"),
        ("GLUE", "G-2", "0.25", "3.00", "RUN-1"), ("GLUE", "G-2", "0.25", "3.00", "RUN-1"),
        ("SCREW", None, 4, "0.20", "RUN-1"), ("SCREW", None, 4, "0.20", "RUN-1"),
    ]
    assert usage["total_cost"] == "67.40"
    # the boards are built in, held at no cost (their value is the pumps'): counted once; a layer per completion
    boards = (await got(plant, "/api/costs/layers", part="BOARD", open="true"))["items"]
    assert [(b["kind"], b["unit_cost"], [h["installed_in"] for h in b["held"]]) for b in boards] == [
        ("built_in", "0.00", ["PU-0001"]), ("built_in", "0.00", ["PU-X"])]


async def test_a_built_lot_spreads_its_cost_with_the_remainder_on_the_last_unit(plant):
    await plant.part("MIX", "lot", unit="pcs")
    await set_bom(plant, "MIX", [{"part": "SCREW", "quantity": 1}])
    await plant.ok("receive", **SCREW, location="STORES", quantity=1, unit_cost="10.00")
    await plant.ok("receive", **SCREW, location="STORES", quantity=2, unit_cost="0.00")
    await make_run(plant, number="RUN-M", part="MIX", quantity=3)
    await act(plant, "RUN-M", "start")
    await plant.ok("issue", **SCREW, run="RUN-M", from_location="STORES", quantity=3)
    built = await plant.ok("complete_run", run="RUN-M", quantity=3, location="LINE")
    assert built["lot"] == "RUN-M"
    layers = (await got(plant, "/api/costs/layers", part="MIX"))["items"]
    assert [(x["kind"], x["quantity_received"], x["unit_cost"]) for x in layers] == [
        ("produced", 2, "3.333333"), ("produced", 1, "3.333334")]
    assert (await values(plant, "LINE"))["MIX"] == "10.00"


async def test_the_valuation_stays_exact_at_the_largest_amounts(shop):
    # 10,000,000 units at the largest unit cost: past 64-bit integers in millionths (SQLite sums it another way)
    await shop.ok("receive", **BULK, location="DOCK", quantity=10_000_000, unit_cost="999999999999.999999")
    await shop.ok("receive", **BULK, location="DOCK", quantity=3, unit_cost="0.000001")
    assert await values(shop) == {"BULK": "9999999999999999990.000003", "total": "9999999999999999990.000003"}
    assert await values(shop, "DOCK") == {"BULK": "9999999999999999990.000003", "total": "9999999999999999990.000003"}
