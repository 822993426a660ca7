"""A supervisor's decisions on counted lines go through the one op path: an approved line is an `adjust`
op (ledger entry with a reason naming the count, movement-log Adjust, op record), a serial found here but
recorded elsewhere is moved here, a shortage can be moved to a count-discrepancy location, or a line left
as is. Closing records the results (major discrepancies included), and accuracy follows per location and
overall, over time."""

from __future__ import annotations

from server.db import Database
from tests.conftest import Api
from tests.integration.counts_support import (  # noqa: F401 - fixtures
    BULK, LOT, SERIAL, close, counted, decide, line_of, review, room, started, trail,
)
from tests.integration.ops_support import refused


async def test_approved_lines_become_adjustments_with_ledger_and_activity(room: Api, db: Database) -> None:
    count = await started(room, location="CAGE", closes_locations=True, name="Cage")
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 37)
    await counted(room, count, SERIAL | {"serial": "P-2"}, "CAGE/S1", 0)
    await counted(room, count, SERIAL | {"serial": "P-4"}, "CAGE/S2", 1)  # recorded at LINE
    await counted(room, count, SERIAL | {"serial": "P-NEW"}, "CAGE/S2", 1)  # unknown
    body = await review(room, count)
    ids = {key: line_of(body, **{kind: key})["line_id"] for kind, key in
           (("lot", "L-1"), ("serial", "P-2"), ("serial", "P-4"), ("serial", "P-NEW"))}
    results = await decide(room, count, list(ids.values()), note="counted twice")
    assert [(r["status"], r["op_type"], r["delta"]) for r in results] == [
        ("decided", "adjust", -3), ("decided", "adjust", -1), ("decided", "move", 1), ("decided", "adjust", 1),
    ]
    ledger, log = await trail(db, results[0]["op_id"])
    assert [(entry.delta, entry.lot) for entry in ledger] == [(-3, "L-1")]
    assert ledger[0].reason == f"Cycle count Cage ({count['id']}): counted 37, expected 40 — counted twice"
    assert [(m.action, m.actor, m.quantity) for m in log] == [("Adjust", "supervisor", -3)]
    activity = (await room.get("/api/activity", params={"op_id": results[1]["op_id"]})).json()["items"]
    assert [(a["action"], a["serial"], a["reason"].split(":")[0]) for a in activity] == [("Adjust", "P-2", "Cycle count Cage (" + count["id"] + ")")]
    assert {i["serial"]: (i["location"], i["quantity"]) for i in await room.items(part="PUMP", include_empty=True)} == {
        "P-1": ("CAGE/S1", 1), "P-2": ("CAGE/S1", 0), "P-3": ("CAGE/S2", 1), "P-4": ("CAGE/S2", 1), "P-NEW": ("CAGE/S2", 1),
    }
    ops = (await room.get("/api/activity", params={"op_id": results[2]["op_id"]})).json()["items"]
    assert [(a["action"], a["from_location"], a["to_location"]) for a in ops] == [("Move", "LINE", "CAGE/S2")]

    decided = await review(room, count)
    assert decided["totals"]["undecided"] == 0
    assert line_of(decided, lot="L-1")["decision"]["op_id"] == results[0]["op_id"]
    again = await decide(room, count, [ids["L-1"]])
    assert (again[0]["status"], again[0]["reason"]) == ("refused", "conflict")  # decided once


