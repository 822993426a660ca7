"""Production runs: planned → open → completed / failed / cancelled; `demand` in the ledger; the `issue` op
(WIP) and the `complete_run` op (built units with their components installed), online and at sync."""

from __future__ import annotations

from server.db import Database
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.production_support import (  # noqa: F401
    BOARD, GLUE, SCREW, act, demand, ledger_is_stock, make_run, plant, set_bom, stock_up,
)
from tests.integration.sync_helpers import Phone


async def statuses(api: Api, part: str) -> dict[tuple[str, str | None, str | None, str], object]:
    return {(i["location"], i["serial"], i["lot"], i["status"]): i["quantity"]
            for i in await api.items(part=part)}


async def test_a_run_posts_demand_takes_components_as_wip_and_builds_units(plant: Api, db: Database) -> None:
    await stock_up(plant)
    run = await make_run(plant, number="RUN-1")
    assert (run["state"], run["quantity"], run["wip_location"]) == ("planned", 2, None)
    assert [(r["part"], r["required"], r["remaining"]) for r in run["requirements"]] == [
        ("BOARD", 2, 2), ("GLUE", "0.5", "0.5"), ("SCREW", 8, 8)]
    refused(await plant.op("issue", **BOARD, run="RUN-1", serial="BD-1", quantity=1), 409, "run_not_open", "args.run")
    assert (await plant.post("/api/runs/RUN-1/start", {}, "operator")).status_code == 403
    started = await act(plant, "RUN-1", "start")
    assert (started["state"], started["wip_location"]) == ("open", "LINE/RUN-1")
    async with db.read() as session:
        assert await demand(session) == {("BOARD", "LINE"): -2, ("GLUE", "LINE"): -0.5, ("SCREW", "LINE"): -8}

    await plant.ok("issue", **BOARD, run="RUN-1", serial="BD-1", quantity=1)
    await plant.ok("issue", **BOARD, run="RUN-1", serial="BD-2", from_location="STORES", quantity=1)
    await plant.ok("issue", **GLUE, run="RUN-1", lot="G-1", from_location="STORES", quantity="0.25")
    await plant.ok("issue", **GLUE, run="RUN-1", lot="G-2", from_location="STORES", quantity="0.5")
    await plant.ok("issue", **SCREW, run="RUN-1", from_location="STORES", quantity=10)
    assert (await statuses(plant, "BOARD"))[("LINE/RUN-1", "BD-1", None, "wip")] == 1
    assert await plant.items(status="wip", part="SCREW") != []
    shown = (await plant.get("/api/runs/RUN-1")).json()
    assert [(r["part"], r["issued"], r["remaining"]) for r in shown["requirements"]] == [
        ("BOARD", 2, 0), ("GLUE", "0.75", 0), ("SCREW", 10, 0)]
    assert [(i["part"], i["serial"], i["lot"], i["quantity"]) for i in shown["issued"]][:3] == [
        ("BOARD", "BD-1", None, 1), ("BOARD", "BD-2", None, 1), ("GLUE", None, "G-1", "0.25")]
    async with db.read() as session:
        assert await demand(session) == {}  # every requirement met; the extra screws reverse nothing more
    await ledger_is_stock(db)

    built = await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE")
    assert built["serials"] == ["PU-0001"] and built["produced"] == 1
    pump = (await plant.get("/api/units/PU-0001/history")).json()
    assert pump["unit"]["status"] == "available" and pump["unit"]["location"] == "LINE"
    # one board, 0.25 kg of the glue expiring first (G-2), 4 screws installed in it
    assert sorted((c["part"], c["serial"], c["lot"], c["quantity"]) for c in pump["components"]) == [
        ("BOARD", "BD-1", None, 1), ("GLUE", None, "G-2", "0.25"), ("SCREW", None, None, 4)]
    assert "built by run RUN-1" in [e["reason"] for e in pump["events"]]
    board = (await plant.get("/api/units/BD-1/history")).json()
    assert [e["reason"] for e in board["events"]][-2:] == ["issued to run RUN-1", "consumed by run RUN-1"]
    await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE", serials=["PU-X"])
    await ledger_is_stock(db)

    done = await act(plant, "RUN-1", "complete")
    assert (done["state"], done["produced"], done["closed_by"]) == ("completed", 2, "supervisor")
    assert [i["serial"] for i in done["produced_items"]] == ["PU-0001", "PU-X"]
    # left over: 2 screws and 0.25 kg of G-1 go back to the line, Available
    assert await plant.items(status="wip") == []
    assert (await statuses(plant, "SCREW"))[("LINE", None, None, "available")] == 2
    assert (await statuses(plant, "GLUE"))[("LINE", None, "G-1", "available")] == "0.25"
    await ledger_is_stock(db)
    refused(await plant.op("complete_run", run="RUN-1", quantity=1, location="LINE"), 409, "run_not_open", "args.run")
    refused(await plant.post("/api/runs/RUN-1/start", {}, "supervisor"), 409, "run_not_open", "state")


