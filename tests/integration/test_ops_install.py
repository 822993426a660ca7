"""Install and uninstall through POST /api/ops: serialized units and lot quantities onto the as-built
BOM of a serialized assembly, which carries them along when it moves."""

from __future__ import annotations

import pytest

from tests.integration.ops_support import ledger_sums, on_hand, one, quantities, refused, shop  # noqa: F401

SERIAL = {"part": "SN-PART", "tracking": "serial"}
ASM = {"part": "ASM", "tracking": "serial"}
LOT = {"part": "LOT-PART", "tracking": "lot"}


@pytest.fixture
async def bench(shop):
    """Assembly ASM-1 on the LINE, unit SN-1 and 10 of LOT-A on the SHELF."""
    await shop.ok("receive", **ASM, location="LINE", quantity=1)
    await shop.ok("receive", **SERIAL, location="SHELF", quantity=1, serial="SN-1")
    await shop.ok("receive", **LOT, location="SHELF", quantity=10, lot="LOT-A")
    return shop


async def test_install_a_unit_into_an_assembly_and_uninstall_it(bench, db):
    result = await bench.ok("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", from_location="SHELF",
                            quantity=1)
    assert (result["installed_in"], result["location"]) == ("ASM-1", "LINE")
    unit = await one(bench, serial="SN-1")
    assert (unit["status"], unit["installed_in"], unit["location"]) == ("installed", "ASM-1", "LINE")
    assert await bench.items(location="SHELF", status="available", part="SN-PART") == []

    await bench.ok("uninstall", **SERIAL, serial="SN-1", parent_serial="ASM-1", to_location="DOCK", quantity=1)
    unit = await one(bench, serial="SN-1")
    assert (unit["status"], unit["installed_in"], unit["location"]) == ("available", None, "DOCK")
    history = (await bench.get("/api/units/SN-1/history")).json()
    assert [(a["parent_serial"], a["removed_at"] is not None) for a in history["assemblies"]] == [("ASM-1", True)]
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_install_a_lot_quantity_and_take_part_of_it_back(bench, db):
    await bench.ok("install", **LOT, lot="LOT-A", parent_serial="ASM-1", from_location="SHELF", quantity=3)
    assert await quantities(bench, "LOT-PART") == {
        ("SHELF", "LOT-A", "available"): 7, ("LINE", "LOT-A", "installed"): 3,
    }
    installed = await one(bench, part="LOT-PART", status="installed")
    assert installed["installed_in"] == "ASM-1"

    await bench.ok("uninstall", **LOT, lot="LOT-A", parent_serial="ASM-1", to_location="SHELF", quantity=2)
    assert await quantities(bench, "LOT-PART") == {
        ("SHELF", "LOT-A", "available"): 9, ("LINE", "LOT-A", "installed"): 1,
    }
    body = refused(await bench.op("uninstall", **LOT, lot="LOT-A", parent_serial="ASM-1", to_location="SHELF",
                                  quantity=2), 409, "insufficient_quantity", "args.quantity")
    assert body["available"] == 1
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)


async def test_installed_stock_follows_its_assembly_at_any_depth(bench):
    await bench.ok("receive", **ASM, location="DOCK", quantity=1)  # ASM-2, the top assembly
    await bench.ok("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", quantity=1)
    await bench.ok("install", **LOT, lot="LOT-A", parent_serial="ASM-1", from_location="SHELF", quantity=4)
    await bench.ok("install", **ASM, serial="ASM-1", parent_serial="ASM-2", quantity=1)
    assert {(i["serial"] or i["lot"], i["location"]) for i in await bench.items(status="installed")} == {
        ("SN-1", "DOCK"), ("LOT-A", "DOCK"), ("ASM-1", "DOCK"),
    }
    await bench.ok("move", **ASM, serial="ASM-2", from_location="DOCK", to_location="SHELF", quantity=1)
    assert {(i["serial"] or i["lot"], i["location"]) for i in await bench.items(status="installed")} == {
        ("SN-1", "SHELF"), ("LOT-A", "SHELF"), ("ASM-1", "SHELF"),
    }
    assert (await one(bench, serial="ASM-2"))["location"] == "SHELF"


async def test_an_installed_unit_cannot_be_installed_again_or_moved_on_its_own(bench):
    await bench.ok("receive", **ASM, location="LINE", quantity=1)  # ASM-2
    await bench.ok("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", quantity=1)
    body = refused(await bench.op("install", **SERIAL, serial="SN-1", parent_serial="ASM-2", quantity=1), 409,
                   "already_installed", "args.serial")
    assert "ASM-1" in body["detail"]
    refused(await bench.op("move", **SERIAL, serial="SN-1", from_location="LINE", to_location="DOCK", quantity=1),
            409, "stale_location", "args.serial")
    refused(await bench.op("uninstall", **SERIAL, serial="SN-1", parent_serial="ASM-2", to_location="DOCK",
                           quantity=1), 409, "stale_location", "args.serial")
    assert (await one(bench, serial="SN-1"))["installed_in"] == "ASM-1"


async def test_a_unit_cannot_go_inside_itself(bench):
    refused(await bench.op("install", **ASM, serial="ASM-1", parent_serial="ASM-1", quantity=1), 422, "invalid",
            "args.serial")
    await bench.ok("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", quantity=1)
    # ASM-1 into SN-1, which sits inside ASM-1: a cycle
    refused(await bench.op("install", **ASM, serial="ASM-1", parent_serial="SN-1", quantity=1), 422, "invalid",
            "args.serial")
    await bench.ok("receive", **ASM, location="LINE", quantity=1)  # ASM-2
    await bench.ok("install", **ASM, serial="ASM-2", parent_serial="SN-1", quantity=1)
    refused(await bench.op("install", **ASM, serial="ASM-1", parent_serial="ASM-2", quantity=1), 422, "invalid",
            "args.serial")
    assert (await one(bench, serial="ASM-1"))["status"] == "available"


async def test_install_needs_a_live_parent_and_free_stock(bench):
    refused(await bench.op("install", **SERIAL, serial="SN-1", parent_serial="ASM-9", quantity=1), 404,
            "unknown_reference", "args.parent_serial")
    body = refused(await bench.op("install", **LOT, lot="LOT-A", parent_serial="ASM-1", quantity=1), 409,
                   "insufficient_quantity", "args.quantity")  # no from_location: taken where the assembly is
    assert body["available"] == 0
    refused(await bench.op("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", from_location="DOCK",
                           quantity=1), 409, "stale_location", "args.serial")
    await bench.ok("isolate", **SERIAL, serial="SN-1", location="SHELF", quantity=1, reason="suspect")
    refused(await bench.op("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", quantity=1), 409,
            "insufficient_quantity", "args.serial")
    await bench.ok("scrap", **ASM, serial="ASM-1", location="LINE", quantity=1, reason="dropped")
    refused(await bench.op("install", **LOT, lot="LOT-A", parent_serial="ASM-1", from_location="SHELF", quantity=1),
            409, "stale_location", "args.parent_serial")
    assert await quantities(bench, "LOT-PART") == {("SHELF", "LOT-A", "available"): 10}


async def test_install_at_an_assembly_in_a_locked_location_is_held(bench):
    await bench.patch("/api/locations/LINE", {"count_locked": True})
    refused(await bench.op("install", **SERIAL, serial="SN-1", parent_serial="ASM-1", quantity=1), 409,
            "location_locked", "args.parent_serial")
    assert (await one(bench, serial="SN-1"))["status"] == "available"
