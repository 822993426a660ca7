"""A kit for a run, completed: what its tote holds is issued to the run (WIP, the run's demand reversed) in the
same write transaction; what the run does not require stays in the tote, released, and the answer says why; a
kit whose run is not open or does not exist completes by releasing, and says so; a phone knows the open runs by their WIP locations, and issues to and completes a run offline."""

from __future__ import annotations

from typing import Any

from server.db import Database
from tests.conftest import Api
from tests.integration.sync_helpers import Phone, by_seq
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture
from tests.integration.production_support import (  # noqa: F401
    BOARD, GLUE, SCREW, act, demand, ledger_is_stock, make_run, plant, stock_up,
)


async def kit_for(api: Api, run: str, lines: list[dict[str, Any]]) -> str:
    response = await api.post("/api/kits", {"run": run, "location": "LINE", "lines": lines}, "supervisor")
    assert response.status_code == 201, response.text
    return response.json()["number"]


def pick(kit: str, item: dict[str, str], quantity: Any = 1, **more: Any) -> dict[str, Any]:
    return {"kit": kit, **item, "from_location": "STORES", "quantity": quantity, **more}


async def complete(api: Api, kit: str) -> dict[str, Any]:
    response = await api.post(f"/api/kits/{kit}/complete", {})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    return response.json()["closing"]


def items(listed: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["part"], i.get("serial"), i.get("lot"), i["quantity"], i.get("reason")) for i in listed]


async def test_completing_a_kit_for_an_open_run_issues_it_to_the_run(plant: Api, db: Database) -> None:
    await stock_up(plant)
    await plant.ok("receive", part="LABEL", tracking="serial", serial="LB-1", location="STORES", quantity=1)
    await make_run(plant, number="RUN-1")
    await act(plant, "RUN-1", "start")
    kit = await kit_for(plant, "RUN-1", [{"part": "BOARD", "quantity": 1}, {"part": "GLUE", "quantity": "0.25"},
                                         {"part": "SCREW", "quantity": 4}, {"part": "LABEL", "quantity": 1}])
    await plant.ok("kit", **pick(kit, BOARD, serial="BD-1"))
    await plant.ok("kit", **pick(kit, GLUE, "0.25", lot="G-1"))
    await plant.ok("kit", **pick(kit, SCREW, 4))
    await plant.ok("kit", **pick(kit, {"part": "LABEL", "tracking": "serial"}, serial="LB-1"))

    closing = await complete(plant, kit)
    assert closing["run"] == "RUN-1" and closing["note"] == "Issued to run RUN-1; 1 not issued, released in the tote"
    assert items(closing["issued"]) == [("BOARD", "BD-1", None, 1, None), ("GLUE", None, "G-1", "0.25", None),
                                        ("SCREW", None, None, 4, None)]
    assert items(closing["released"]) == [("LABEL", "LB-1", None, 1, "not_on_bom")]

    wip = {(i["part"], i["serial"], i["lot"], i["quantity"], i["location"]) for i in await plant.items(status="wip")}
    assert wip == {("BOARD", "BD-1", None, 1, "LINE/RUN-1"), ("GLUE", None, "G-1", "0.25", "LINE/RUN-1"),
                   ("SCREW", None, None, 4, "LINE/RUN-1")}
    assert await plant.items(status="kitted") == []
    label = await plant.items(part="LABEL", location=f"LINE/{kit}")
    assert [(i["serial"], i["status"]) for i in label] == [("LB-1", "available")]
    run = (await plant.get("/api/runs/RUN-1")).json()
    assert [(r["part"], r["issued"], r["remaining"]) for r in run["requirements"]] == [
        ("BOARD", 1, 1), ("GLUE", "0.25", "0.25"), ("SCREW", 4, 4)]
    async with db.read() as session:  # the run's demand reversed by what the kit issued
        assert await demand(session) == {("BOARD", "LINE"): -1, ("GLUE", "LINE"): -0.25, ("SCREW", "LINE"): -4}
    await ledger_is_stock(db)
    board = (await plant.get("/api/units/BD-1/history")).json()["events"]
    assert [(e["action"], e["reason"]) for e in board][-1] == ("Move", "issued to run RUN-1")
    assert [e["action"] for e in (await plant.get("/api/units/LB-1/history")).json()["events"]][-1] == "Unkit"

    built = await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE")
    pump = (await plant.get(f"/api/units/{built['serials'][0]}/history")).json()
    assert sorted((c["part"], c["serial"], c["lot"], c["quantity"]) for c in pump["components"]) == [
        ("BOARD", "BD-1", None, 1), ("GLUE", None, "G-1", "0.25"), ("SCREW", None, None, 4)]


