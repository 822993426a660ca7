"""Parts, locations and suppliers through the HTTP API.

The tests of this module share one database per engine (building one costs more than most tests here);
each test uses its own part numbers, location codes and supplier names.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.schema import METADATA
from server.settings import Settings
from tests.conftest import PASSWORD, Api
from tests.dbs import ENGINES, fresh_database


@pytest.fixture(scope="module", params=ENGINES)
async def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """conftest's `api`, one per engine for the whole module."""
    tmp: Path = tmp_path_factory.mktemp("catalog")
    async with fresh_database(request.param, tmp) as url:
        db = Database(Settings(database_url=url, scrypt_log2_n=4))
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        auth = AuthService(db)
        tokens = {}
        for role in ("operator", "supervisor", "admin"):
            await auth.add_user(role, role, PASSWORD)
            tokens[role] = (await auth.issue(role, PASSWORD)).access_token
        transport = httpx.ASGITransport(app=create_app(db.settings, db))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            yield Api(client, tokens)
        await db.dispose()


def assert_problem(response: Any, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["type"], body["status"]) == (f"/problems/{slug}", status)
    if field is not None:
        assert body.get("field") == field, body
    return body


# ---- parts --------------------------------------------------------------------------------------
async def test_parts_create_read_update(api: Api) -> None:
    created = await api.post("/api/parts", {"part_number": "CTRL-100", "tracking": "serial"}, "supervisor")
    assert created.status_code == 201, created.text
    part = created.json()
    uuid.UUID(part["id"])
    assert {k: part[k] for k in ("part_number", "tracking", "unit", "revision", "description")} == {
        "part_number": "CTRL-100", "tracking": "serial", "unit": "ea", "revision": "", "description": "",
    }
    assert (part["serial_pattern"], part["lot_pattern"]) == (None, None)

    by_id = (await api.get(f"/api/parts/{part['id']}")).json()
    by_number = (await api.get("/api/parts/CTRL-100")).json()
    assert by_id == by_number == part
    assert_problem(await api.get("/api/parts/NOPE-1"), 404, "unknown-reference", "part")

    duplicate = await api.post("/api/parts", {"part_number": "CTRL-100", "tracking": "lot"}, "supervisor")
    assert_problem(duplicate, 409, "already-exists", "part_number")

    changes = {"description": "Motor controller", "revision": "C", "unit": "pcs", "serial_pattern": "CTRL-{yy}{seq:05}"}
    patched = await api.patch(f"/api/parts/{part['id']}", changes)
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in changes} == changes
    assert patched.json()["version"] > part["version"]
    assert (await api.get("/api/parts/CTRL-100")).json() == patched.json()
    cleared = await api.patch("/api/parts/CTRL-100", {"serial_pattern": None})
    assert cleared.json()["serial_pattern"] is None
    assert cleared.json()["description"] == "Motor controller"  # fields not sent stay as they were


async def test_invalid_parts_are_refused_naming_the_field(api: Api) -> None:
    await api.part("PN-1", "lot")
    cases = [
        ({"part_number": "PN-2", "tracking": "lot", "lot_pattern": "LOT-{yyyy}"}, "lot_pattern", "exactly one {seq}"),
        ({"part_number": "PN-2", "tracking": "serial", "serial_pattern": "SN-{seq:5}"}, "serial_pattern", "{seq:0N}"),
        ({"part_number": "PN-2", "tracking": "serial", "serial_pattern": "{week}{seq}"}, "serial_pattern", "{week}"),
        ({"part_number": "PN-2", "tracking": "lot", "lot_pattern": "x" * 65 + "{seq}"}, "lot_pattern", "length"),
        ({"part_number": "P" * 65, "tracking": "lot"}, "part_number", "length"),
        ({"part_number": " PN-2", "tracking": "lot"}, "part_number", None),
        ({"part_number": "PN-2", "tracking": "batch"}, "tracking", "enum"),
        ({"part_number": "PN-2"}, "tracking", "missing"),
        ({"part_number": "PN-2", "tracking": "lot", "colour": "red"}, "colour", "unknown"),
    ]
    for body, field, says in cases:
        refused = assert_problem(await api.post("/api/parts", body, "supervisor"), 422, "invalid", field)
        assert refused["reason"] == "invalid"
        if says:
            assert says in refused["detail"], refused
    assert_problem(await api.get("/api/parts/PN-2"), 404, "unknown-reference")

    bad_patch = await api.patch("/api/parts/PN-1", {"lot_pattern": "LOT-{seq}-{seq}"})
    assert_problem(bad_patch, 422, "invalid", "lot_pattern")
    assert (await api.get("/api/parts/PN-1")).json()["lot_pattern"] is None


