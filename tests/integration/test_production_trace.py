"""Lot expiry (a receipt's `expiry`; expired stock is Unavailable; GET /api/expiring) and the traceability
report (GET /api/trace and its printable page)."""

from __future__ import annotations

from datetime import timedelta

from server.db import Database
from server.rules.status import utc_today
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.production_support import (  # noqa: F401
    BOARD, GLUE, SCREW, act, ledger_is_stock, make_run, plant, set_bom, stock_up,
)


def day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


async def test_an_expired_lot_is_unavailable_and_expiring_lists_what_is_due(plant: Api, db: Database) -> None:
    received = await plant.ok("receive", **GLUE, lot="OLD", location="STORES", quantity=2, expiry=day(-1))
    assert received["expiry"] == day(-1)
    await plant.ok("receive", **GLUE, lot="TODAY", location="STORES", quantity=1, expiry=day(0))
    await plant.ok("receive", **GLUE, lot="SOON", location="STORES", quantity=3, expiry=day(10))
    await plant.ok("receive", **GLUE, lot="LATER", location="STORES", quantity=3, expiry=day(90))
    await plant.ok("receive", **BOARD, serial="BD-7", location="STORES", quantity=1, expiry=day(5))
    status = {i["lot"] or i["serial"]: i["status"] for i in await plant.items(location="STORES")}
    assert status == {"OLD": "unavailable", "TODAY": "unavailable", "SOON": "available", "LATER": "available",
                      "BD-7": "available"}
    assert {i["lot"] for i in await plant.items(status="unavailable")} == {"OLD", "TODAY"}

    soon = (await plant.get("/api/expiring?days=30")).json()
    assert [(i["lot"] or i["serial"], i["days_left"], i["status"]) for i in soon["items"]] == [
        ("OLD", -1, "unavailable"), ("TODAY", 0, "unavailable"), ("BD-7", 5, "available"), ("SOON", 10, "available")]
    assert len((await plant.get("/api/expiring")).json()["items"]) == 4  # 30 days unless said
    assert len((await plant.get("/api/expiring?days=365")).json()["items"]) == 5
    refused(await plant.get("/api/expiring?days=-1"), 422, "invalid", "days")

    # a lot keeps its expiry when it moves; a bucket keeps the earliest of what it holds
    await plant.ok("move", **GLUE, lot="SOON", from_location="STORES", to_location="LINE", quantity=1)
    assert [i["expiry"] for i in soon["items"] if i["lot"] == "SOON"] == [day(10)]
    moved = (await plant.get("/api/expiring?days=30")).json()["items"]
    assert {(i["lot"], i["location"]) for i in moved if i["lot"] == "SOON"} == {("SOON", "STORES"), ("SOON", "LINE")}
    refused(await plant.op("receive", **SCREW, location="STORES", quantity=1, expiry=day(3)), 422, "invalid",
            "args.expiry")
    refused(await plant.op("receive", **GLUE, lot="X", location="STORES", quantity=1, expiry="31.12.2026"), 422,
            "invalid", "args.expiry")
    await ledger_is_stock(db)


async def test_trace_follows_a_unit_down_and_up_through_runs(plant: Api, db: Database) -> None:
    await stock_up(plant)
    await plant.part("SKID", "serial", serial_pattern="SK-{seq:02}")
    await set_bom(plant, "SKID", [{"part": "PUMP", "quantity": 2}])
    await make_run(plant, number="RUN-1", quantity=1)
    await act(plant, "RUN-1", "start")
    await plant.ok("issue", **BOARD, run="RUN-1", serial="BD-1", from_location="STORES", quantity=1)
    await plant.ok("issue", **GLUE, run="RUN-1", lot="G-1", from_location="STORES", quantity="0.25")
    await plant.ok("issue", **SCREW, run="RUN-1", from_location="STORES", quantity=4)
    pump = (await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE"))["serials"][0]
    await plant.ok("receive", part="SKID", tracking="serial", serial="SK-01", location="LINE", quantity=1)
    await plant.ok("install", part="PUMP", tracking="serial", serial=pump, parent_serial="SK-01", quantity=1)

    report = (await plant.get(f"/api/trace?serial={pump}")).json()
    assert report["subject"]["serial"] == pump and report["subject"]["status"] == "installed"
    assert sorted((c["part"], c["serial"], c["lot"]) for c in report["down"]) == [
        ("BOARD", "BD-1", None), ("GLUE", None, "G-1"), ("SCREW", None, None)]
    assert [(u["part"], u["serial"]) for u in report["up"]] == [("SKID", "SK-01")]
    assert [(r["run"], r["kind"]) for r in report["runs"]] == [("RUN-1", "produced")]
    # every op on it and on what it is made of or sits in, oldest first: the board's receipt, its issue, …
    assert [(o["op_type"], o["serial"]) for o in report["ops"]][:2] == [("receive", "BD-1"), ("issue", "BD-1")]
    assert {o["op_type"] for o in report["ops"]} == {"receive", "issue", "complete_run", "install"}

    board = (await plant.get("/api/trace?serial=BD-1")).json()
    assert [u["serial"] for u in board["up"]] == [pump, "SK-01"]
    # issued to the run, and the run produced the pump it was consumed into
    assert [(r["run"], r["kind"], r["serial"]) for r in board["runs"]] == [
        ("RUN-1", "issued", "BD-1"), ("RUN-1", "produced", pump), ("RUN-1", "consumed", "BD-1")]
    skid = (await plant.get("/api/trace?serial=SK-01")).json()
    assert [c["serial"] for c in skid["down"]] == [pump]
    assert sorted(c["part"] for c in skid["down"][0]["components"]) == ["BOARD", "GLUE", "SCREW"]

    lot = (await plant.get("/api/trace?part=GLUE&lot=G-1")).json()
    assert {(r["location"], r["status"]) for r in lot["subject"]["rows"]} >= {("LINE", "installed")}
    assert [u["serial"] for u in lot["up"]] == [pump, "SK-01"]
    assert {r["kind"] for r in lot["runs"]} == {"issued", "consumed", "produced"}
    assert {o["op_type"] for o in lot["ops"]} >= {"receive", "issue", "complete_run"}

    refused(await plant.get("/api/trace?serial=NOPE"), 404, "unknown_reference", "serial")
    refused(await plant.get("/api/trace?part=GLUE&lot=NOPE"), 404, "unknown_reference", "lot")
    refused(await plant.get("/api/trace"), 422, "invalid", "serial")