async def test_move_to_discrepancy_leave_and_refusals(room: Api) -> None:
    count = await started(room, location="CAGE")
    await counted(room, count, BULK, "CAGE/S1", 90)
    await counted(room, count, SERIAL | {"serial": "P-3"}, "CAGE/S2", 0)
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 12)
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 9)  # recount: 9 wins
    body = await review(room, count)
    screws, pump, seals = line_of(body, part="SCREW"), line_of(body, serial="P-3"), line_of(body, lot="L-2")
    assert len(seals["recounts"]) == 1

    moved = await decide(room, count, [screws["line_id"], pump["line_id"]], "move")
    assert [(r["op_type"], r["delta"]) for r in moved] == [("move", -10), ("move", -1)]
    assert {i["location"]: i["quantity"] for i in await room.items(part="SCREW")} == {"CAGE/S1": 90, "CC-DISC": 10}
    assert (await room.items(serial="P-3"))[0]["location"] == "CC-DISC"

    no_target = await decide(room, count, [seals["line_id"]], "move", to_location="LINE")
    assert (no_target[0]["status"], no_target[0]["field"]) == ("refused", "to_location")
    (left,) = await decide(room, count, [seals["line_id"]], "leave", note="kit in the drawer")
    assert (left["status"], left["action"], left.get("op_id")) == ("decided", "leave", None)
    assert line_of(await review(room, count), lot="L-2")["decision"]["note"] == "kit in the drawer"
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 40)
    right = line_of(await review(room, count), lot="L-1")
    assert (await decide(room, count, [right["line_id"]]))[0]["reason"] == "invalid"  # nothing to adjust
    refused(await room.post(f"/api/counts/{count['id']}/decide", {"lines": [right["line_id"]], "action": "adjust"},
                            "operator"), 403, "forbidden")

    await counted(room, count, BULK, "CAGE/S1", 91)  # a recount after its decision: undecided again
    recounted = line_of(await review(room, count), part="SCREW")
    assert (recounted["expected"], recounted["difference"], recounted["decision"]) == (90, 1, None)
    old = await decide(room, count, [screws["line_id"]])
    assert (old[0]["status"], old[0]["reason"]) == ("refused", "conflict") and "recounted" in old[0]["message"]
    await close(room, count)
    late = await decide(room, count, [recounted["line_id"]])
    assert late[0]["reason"] == "count_not_open"


async def test_closing_records_results_and_accuracy_follows_per_location_over_time(room: Api) -> None:
    first = await started(room, location="CAGE", name="Cage 1")
    await counted(room, first, LOT | {"lot": "L-1"}, "CAGE/S1", 37)  # short by 3 (7.50)
    await counted(room, first, SERIAL | {"serial": "P-1"}, "CAGE/S1", 1)
    await counted(room, first, SERIAL | {"serial": "P-2"}, "CAGE/S1", 0)  # missing (400.00): major
    await counted(room, first, SERIAL | {"serial": "P-3"}, "CAGE/S2", 1)
    body = await review(room, first)
    await decide(room, first, [line_of(body, lot="L-1")["line_id"], line_of(body, serial="P-2")["line_id"]])
    closed = (await close(room, first))["count"]  # the screws and L-2 closed not counted
    summary = closed["summary"]
    assert (summary["lines_expected"], summary["lines_counted"], summary["lines_accurate"]) == (6, 4, 2)
    assert (summary["lines_not_counted"], summary["value_not_counted"], summary["line_accuracy"]) == (2, "35.00", 2 / 6)
    assert (summary["major_discrepancies"], summary["value_difference"]) == (1, "407.50")
    assert summary["value_expected"] == "1300.00"  # 40 × 2.50 + 3 × 400.00
    assert summary["value_accuracy"] == 1 - (407.5 + 35) / (1300 + 35)

    second = await started(room, location="CAGE/S1", name="Shelf 1")
    await counted(room, second, LOT | {"lot": "L-1"}, "CAGE/S1", 37)
    await close(room, second)

    figures = (await room.get("/api/counts/accuracy", "supervisor")).json()
    assert [(p["name"], p["lines_accurate"], p["lines_counted"]) for p in figures["counts"]] == [("Cage 1", 2, 4), ("Shelf 1", 1, 1)]
    overall = figures["overall"]  # Shelf 1 left P-1 and the screws uncounted: 3 right of 9 lines
    assert (overall["lines_counted"], overall["lines_accurate"], overall["lines_not_counted"]) == (5, 3, 4)
    assert overall["line_accuracy"] == 3 / 9
    per_location = {loc["location"]: loc for loc in figures["locations"]}
    s1 = per_location["CAGE/S1"]
    assert (s1["lines_accurate"], s1["lines_counted"], s1["lines_not_counted"]) == (2, 4, 3)
    assert len(s1["history"]) == 2 and per_location["CAGE/S2"]["line_accuracy"] == 0.5  # P-3 right, L-2 not counted
    shelf = (await room.get("/api/counts/accuracy", "supervisor", params={"location": "CAGE/S2"})).json()
    assert [p["name"] for p in shelf["counts"]] == ["Cage 1"] and shelf["overall"]["value_accuracy"] == 1 - 25 / 425
    refused(await room.get("/api/counts/accuracy", "operator"), 403, "forbidden")
    major = [line for line in (await review(room, first))["lines"] if line["major"]]
    assert [(line["serial"], line["decision"]["action"]) for line in major] == [("P-2", "adjust")]
