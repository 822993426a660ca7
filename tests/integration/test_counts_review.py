"""The review: per line expected vs counted, the difference and its value, major discrepancies by value or
percentage, and the likely causes from the SOP's table, derived from the data where it can: a component
built in from here (not consumed onto its assembly), isolated stock (wrong status), a recent receipt here
(scanned to the location by mistake), a digital move in or out, a serial recorded elsewhere, installed,
scrapped or written off (moved physically but not digitally), stock sitting at MRB."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.counts_support import (  # noqa: F401 - fixtures
    BULK, LOT, SERIAL, counted, line_of, review, room, started,
)


def codes(line: dict[str, Any]) -> list[str]:
    return [cause["code"] for cause in line["causes"]]


async def test_shortages_show_their_likely_causes_from_the_data(room: Api) -> None:
    await room.ok("receive", part="ASM", tracking="serial", serial="ASM-9", location="CAGE/S1", quantity=1)
    await room.ok("install", parent_serial="ASM-9", **LOT, lot="L-1", from_location="CAGE/S1", quantity=4)
    await room.ok("isolate", **BULK, location="CAGE/S1", quantity=20, reason="suspect")
    await room.ok("move", **SERIAL, serial="P-4", from_location="LINE", to_location="CAGE/S2", quantity=1)
    count = await started(room, location="CAGE")
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 30)  # expected 36
    await counted(room, count, BULK, "CAGE/S1", 80)  # expected 100, 20 of them isolated
    await counted(room, count, SERIAL | {"serial": "P-4"}, "CAGE/S2", 0)  # moved here digitally an instant ago
    await counted(room, count, SERIAL | {"serial": "P-1"}, "CAGE/S1", 0)  # received here

    body = await review(room, count)
    seals = line_of(body, lot="L-1")
    assert (seals["expected"], seals["counted"], seals["difference"], seals["value_difference"]) == (36, 30, -6, "-15.00")
    assert codes(seals) == ["not_consumed", "scanned_by_mistake"]
    assert "4 installed from here" in seals["causes"][0]["text"] and "ASM-9" in seals["causes"][0]["text"]
    screws = line_of(body, part="SCREW")
    assert "wrong_status" in codes(screws) and "20 of it is isolated" in screws["causes"][codes(screws).index("wrong_status")]["text"]
    moved = line_of(body, serial="P-4")
    assert "not_moved_correctly" in codes(moved) and "from LINE" in moved["causes"][codes(moved).index("not_moved_correctly")]["text"]
    received = line_of(body, serial="P-1")
    assert codes(received) == ["scanned_by_mistake"] and all(cause["evidence"] for cause in received["causes"])


async def test_surpluses_show_where_the_system_thinks_the_stock_is(room: Api) -> None:
    await room.ok("receive", part="ASM", tracking="serial", serial="ASM-2", location="LINE", quantity=1)
    await room.ok("install", parent_serial="ASM-2", **SERIAL, serial="P-4", quantity=1)
    await room.ok("receive", **SERIAL, serial="P-9", location="LINE", quantity=1)
    await room.ok("scrap", **SERIAL, serial="P-9", location="LINE", quantity=1, reason="dropped")
    await room.ok("adjust", "supervisor", **SERIAL, serial="P-3", location="CAGE/S2", delta=-1, reason="lost")
    await room.ok("move", **LOT, lot="L-2", from_location="CAGE/S2", to_location="MRB", quantity=4)
    await room.ok("move", **LOT, lot="L-1", from_location="CAGE/S1", to_location="LINE", quantity=5)
    await room.ok("receive", part="ASM", tracking="serial", serial="ASM-3", location="MRB", quantity=1)
    count = await started(room, location="CAGE")
    for serial in ("P-4", "P-9", "P-3", "ASM-1", "P-NEW"):
        await counted(room, count, {**SERIAL, "serial": serial} if serial != "ASM-1" else
                      {"part": "ASM", "tracking": "serial", "serial": serial}, "CAGE/S2", 1)
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 10)  # 6 expected, 4 went to MRB on paper
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 40)  # 35 expected, 5 moved out on paper

    body = await review(room, count)
    installed = line_of(body, serial="P-4")
    assert codes(installed) == ["wrong_status"] and "installed in ASM-2" in installed["causes"][0]["text"]
    assert codes(line_of(body, serial="P-9")) == ["wrong_status"] and "scrapped" in line_of(body, serial="P-9")["causes"][0]["text"]
    assert codes(line_of(body, serial="P-3")) == ["written_off"]
    elsewhere = line_of(body, serial="ASM-1")
    assert codes(elsewhere) == ["moved_not_digitally"] and "Recorded at LINE" in elsewhere["causes"][0]["text"]
    assert codes(line_of(body, serial="P-NEW")) == ["not_received"]
    at_mrb = line_of(body, lot="L-2")
    assert codes(at_mrb) == ["not_moved_correctly", "unavailable_status"]
    assert "4 of it recorded at MRB" in at_mrb["causes"][1]["text"]
    moved_out = line_of(body, lot="L-1")
    assert codes(moved_out) == ["not_moved_correctly"] and "to LINE" in moved_out["causes"][0]["text"]


async def test_major_discrepancies_by_value_or_percentage_and_sop_causes_without_evidence(room: Api) -> None:
    await room.ok("receive", **LOT, lot="L-5", location="CAGE/S2", quantity=1000, unit_cost=1.0)
    count = await started(room, location="CAGE")
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 38)  # -2 of 40: 5 %, 5.00 — minor
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 7)  # -3 of 10: 30 % — major by percentage
    await counted(room, count, LOT | {"lot": "L-5"}, "CAGE/S2", 400)  # -600 of 1000 worth 600 — major by value
    await counted(room, count, BULK, "CAGE/S1", 100)  # right
    body = await review(room, count)
    assert [line_of(body, lot=lot)["major"] for lot in ("L-1", "L-2", "L-5")] == [False, True, True]
    assert body["thresholds"] == {"value": "500.00", "percent": "20"} and body["currency"] == "EUR"
    assert line_of(body, part="SCREW")["state"] == "match" and line_of(body, part="SCREW")["causes"] == []
    minor = line_of(body, lot="L-1")
    # the lot was received here within the window: that is evidence, not the SOP's list
    assert all(cause["evidence"] for cause in minor["causes"])
    totals = body["totals"]
    assert (totals["counted"], totals["accurate"], totals["major"], totals["undecided"]) == (4, 1, 2, 3)
    assert totals["value_difference"] == "612.50"  # 5.00 + 7.50 + 600.00
    assert totals["value_expected"] == "1135.00"  # 100.00 + 25.00 + 10.00 + 1000.00


async def test_causes_fall_back_to_the_sop_table_when_the_data_shows_nothing(room: Api, db: Any) -> None:
    from sqlalchemy import delete

    from server.models import Movement

    async with db.write() as session:  # an old stockroom: nothing in the movement log's window
        await session.execute(delete(Movement))
    count = await started(room, location="CAGE/S2")
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 8)
    await counted(room, count, LOT | {"lot": "L-7"}, "CAGE/S2", 2)  # found, never heard of
    body = await review(room, count)
    short = line_of(body, lot="L-2")
    assert codes(short) == ["not_consumed", "wrong_status", "scanned_by_mistake", "not_moved_correctly"]
    assert not any(cause["evidence"] for cause in short["causes"])
    assert codes(line_of(body, lot="L-7")) == ["not_kitted", "unavailable_status", "moved_not_digitally"]
    assert line_of(body, lot="L-7")["unit_cost"] == "2.50"  # a find is valued at the part's cost elsewhere


async def test_the_review_comes_in_pages_whose_lines_add_up_to_the_whole(room: Api) -> None:
    await room.ok("isolate", **BULK, location="CAGE/S1", quantity=20, reason="suspect")
    count = await started(room, location="CAGE")
    await counted(room, count, BULK, "CAGE/S1", 80)  # short: a discrepancy with a cause (isolated)
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 35)  # right
    await counted(room, count, SERIAL | {"serial": "P-NEW"}, "CAGE/S2", 1)  # a find
    whole = await review(room, count)
    assert whole["total_lines"] == len(whole["lines"]) > 4 and (whole["limit"], whole["offset"]) == (1000, 0)

    pages, offset = [], 0
    while offset < whole["total_lines"]:
        response = await room.get(f"/api/counts/{count['id']}/review", "supervisor", params={"limit": 2, "offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["lines"]) <= 2 and page["total_lines"] == whole["total_lines"]
        assert page["totals"] == whole["totals"]  # always over every line
        pages += page["lines"]
        offset += 2
    assert pages == whole["lines"]  # the same lines, causes included, in the same order

    open_page = (await room.get(f"/api/counts/{count['id']}/review", "supervisor",
                                params={"lines": "open", "limit": 1})).json()
    assert open_page["total_lines"] == sum(1 for line in whole["lines"] if line["state"] != "match")
    assert len(open_page["lines"]) == 1 and open_page["lines"][0]["state"] != "match"
    for bad in ({"limit": 0}, {"offset": -1}, {"limit": 100_001}):
        response = await room.get(f"/api/counts/{count['id']}/review", "supervisor", params=bad)
        assert response.status_code == 422, response.text
