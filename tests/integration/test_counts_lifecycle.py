"""A count's life through the API — plan, start, count, finish, close — who may do what, the `count` op's
checks against its count, several people counting one count (the latest line wins, earlier ones kept),
finds, and what a phone pulls to count offline."""

from __future__ import annotations

import uuid

from tests.conftest import Api
from tests.integration.counts_support import (  # noqa: F401 - fixtures
    BULK, LOT, SERIAL, close, counted, line_of, plan, review, room, started,
)
from tests.integration.ops_support import refused
from tests.integration.sync_helpers import Phone, Replica


async def test_plan_start_finish_close_and_who_may(room: Api) -> None:
    count = await plan(room, location="CAGE", blind=True, closes_locations=True, due="2026-12-01", name="Cage Q4")
    assert (count["status"], count["kind"], count["location"], count["blind"], count["due"]) == (
        "planned", "location", "CAGE", True, "2026-12-01")
    assert count["locations"] == ["CAGE", "CAGE/S1", "CAGE/S2"]  # the location and everything below it

    refused(await room.post("/api/counts", {"kind": "location", "location": "CAGE"}, "operator"), 403, "forbidden")
    refused(await room.post("/api/counts", {"kind": "part", "part": "SEAL", "closes_locations": True}, "supervisor"),
            422, "invalid", "closes_locations")
    refused(await room.post("/api/counts", {"kind": "location", "location": "NOWHERE"}, "supervisor"),
            404, "unknown_reference", "location")
    refused(await room.post("/api/counts", {"kind": "location", "part": "SEAL"}, "supervisor"), 422, "invalid")
    refused(await room.post(f"/api/counts/{count['id']}/start", {}, "operator"), 403, "forbidden")

    # operators see counts (to join the open ones), but a planned count takes no lines yet
    listed = (await room.get("/api/counts", params={"status": "planned"})).json()
    assert [c["id"] for c in listed["items"]] == [count["id"]]
    refused(await room.op("count", **BULK, location="CAGE/S1", counted_quantity=1, count_id=count["id"]),
            409, "count_not_open", "args.count_id")

    opened = (await room.post(f"/api/counts/{count['id']}/start", {}, "supervisor")).json()
    assert (opened["status"], opened["started_by"]) == ("open", "supervisor")
    refused(await room.post(f"/api/counts/{count['id']}/start", {}, "supervisor"), 409, "conflict")
    assert [c["id"] for c in (await room.get("/api/counts", params={"status": "open,review"})).json()["items"]] == [count["id"]]

    review_state = (await room.post(f"/api/counts/{count['id']}/finish", {}, "supervisor")).json()
    assert review_state["status"] == "review"
    await counted(room, count, BULK, "CAGE/S1", 100)  # a recount is still taken in review
    closed = await close(room, count, note="all good")
    assert (closed["count"]["status"], closed["count"]["closed_by"], closed["count"]["note"]) == ("closed", "supervisor", "all good")
    assert closed["reopened"] == ["CAGE", "CAGE/S1", "CAGE/S2"]
    refused(await room.op("count", **BULK, location="CAGE/S1", counted_quantity=1, count_id=count["id"]),
            409, "count_not_open")
    refused(await room.post(f"/api/counts/{count['id']}/close", {}, "supervisor"), 409, "count_not_open")
    refused(await room.get(f"/api/counts/{uuid.uuid4()}"), 404, "unknown_reference")


async def test_count_lines_belong_to_their_count(room: Api) -> None:
    cage = await started(room, location="CAGE")
    seals = await started(room, kind="part", part="SEAL")
    refused(await room.op("count", **BULK, location="LINE", counted_quantity=1, count_id=cage["id"]),
            422, "invalid", "args.location")  # LINE is not under CAGE
    refused(await room.op("count", **BULK, location="CAGE/S1", counted_quantity=1, count_id=seals["id"]),
            422, "invalid", "args.part")  # a part count counts its part only
    refused(await room.op("count", **BULK, location="CAGE/S1", counted_quantity=1, count_id=str(uuid.uuid4())),
            404, "unknown_reference", "args.count_id")
    line = await counted(room, seals, {**LOT, "lot": "L-2"}, "CAGE/S2", 10)  # any location, for a part count
    assert (line["count_id"], line["counted_quantity"]) == (seals["id"], 10)
    assert "expected_quantity" not in line