async def test_part_numbers_with_a_slash_are_addressable_and_the_list_searches(api: Api) -> None:
    for number, description in [("BRKT-7/A", "Bracket left"), ("BRKT-7/B", "Bracket right"), ("CAP-1", "Capacitor")]:
        await api.part(number, "untracked", description=description)
    assert (await api.get("/api/parts/BRKT-7/A")).json()["description"] == "Bracket left"
    patched = await api.patch("/api/parts/BRKT-7/B", {"description": "Bracket, right hand"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["part_number"] == "BRKT-7/B"

    page = (await api.get("/api/parts", params={"q": "brkt-7"})).json()
    assert [p["part_number"] for p in page["items"]] == ["BRKT-7/A", "BRKT-7/B"]
    assert page["total"] == 2
    by_description = (await api.get("/api/parts", params={"q": "CAPACITOR"})).json()
    assert [p["part_number"] for p in by_description["items"]] == ["CAP-1"]
    second = (await api.get("/api/parts", params={"q": "brkt-7", "limit": 1, "offset": 1})).json()
    assert ([p["part_number"] for p in second["items"]], second["total"]) == (["BRKT-7/B"], 2)
    assert (await api.get("/api/parts", params={"q": "_"})).json()["total"] == 0  # a literal underscore


async def test_tracking_switches_follow_the_rules_and_say_what_blocks_them(api: Api) -> None:
    await api.location("DOCK-SW")
    await api.part("SN-PART", "serial")
    for serial in ("SN-1", "SN-2"):
        await api.ok("receive", part="SN-PART", tracking="serial", location="DOCK-SW", quantity=1, serial=serial)
    blocked = assert_problem(await api.patch("/api/parts/SN-PART", {"tracking": "lot"}, "admin"), 409,
                             "tracking-switch-blocked", "tracking")
    assert blocked["blocking_rows"] == 2
    assert blocked["reason"] == "tracking_switch_blocked"
    assert "2 serialized units" in blocked["detail"]
    assert (await api.get("/api/parts/SN-PART")).json()["tracking"] == "serial"

    # Only live rows block: once both units are scrapped, the switch goes through.
    for serial in ("SN-1", "SN-2"):
        await api.ok("scrap", part="SN-PART", tracking="serial", serial=serial, location="DOCK-SW", quantity=1, reason="x")
    assert (await api.patch("/api/parts/SN-PART", {"tracking": "lot"}, "admin")).json()["tracking"] == "lot"

    # untracked → serial is allowed with stock on hand.
    await api.part("BULK", "untracked")
    await api.ok("receive", part="BULK", tracking="untracked", location="DOCK-SW", quantity=50)
    assert (await api.patch("/api/parts/BULK", {"tracking": "serial"}, "admin")).json()["tracking"] == "serial"


async def test_a_refused_switch_names_its_blocking_rows_and_what_ends_each(api: Api) -> None:
    """Installed units block too; the advice for each kind names an op that exists, and following it works."""
    await api.location("DOCK-BL")
    await api.part("SWB-PART", "serial")
    await api.part("ASM-BL", "serial")
    await api.ok("receive", part="ASM-BL", tracking="serial", location="DOCK-BL", quantity=1, serial="ASM-B1")
    for serial in ("SWB-1", "SWB-2", "SWB-3"):
        await api.ok("receive", part="SWB-PART", tracking="serial", location="DOCK-BL", quantity=1, serial=serial)
    unit = {"part": "SWB-PART", "tracking": "serial"}
    await api.ok("install", **unit, serial="SWB-1", parent_serial="ASM-B1", quantity=1)
    await api.ok("isolate", **unit, serial="SWB-2", location="DOCK-BL", quantity=1, reason="MRB")
    blocked = assert_problem(await api.patch("/api/parts/SWB-PART", {"tracking": "untracked"}, "admin"), 409,
                             "tracking-switch-blocked", "tracking")
    assert blocked["blocking_rows"] == 3
    assert [(k["kind"], k["rows"]) for k in blocked["blockers"]] == [("on_hand", 1), ("isolated", 1), ("installed", 1)]
    assert "consume" not in blocked["detail"] and "uninstall it from its assembly" in blocked["detail"]
    assert [(r["kind"], r["serial"], r["location"], r["installed_in"]) for r in blocked["rows"]] == [
        ("installed", "SWB-1", "DOCK-BL", "ASM-B1"), ("isolated", "SWB-2", "DOCK-BL", None), ("on_hand", "SWB-3", "DOCK-BL", None),
    ]

    # Following the advice for each kind ends the block.
    await api.ok("uninstall", **unit, serial="SWB-1", parent_serial="ASM-B1", to_location="DOCK-BL", quantity=1)
    await api.ok("adjust", "supervisor", **unit, serial="SWB-1", location="DOCK-BL", delta=-1, reason="switch")
    await api.ok("scrap", **unit, serial="SWB-2", location="DOCK-BL", quantity=1, reason="switch", isolated=True)
    still = assert_problem(await api.patch("/api/parts/SWB-PART", {"tracking": "untracked"}, "admin"), 409,
                           "tracking-switch-blocked", "tracking")
    assert (still["blocking_rows"], [r["serial"] for r in still["rows"]]) == (1, ["SWB-3"])
    await api.ok("scrap", **unit, serial="SWB-3", location="DOCK-BL", quantity=1, reason="switch")
    assert (await api.patch("/api/parts/SWB-PART", {"tracking": "untracked"}, "admin")).json()["tracking"] == "untracked"


async def test_a_pattern_whose_numbers_cannot_fit_is_refused_at_receive(api: Api) -> None:
    await api.location("DOCK-LONG")
    number = "W" * 60
    await api.part(number, "serial", serial_pattern="{part}{part}{seq:09}")
    refused = await api.op("receive", part=number, tracking="serial", location="DOCK-LONG", quantity=1)
    body = assert_problem(refused, 422, "invalid", "args.serial")
    assert "longer than 128" in body["detail"]
    assert await api.items(part=number) == []


# ---- locations ----------------------------------------------------------------------------------
async def test_locations_form_a_tree_addressed_by_code(api: Api) -> None:
    plant = await api.location("PLANT-1", name="Plant 1")
    stores = await api.location("PLANT-1/STORES", parent="PLANT-1")
    shelf = await api.location("PLANT-1/STORES/SHELF-3", parent=stores["id"])  # a parent by id
    mrb = await api.location("PLANT-1/MRB", parent="PLANT-1", kind="quarantine", available=False)
    assert (plant["parent"], plant["kind"], plant["available"], plant["count_locked"]) == (None, "normal", True, False)
    assert stores["parent"] == "PLANT-1"
    assert shelf["parent"] == "PLANT-1/STORES"  # answered as a code, however it was given
    assert (mrb["kind"], mrb["available"]) == ("quarantine", False)

    assert_problem(await api.post("/api/locations", {"code": "PLANT-1/MRB"}, "admin"), 409, "already-exists", "code")
    assert_problem(await api.post("/api/locations", {"code": "PLANT-1/X", "parent": "NOWHERE"}, "admin"), 404,
                   "unknown-reference", "parent")
    assert_problem(await api.post("/api/locations", {"code": "PLANT-1/Y", "kind": "attic"}, "admin"), 422,
                   "invalid", "kind")

    # Codes contain slashes, and PATCH takes the code as it is.
    locked = await api.patch("/api/locations/PLANT-1/STORES/SHELF-3", {"count_locked": True, "name": "Shelf three"})
    assert locked.status_code == 200, locked.text
    assert (locked.json()["count_locked"], locked.json()["name"], locked.json()["parent"]) == (
        True, "Shelf three", "PLANT-1/STORES",
    )
    moved = await api.patch(f"/api/locations/{shelf['id']}", {"parent": "PLANT-1"})
    assert moved.json()["parent"] == "PLANT-1"
    loop = await api.patch("/api/locations/PLANT-1", {"parent": "PLANT-1/STORES"})
    assert_problem(loop, 422, "invalid", "parent")
    assert_problem(await api.patch("/api/locations/PLANT-1", {"parent": "PLANT-1"}), 422, "invalid", "parent")
    assert_problem(await api.patch("/api/locations/NOWHERE", {"name": "x"}), 404, "unknown-reference")
    detached = await api.patch("/api/locations/PLANT-1/MRB", {"parent": None, "available": True})
    assert (detached.json()["parent"], detached.json()["available"]) == (None, True)

    listed = {loc["code"]: loc for loc in (await api.get("/api/locations", params={"q": "plant-1"})).json()}
    assert list(listed) == ["PLANT-1", "PLANT-1/MRB", "PLANT-1/STORES", "PLANT-1/STORES/SHELF-3"]
    assert {code: loc["parent"] for code, loc in listed.items()} == {
        "PLANT-1": None, "PLANT-1/MRB": None, "PLANT-1/STORES": "PLANT-1", "PLANT-1/STORES/SHELF-3": "PLANT-1",
    }
    searched = (await api.get("/api/locations", params={"q": "three"})).json()
    assert [loc["code"] for loc in searched] == ["PLANT-1/STORES/SHELF-3"]


async def test_a_count_locked_location_holds_operations(api: Api) -> None:
    await api.location("CAGE-A")
    await api.part("SCREW-M3", "untracked")
    await api.patch("/api/locations/CAGE-A", {"count_locked": True})
    held = await api.op("receive", part="SCREW-M3", tracking="untracked", location="CAGE-A", quantity=10)
    assert_problem(held, 409, "location-locked")
    await api.patch("/api/locations/CAGE-A", {"count_locked": False})
    assert (await api.ok("receive", part="SCREW-M3", tracking="untracked", location="CAGE-A", quantity=10))["quantity"] == 10


# ---- suppliers ----------------------------------------------------------------------------------
async def test_suppliers_are_created_once_and_found_by_autocomplete_prefix_first(api: Api) -> None:
    for name, code in [
        ("Mouser Electronics", "MOU"), ("Digi-Key", "DK"), ("Amouse Ltd", None), ("Moulded Parts", None),
        ("Best Mouse Co", "BMC"), ("100% Cotton Rags", None), ("Acme", "XMOUX"),
    ]:
        created = await api.post("/api/suppliers", {"name": name, "code": code})
        assert created.status_code == 201, created.text  # suppliers without a code do not clash
        assert (created.json()["name"], created.json()["code"]) == (name, code)
    assert_problem(await api.post("/api/suppliers", {"name": "digi-key"}), 409, "already-exists", "name")
    assert_problem(await api.post("/api/suppliers", {"name": "Other", "code": "DK"}), 409, "already-exists", "code")

    async def complete(q: str, **params: Any) -> list[str]:
        response = await api.get("/api/suppliers", params={"q": q, **params})
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()]

    # Names or codes starting with q first (by name), then those containing it.
    assert await complete("mou") == ["Moulded Parts", "Mouser Electronics", "Acme", "Amouse Ltd", "Best Mouse Co"]
    assert await complete("MOU", limit=2) == ["Moulded Parts", "Mouser Electronics"]
    assert await complete("dk") == ["Digi-Key"]
    assert await complete("%") == ["100% Cotton Rags"]  # a literal percent sign, not a wildcard
    assert await complete("_") == []
    all_names = [s["name"] for s in (await api.get("/api/suppliers")).json()]
    assert all_names == sorted(all_names) and len(all_names) >= 7


async def test_a_supplier_name_with_capitals_beyond_ascii_is_taken_once(api: Api) -> None:
    """SQLite's lower() folds ASCII only: a name is compared folded the same way on both sides (found by the
    contract run: the second create was a 500, a UNIQUE violation)."""
    created = await api.post("/api/suppliers", {"name": "Ärzte Ölmühle"})
    assert created.status_code == 201, created.text
    assert_problem(await api.post("/api/suppliers", {"name": "Ärzte Ölmühle"}), 409, "already-exists", "name")
    await api.part("PN-ÄU", "untracked")
    await api.location("DOCK-Ä")
    for _ in range(2):  # a receive names the supplier it creates on the fly, or finds
        await api.ok("receive", part="PN-ÄU", tracking="untracked", location="DOCK-Ä", quantity=1, supplier="Ärzte Ölmühle")
    names = [s["name"] for s in (await api.get("/api/suppliers", params={"limit": 100})).json()]
    assert names.count("Ärzte Ölmühle") == 1


async def test_master_data_changes_are_in_the_activity_log(api: Api) -> None:
    """Who changed which part or location, when, and each field from → to — next to the movements."""
    await api.location("AUD-SITE")
    await api.location("AUD-BIN", parent="AUD-SITE")
    await api.part("AUD-PART", "untracked", description="Bracket")
    await api.ok("receive", part="AUD-PART", tracking="untracked", location="AUD-BIN", quantity=5)
    assert (await api.patch("/api/parts/AUD-PART", {"description": "Bracket, steel", "revision": ""}, "supervisor")).status_code == 200
    assert (await api.patch("/api/parts/AUD-PART", {"tracking": "lot"}, "admin")).status_code == 200
    assert (await api.patch("/api/locations/AUD-BIN", {"available": False, "name": "Bin A"}, "supervisor")).status_code == 200
    refused = await api.patch("/api/parts/AUD-PART", {"tracking": "serial", "description": "x"}, "supervisor")
    assert refused.status_code == 403  # refused: leaves no trail

    part_log = (await api.get("/api/activity", params={"part": "AUD-PART"})).json()
    assert [(e["op_type"], e["action"], e["actor"], e["changes"]) for e in part_log["items"]] == [
        ("part_update", "Edit", "admin", [{"field": "tracking", "from": "untracked", "to": "lot"}]),
        ("part_update", "Edit", "supervisor", [{"field": "description", "from": "Bracket", "to": "Bracket, steel"}]),
        ("receive", "Add", "operator", None),
        ("part_create", "Create", "admin", [
            {"field": "part_number", "from": None, "to": "AUD-PART"}, {"field": "tracking", "from": None, "to": "untracked"},
            {"field": "description", "from": None, "to": "Bracket"}, {"field": "unit", "from": None, "to": "ea"},
        ]),
    ]
    assert part_log["total"] == 4
    switch = part_log["items"][0]
    assert (switch["part"], switch["reason"], switch["quantity"], switch["location"]) == (
        "AUD-PART", "tracking: untracked → lot", 0, None)
    assert switch["at"] >= part_log["items"][2]["at"]

    site_log = (await api.get("/api/activity", params={"location": "AUD-SITE"})).json()["items"]
    assert [(e["op_type"], e["location"], e["part"], e["changes"]) for e in site_log][:2] == [
        ("location_update", "AUD-BIN", None, [
            {"field": "name", "from": "", "to": "Bin A"}, {"field": "available", "from": True, "to": False},
        ]),
        ("receive", None, "AUD-PART", None),
    ]
    assert site_log[0]["reason"] == "name: (empty) → Bin A; available: yes → no"
    assert [e["op_type"] for e in site_log[2:]] == ["location_create", "location_create"]
    assert site_log[2]["changes"] == [
        {"field": "code", "from": None, "to": "AUD-BIN"}, {"field": "parent", "from": None, "to": "AUD-SITE"},
        {"field": "kind", "from": None, "to": "normal"}, {"field": "available", "from": None, "to": True},
    ]
    by_id = (await api.get("/api/activity", params={"op_id": switch["op_id"]})).json()["items"]
    assert [e["id"] for e in by_id] == [switch["id"]]
    edits = (await api.get("/api/activity", params={"action": "Edit", "actor": "supervisor", "limit": 500})).json()["items"]
    assert {(e["op_type"], e["location"] or e["part"]) for e in edits} >= {("location_update", "AUD-BIN"), ("part_update", "AUD-PART")}
    assert (await api.get("/api/activity", params={"part": "AUD-PART", "lot": "L-1"})).json()["total"] == 0
