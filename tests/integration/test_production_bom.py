"""BOMs per part revision (PUT/GET /api/parts/{number}/bom) and the check `install` makes against the parent's
BOM: `not_on_bom` refused online, held at sync, and a supervisor's approval recorded as a deviation."""

from __future__ import annotations

from typing import Any

from server.db import Database
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.production_support import BOARD, PUMP, SCREW, ledger_is_stock, plant, set_bom  # noqa: F401
from tests.integration.sync_helpers import Phone


async def test_a_bom_belongs_to_the_part_revision_and_is_replaced_whole(plant: Api) -> None:
    bom = (await plant.get("/api/parts/PUMP/bom")).json()
    assert bom["revision"] == "B"
    assert [(line["line"], line["part"], line["quantity"], line["unit"]) for line in bom["lines"]] == [
        (1, "BOARD", 1, "ea"), (2, "GLUE", "0.25", "kg"), (3, "SCREW", 4, "pcs")]
    await set_bom(plant, "PUMP", [{"part": "SCREW", "quantity": 6, "made_on_assembly": False}], revision="A")
    assert [line["part"] for line in (await plant.get("/api/parts/PUMP/bom?revision=A")).json()["lines"]] == ["SCREW"]
    assert len((await plant.get("/api/parts/PUMP/bom")).json()["lines"]) == 3  # revision B untouched
    await set_bom(plant, "PUMP", [{"part": "BOARD", "quantity": 2}])
    assert [(line["part"], line["quantity"]) for line in (await plant.get("/api/parts/PUMP/bom")).json()["lines"]] == [
        ("BOARD", 2)]
    assert (await plant.get("/api/parts/BOARD/bom")).json()["lines"] == []


async def test_bad_boms_are_refused_naming_the_field(plant: Api) -> None:
    async def put(body: Any, role: str = "supervisor", part: str = "PUMP") -> Any:
        return await plant.client.put(f"/api/parts/{part}/bom", json=body, headers=plant.headers(role))

    assert (await put({"lines": []}, role="operator")).status_code == 403
    refused(await put({"lines": [{"part": "NOPE", "quantity": 1}]}), 404, "unknown_reference", "lines[0].part")
    refused(await put({"lines": [{"part": "PUMP", "quantity": 1}]}), 422, "invalid", "lines[0].part")
    refused(await put({"lines": [{"part": "SCREW", "quantity": 1}, {"part": "SCREW", "quantity": 2}]}), 422,
            "invalid", "lines[1].part")
    refused(await put({"lines": [{"part": "BOARD", "quantity": "1.5"}]}), 422, "invalid", "lines[0].quantity")
    refused(await put({"lines": [{"part": "BOARD", "quantity": 0}]}), 422, "invalid", "lines[0].quantity")
    refused(await put({"lines": [{"part": "BOARD"}]}), 422, "invalid", "lines[0].quantity")
    refused(await put({"lines": []}, part="NOPE"), 404, "unknown_reference", "part")


async def test_install_follows_the_parents_bom(plant: Api, db: Database) -> None:
    await plant.ok("receive", **PUMP, serial="PU-1", location="LINE", quantity=1)
    await plant.ok("receive", **BOARD, serial="BD-1", location="LINE", quantity=1)
    await plant.ok("receive", **BOARD, serial="BD-2", location="LINE", quantity=1)
    await plant.ok("receive", **SCREW, location="LINE", quantity=10)
    await plant.ok("receive", part="LABEL", tracking="serial", serial="LB-1", location="LINE", quantity=1)
    await plant.ok("install", **BOARD, serial="BD-1", parent_serial="PU-1", quantity=1)
    body = refused(await plant.op("install", **BOARD, serial="BD-2", parent_serial="PU-1", quantity=1), 409,
                   "not_on_bom", "args.quantity")
    assert "takes 1 of BOARD" in body["detail"]
    refused(await plant.op("install", part="LABEL", tracking="serial", serial="LB-1", parent_serial="PU-1",
                           quantity=1), 409, "not_on_bom", "args.part")
    await plant.ok("install", **SCREW, parent_serial="PU-1", quantity=3)
    refused(await plant.op("install", **SCREW, parent_serial="PU-1", quantity=2), 409, "not_on_bom", "args.quantity")
    await plant.ok("install", **SCREW, parent_serial="PU-1", quantity=1)
    # a unit of a part without a BOM takes anything
    await plant.ok("install", part="LABEL", tracking="serial", serial="LB-1", parent_serial="BD-2", quantity=1)
    assert {(i["part"], i["quantity"]) for i in await plant.items(status="installed")} == {
        ("BOARD", 1), ("SCREW", 4), ("LABEL", 1)}
    await ledger_is_stock(db)


async def test_at_sync_not_on_bom_is_held_and_an_approval_is_a_recorded_deviation(plant: Api) -> None:
    await plant.ok("receive", **PUMP, serial="PU-1", location="LINE", quantity=1)
    await plant.ok("receive", part="LABEL", tracking="serial", serial="LB-1", location="LINE", quantity=1)
    phone = await Phone.sign_in(plant, "operator")
    extra = phone.op("install", part="LABEL", tracking="serial", serial="LB-1", parent_serial="PU-1", quantity=1)
    result = (await phone.push(extra))["results"][0]
    assert (result["status"], result["reason"]) == ("held", "not_on_bom")
    conflicts = (await plant.get("/api/sync/conflicts?status=open", "supervisor")).json()["items"]
    conflict = next(c for c in conflicts if c["op"]["op_id"] == extra["op_id"])
    response = await plant.post(f"/api/sync/conflicts/{conflict['id']}/approve", {"note": "label by drawing 7"},
                                "supervisor")
    assert response.status_code == 200, response.text
    assert [i["installed_in"] for i in await plant.items(serial="LB-1")] == ["PU-1"]
    events = (await plant.get("/api/units/LB-1/history")).json()["events"]
    assembled = [e for e in events if e["action"] == "Assemble"]
    assert len(assembled) == 1 and assembled[0]["reason"].startswith("BOM deviation approved: LABEL is not on the BOM")