async def test_several_people_count_one_count_the_latest_line_wins_and_finds_are_recorded(room: Api) -> None:
    count = await started(room, location="CAGE", blind=True)
    alice, bob = await Phone.sign_in(room, "operator"), await Phone.sign_in(room, "supervisor")
    first = await alice.push(
        alice.op("count", **SERIAL, serial="P-1", location="CAGE/S1", counted_quantity=1, count_id=count["id"]),
        alice.op("count", **LOT, lot="L-1", location="CAGE/S1", counted_quantity=35, count_id=count["id"]),
        alice.op("count", **SERIAL, serial="P-NEW", location="CAGE/S2", counted_quantity=1, count_id=count["id"]),
    )
    second = await bob.push(
        bob.op("count", **LOT, lot="L-1", location="CAGE/S1", counted_quantity=37, count_id=count["id"]),  # a recount
        bob.op("count", **LOT, lot="L-9", location="CAGE/S2", counted_quantity=4, count_id=count["id"]),  # not on the sheet
        bob.op("count", **SERIAL, serial="P-2", location="CAGE/S1", counted_quantity=0, count_id=count["id"]),
    )
    assert {r["status"] for r in first["results"] + second["results"]} == {"applied"}

    body = await review(room, count)
    lot = line_of(body, lot="L-1")
    assert (lot["expected"], lot["counted"], lot["difference"], lot["counted_by"]) == (40, 37, -3, "supervisor")
    assert [(r["counted"], r["actor"]) for r in lot["recounts"]] == [(35, "operator")]  # history kept
    assert (lot["value_difference"], lot["state"], lot["major"]) == ("-7.50", "short", False)
    missing = line_of(body, serial="P-2")
    assert (missing["expected"], missing["counted"], missing["value_difference"], missing["major"]) == (1, 0, "-400.00", True)
    find = line_of(body, serial="P-NEW")
    assert (find["expected"], find["counted"], find["state"], find["unit_cost"]) == (0, 1, "over", "400.00")
    assert find["causes"][0]["code"] == "not_received"
    other_lot = line_of(body, lot="L-9")
    assert (other_lot["expected"], other_lot["counted"], other_lot["location"]) == (0, 4, "CAGE/S2")
    assert line_of(body, serial="P-3")["state"] == "not_counted"
    totals = body["totals"]
    assert (totals["expected_lines"], totals["counted_expected"], totals["found"], totals["not_counted"]) == (6, 3, 2, 3)
    assert (totals["accurate"], totals["short"], totals["over"], totals["major"]) == (1, 2, 2, 3)


async def test_a_phone_pulls_open_counts_and_everyones_lines(room: Api) -> None:
    phone = await Phone.sign_in(room)
    replica = await Replica(phone).sync()
    assert replica.of("count") == []
    planned = await plan(room, location="CAGE/S1")
    count = await started(room, location="CAGE", blind=True, closes_locations=True)
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 38, role="supervisor")
    await replica.sync()
    (pulled,) = replica.of("count")
    assert pulled == {
        "id": count["id"], "name": count["name"], "kind": "location", "status": "open", "blind": True,
        "closes_locations": True, "location": "CAGE", "part": None, "due": None,
    }
    (line,) = replica.of("count_line")
    assert line == {"count_id": count["id"], "location": "CAGE/S1", "part": "SEAL", "tracking": "lot", "serial": None,
                    "lot": "L-1", "counted_quantity": 38, "actor": "supervisor"}
    locks = {loc["code"]: loc["count_locked"] for loc in replica.of("location")}
    assert locks == {"CAGE": True, "CAGE/S1": True, "CAGE/S2": True, "LINE": False, "MRB": False, "CC-DISC": False}

    fresh = await Replica(await Phone.sign_in(room)).sync(limit=3)  # a new phone, in small pages
    assert [c["id"] for c in fresh.of("count")] == [count["id"]] and len(fresh.of("count_line")) == 1
    assert planned["id"] not in {c["id"] for c in fresh.of("count")}

    await close(room, count)
    await replica.sync()
    assert replica.of("count") == []  # closed: deleted on the phone