async def test_a_kit_whose_run_is_not_open_or_unknown_completes_by_releasing(plant: Api, db: Database) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-2")  # planned, not started
    planned = await kit_for(plant, "RUN-2", [{"part": "BOARD", "quantity": 1}])
    unknown = await kit_for(plant, "RUN-NONE", [{"part": "SCREW", "quantity": 5}])
    await plant.ok("kit", **pick(planned, BOARD, serial="BD-2"))
    await plant.ok("kit", **pick(unknown, SCREW, 5))

    closing = await complete(plant, planned)
    assert closing["note"] == "Released: Run RUN-2 is planned, not open"
    assert (items(closing["issued"]), items(closing["released"])) == ([], [("BOARD", "BD-2", None, 1, None)])
    closing = await complete(plant, unknown)
    assert closing["note"] == "Released: No run RUN-NONE"
    assert items(closing["released"]) == [("SCREW", None, None, 5, None)]
    assert await plant.items(status="wip") == [] and await plant.items(status="kitted") == []
    assert [i["serial"] for i in await plant.items(status="available", location=f"LINE/{planned}")] == ["BD-2"]
    assert [i["quantity"] for i in await plant.items(status="available", location=f"LINE/{unknown}")] == [5]

    await act(plant, "RUN-2", "start")  # a cancelled kit for an open run releases: nothing is issued
    cancelled = await kit_for(plant, "RUN-2", [{"part": "BOARD", "quantity": 1}])
    await plant.ok("kit", **pick(cancelled, BOARD, serial="BD-3"))
    response = await plant.post(f"/api/kits/{cancelled}/cancel", {}, "supervisor")
    assert response.status_code == 200 and response.json()["closing"] is None
    assert await plant.items(status="wip") == []
    await ledger_is_stock(db)


async def test_a_phone_knows_open_runs_by_their_wip_location_and_issues_and_completes_offline(
    plant: Api, db: Database
) -> None:
    await stock_up(plant)
    await make_run(plant, number="RUN-3", quantity=1)
    phone = await Phone.sign_in(plant)
    first = await phone.pull()
    assert [c for c in first["changes"] if c["entity"] == "location" and c["data"]["wip"]] == []
    await act(plant, "RUN-3", "start")
    pulled = await phone.pull(first["cursor"])
    wip = [c["data"] for c in pulled["changes"] if c["entity"] == "location" and c["data"]["wip"]]
    assert [(d["code"], d["parent"]) for d in wip] == [("LINE/RUN-3", "LINE")]  # the phone's open run RUN-3

    ops = [phone.op("issue", run="RUN-3", **BOARD, serial="BD-1", from_location="STORES", quantity=1),
           phone.op("issue", run="RUN-3", **GLUE, lot="G-2", from_location="STORES", quantity="0.25"),
           phone.op("issue", run="RUN-3", **SCREW, from_location="STORES", quantity=4),
           phone.op("complete_run", run="RUN-3", quantity=1, location="LINE", serials=["PU-PHONE-1"])]
    results = by_seq(await phone.push(*ops))
    assert [results[seq]["status"] for seq in sorted(results)] == ["applied"] * 4
    pump = (await plant.get("/api/units/PU-PHONE-1/history")).json()
    assert (pump["unit"]["status"], pump["unit"]["location"]) == ("available", "LINE")
    assert sorted(c["part"] for c in pump["components"]) == ["BOARD", "GLUE", "SCREW"]
    await act(plant, "RUN-3", "complete")
    after = await phone.pull(pulled["cursor"])
    assert [c["data"]["wip"] for c in after["changes"] if c["entity"] == "location"
            and c["data"]["code"] == "LINE/RUN-3"] == [False]  # no longer an open run on the phone
    await ledger_is_stock(db)


async def test_the_kit_page_says_what_went_to_the_run_and_what_stayed(plant: Api, browsers: Any) -> None:  # noqa: F811
    await stock_up(plant)
    await plant.ok("receive", part="LABEL", tracking="serial", serial="LB-1", location="STORES", quantity=1)
    await make_run(plant, number="RUN-4", quantity=1)
    await act(plant, "RUN-4", "start")
    kit = await kit_for(plant, "RUN-4", [{"part": "BOARD", "quantity": 1}, {"part": "LABEL", "quantity": 1}])
    await plant.ok("kit", **pick(kit, BOARD, serial="BD-1"))
    await plant.ok("kit", **pick(kit, {"part": "LABEL", "tracking": "serial"}, serial="LB-1"))
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = await supervisor.submit(f"/supervisor/kits/{kit}", f"/supervisor/kits/{kit}/complete", {})
    assert shown.status_code == 200 and 'data-status="completed"' in shown.text
    assert "1 issued to run RUN-4" in shown.text and 'data-released="LB-1"' in shown.text
    assert "LABEL is not among what run RUN-4 requires" in shown.text
    assert [i["status"] for i in await plant.items(serial="BD-1")] == ["wip"]