async def test_completing_without_the_components_issued_is_refused(plant: Api, db: Database) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-2", quantity=1)
    await act(plant, "RUN-2", "start")
    await plant.ok("issue", **BOARD, run="RUN-2", serial="BD-3", quantity=1)
    refused(await plant.op("complete_run", run="RUN-2", quantity=1, location="LINE"), 409, "insufficient_quantity")
    refused(await plant.op("issue", part="LABEL", tracking="serial", serial="LB-9", run="RUN-2", quantity=1), 404,
            "unknown_reference", "args.serial")
    await plant.ok("receive", part="LABEL", tracking="serial", serial="LB-1", location="STORES", quantity=1)
    refused(await plant.op("issue", part="LABEL", tracking="serial", serial="LB-1", run="RUN-2", quantity=1), 409,
            "not_on_bom", "args.part")
    refused(await plant.op("complete_run", run="RUN-2", quantity=1, location="LINE", lot="L"), 422, "invalid",
            "args.lot")
    refused(await plant.op("complete_run", run="RUN-9", quantity=1, location="LINE"), 404, "unknown_reference",
            "args.run")


async def test_a_failed_run_keeps_its_wip_until_returned_and_cancel_returns_the_rest(plant: Api, db: Database) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-3", quantity=1)
    await act(plant, "RUN-3", "start")
    await plant.ok("issue", **BOARD, run="RUN-3", serial="BD-1", quantity=1)
    await plant.ok("issue", **SCREW, run="RUN-3", from_location="STORES", quantity=4)
    failed = await act(plant, "RUN-3", "fail")
    assert failed["state"] == "failed"
    async with db.read() as session:
        assert await demand(session) == {}  # what was not issued is no longer needed
    assert {i["serial"] or i["part"]: i["status"] for i in await plant.items(location="LINE/RUN-3")} == {
        "BD-1": "wip", "SCREW": "wip"}
    await plant.ok("move", **BOARD, serial="BD-1", from_location="LINE/RUN-3", to_location="STORES", quantity=1)
    assert [i["status"] for i in await plant.items(serial="BD-1")] == ["available"]
    refused(await plant.op("issue", **BOARD, run="RUN-3", serial="BD-2", quantity=1), 409, "run_not_open")
    cancelled = await act(plant, "RUN-3", "cancel")
    assert cancelled["state"] == "cancelled"
    assert (await statuses(plant, "SCREW"))[("LINE", None, None, "available")] == 4
    await ledger_is_stock(db)
    listed = (await plant.get("/api/runs?state=cancelled")).json()
    assert [r["number"] for r in listed["items"]] == ["RUN-3"]
    refused(await plant.get("/api/runs?state=bogus"), 422, "invalid", "state")


async def test_lot_built_runs_and_made_on_assembly_lines(plant: Api, db: Database) -> None:
    await plant.part("PASTE", "lot", lot_pattern="PA-{seq:03}", unit="kg")
    await plant.part("CAP", "serial", serial_pattern="CAP-{seq:03}")
    await set_bom(plant, "PASTE", [{"part": "SCREW", "quantity": 1}])
    await plant.ok("receive", **SCREW, location="LINE", quantity=10)
    run = await make_run(plant, part="PASTE", quantity=4, number="MIX-1")
    await act(plant, "MIX-1", "start")
    await plant.ok("issue", **SCREW, run="MIX-1", quantity=4)
    built = await plant.ok("complete_run", run="MIX-1", quantity=4, location="LINE")
    assert (built["lot"], built["serials"]) == ("MIX-1", None)  # a manufacturing batch named from the run
    assert run["lot"] is None
    lot = (await plant.get("/api/lots/PASTE/MIX-1/history")).json()
    assert [r["quantity"] for r in lot["rows"]] == [4]
    assert "built by run MIX-1" in [e["reason"] for e in lot["events"]]

    await set_bom(plant, "PUMP", [{"part": "CAP", "quantity": 1, "made_on_assembly": True}])
    await make_run(plant, number="RUN-4", quantity=1)
    started = await act(plant, "RUN-4", "start")
    assert started["requirements"][0]["remaining"] == 0
    done = await plant.ok("complete_run", run="RUN-4", quantity=1, location="LINE")
    components = (await plant.get(f"/api/units/{done['serials'][0]}/history")).json()["components"]
    assert [(c["part"], c["serial"], c["status"]) for c in components] == [("CAP", "CAP-001", "installed")]
    await ledger_is_stock(db)


