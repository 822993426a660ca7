"""Closing locations for a count: ops touching them are held (online 409, at sync a held conflict); the
count itself, and a supervisor's adjustments and moves of that count, still get through; closing the count
reopens exactly the locations it closed and re-evaluates the ops held on them, which then wait for a
supervisor's decision."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.counts_support import (  # noqa: F401 - fixtures
    BULK, LOT, SERIAL, close, counted, decide, line_of, plan, review, room, started,
)
from tests.integration.ops_support import refused
from tests.integration.sync_helpers import Phone, by_seq


async def locks(api: Api) -> dict[str, bool]:
    listed = (await api.get("/api/locations")).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return {loc["code"]: loc["count_locked"] for loc in items}


async def test_a_closing_count_holds_ops_online_and_at_sync_but_takes_its_own(room: Api) -> None:
    phone = await Phone.sign_in(room)
    offline_move = phone.op("move", **SERIAL, serial="P-4", from_location="LINE", to_location="CAGE/S2", quantity=1)
    count = await started(room, location="CAGE", blind=True, closes_locations=True)
    assert {code: lock for code, lock in (await locks(room)).items() if lock} == {"CAGE": True, "CAGE/S1": True, "CAGE/S2": True}

    refused(await room.op("move", **BULK, from_location="CAGE/S1", to_location="LINE", quantity=5), 409, "location_locked")
    refused(await room.op("receive", **LOT, lot="L-3", location="CAGE/S2", quantity=1), 409, "location_locked")
    # a count_id does not open the lock for an operator, nor a closed or unknown count's id for anyone
    refused(await room.op("move", **BULK, from_location="CAGE/S1", to_location="LINE", quantity=5, count_id=count["id"]),
            409, "location_locked")

    results = by_seq(await phone.push(
        offline_move,
        phone.op("count", **SERIAL, serial="P-3", location="CAGE/S2", counted_quantity=1, count_id=count["id"]),
    ))
    assert (results[1]["status"], results[1]["reason"]) == ("held", "location_locked") and results[1]["conflict_id"]
    assert results[2]["status"] == "applied"  # counting moves nothing: a closed location takes it

    # the count's own adjustment goes through the lock (the SOP keeps the location closed until adjusted)
    line = await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 37)
    (result,) = await decide(room, count, [line_of(await review(room, count), lot="L-1")["line_id"]])
    assert (result["status"], result["op_type"], result["delta"]) == ("decided", "adjust", -3), result
    assert line["count_id"] == count["id"]
    assert {i["lot"]: i["quantity"] for i in await room.items(part="SEAL", location="CAGE/S1")} == {"L-1": 37}


async def test_closing_reopens_its_locations_and_reevaluates_the_held_ops(room: Api) -> None:
    await room.patch("/api/locations/LINE", {"count_locked": True})  # closed by hand, before any count
    phone = await Phone.sign_in(room)
    count = await started(room, location="CAGE", closes_locations=True)
    line_count = await started(room, location="LINE", closes_locations=True)  # LINE was locked already
    held = by_seq(await phone.push(
        phone.op("move", **SERIAL, serial="P-1", from_location="CAGE/S1", to_location="CC-DISC", quantity=1),
        phone.op("move", **BULK, from_location="CAGE/S1", to_location="CC-DISC", quantity=500),  # more than there is
        phone.op("move", **SERIAL, serial="P-4", from_location="LINE", to_location="CC-DISC", quantity=1),
    ))
    assert [held[n]["reason"] for n in (1, 2, 3)] == ["location_locked"] * 3

    closed = await close(room, count)
    assert closed["reopened"] == ["CAGE", "CAGE/S1", "CAGE/S2"]
    outcomes = {r["op_id"]: r for r in closed["reevaluated"]}
    assert set(outcomes) == {held[1]["op_id"], held[2]["op_id"]}  # the LINE one is still behind its lock
    assert (outcomes[held[1]["op_id"]]["outcome"], outcomes[held[2]["op_id"]]["reason"]) == ("applies", "insufficient_quantity")

    # nothing was applied: each waits, open, marked re-evaluated, for a supervisor
    assert (await room.items(serial="P-1"))[0]["location"] == "CAGE/S1"
    first = (await room.get(f"/api/sync/conflicts/{held[1]['conflict_id']}", "supervisor")).json()
    assert first["status"] == "open" and first["details"]["reevaluated"]["outcome"] == "applies"
    assert first["details"]["reevaluated"]["count_id"] == count["id"]
    second = (await room.get(f"/api/sync/conflicts/{held[2]['conflict_id']}", "supervisor")).json()
    assert second["details"]["reevaluated"]["reason"] == "insufficient_quantity"
    approved = await room.post(f"/api/sync/conflicts/{held[1]['conflict_id']}/approve", {"note": "count closed"}, "supervisor")
    assert approved.status_code == 200 and (await room.items(serial="P-1"))[0]["location"] == "CC-DISC"
    rejected = await room.post(f"/api/sync/conflicts/{held[2]['conflict_id']}/reject", {"note": "never had 500"}, "supervisor")
    assert rejected.status_code == 200

    # LINE was locked by hand: its count leaves it locked; CAGE's count unlocked only what it had locked
    assert await locks(room) == {"CAGE": False, "CAGE/S1": False, "CAGE/S2": False, "LINE": True, "MRB": False, "CC-DISC": False}
    assert (await close(room, line_count))["reopened"] == []
    assert (await locks(room))["LINE"] is True


async def test_overlapping_counts_keep_a_location_closed_until_the_last_closes(room: Api) -> None:
    cage = await started(room, location="CAGE", closes_locations=True)
    shelf = await started(room, location="CAGE/S1", closes_locations=True)
    assert (await close(room, cage))["reopened"] == ["CAGE", "CAGE/S2"]  # S1 stays closed for the shelf count
    refused(await room.op("move", **BULK, from_location="CAGE/S1", to_location="LINE", quantity=1), 409, "location_locked")
    assert (await room.op("move", **SERIAL, serial="P-3", from_location="CAGE/S2", to_location="LINE", quantity=1)).status_code == 201
    assert (await close(room, shelf))["reopened"] == ["CAGE/S1"]
    assert (await room.op("move", **BULK, from_location="CAGE/S1", to_location="LINE", quantity=1)).status_code == 201

    # a count that does not close its locations locks nothing; a planned one neither
    await plan(room, location="LINE", closes_locations=True)
    open_count = await started(room, location="CAGE")
    assert not any((await locks(room)).values())
    assert (await close(room, open_count))["reopened"] == []