async def test_at_sync_issues_to_a_closed_run_are_held(plant: Api) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-5", quantity=1)
    await act(plant, "RUN-5", "start")
    phone = await Phone.sign_in(plant, "operator")
    first = phone.op("issue", **BOARD, run="RUN-5", serial="BD-1", quantity=1)
    assert (await phone.push(first))["results"][0]["status"] == "applied"
    await act(plant, "RUN-5", "complete")
    late = phone.op("issue", **BOARD, run="RUN-5", serial="BD-2", quantity=1)
    odd = phone.op("issue", part="LABEL", tracking="serial", serial="LB-1", run="RUN-5", quantity=1)
    results = (await phone.push(late, odd))["results"]
    assert [(r["status"], r["reason"]) for r in results] == [("held", "run_not_open"), ("held", "run_not_open")]
    assert all(r["conflict_id"] for r in results)


async def test_the_demo_has_an_assembly_with_a_bom_an_open_run_with_wip_and_a_lot_expiring_soon(db: Database) -> None:
    from server.demo import load_demo
    from server.production.bom import BomService
    from server.production.runs import RunService
    from server.production.trace import ProductionQueries
    from server.queries import InventoryFilter, InventoryQueries

    assert await load_demo(db)
    assert len((await BomService(db).get("CTRL-100", None)).lines) == 4
    run = await RunService(db).get("RUN-DEMO-1")
    assert run.state == "open"
    assert {(r.part, r.issued, r.remaining) for r in run.requirements} == {
        ("PCB-MAIN", 1, 1), ("PSU-24V", 1, 1), ("SCREW-M3", 16, 0), ("PASTE-TIM", 0, 2)}
    wip, _ = await InventoryQueries(db).page(InventoryFilter(status="wip"), 100, 0)
    assert {row["part"] for row in wip} == {"PCB-MAIN", "PSU-24V", "SCREW-M3"}
    assert [i.part for i in (await ProductionQueries(db).expiring(30)).items] == ["PASTE-TIM"]
    await ledger_is_stock(db)


async def test_at_sync_a_completion_short_of_components_is_held_undone_and_applied_when_approved(
    plant: Api, db: Database
) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-6", quantity=1)
    await act(plant, "RUN-6", "start")
    phone = await Phone.sign_in(plant, "operator")
    board = phone.op("issue", **BOARD, run="RUN-6", serial="BD-1", quantity=1)
    early = phone.op("complete_run", run="RUN-6", quantity=1, location="LINE")  # glue and screws not issued yet
    glue = phone.op("issue", **GLUE, run="RUN-6", lot="G-1", from_location="STORES", quantity="0.25")
    screws = phone.op("issue", **SCREW, run="RUN-6", from_location="STORES", quantity=4)
    results = (await phone.push(board, early, glue, screws))["results"]
    assert [(r["status"], r.get("reason")) for r in results] == [
        ("applied", None), ("held", "insufficient_quantity"), ("applied", None), ("applied", None)]
    run = (await plant.get("/api/runs/RUN-6")).json()
    assert [(r["part"], r["issued"], r["consumed"]) for r in run["requirements"]] == [
        ("BOARD", 1, 0), ("GLUE", "0.25", 0), ("SCREW", 4, 0)]  # the held completion left nothing behind
    assert (run["produced"], [i["status"] for i in await plant.items(serial="BD-1")]) == (0, ["wip"])
    conflicts = (await plant.get("/api/sync/conflicts?status=open", "supervisor")).json()["items"]
    conflict = next(c for c in conflicts if c["op"]["op_id"] == early["op_id"])
    approved = await plant.post(f"/api/sync/conflicts/{conflict['id']}/approve", {"note": "all there now"},
                                "supervisor")
    assert approved.status_code == 200, approved.text
    run = (await plant.get("/api/runs/RUN-6")).json()
    assert run["produced"] == 1 and [r["consumed"] for r in run["requirements"]] == [1, "0.25", 4]
    assert [i["status"] for i in await plant.items(serial="BD-1")] == ["installed"]
    await ledger_is_stock(db)
