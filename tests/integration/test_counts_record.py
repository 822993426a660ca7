"""What a count records: expected lines left uncounted are never silently dropped — closing with them needs
the supervisor's explicit "not counted" (with a note), they are shown in the record and count against
accuracy — and what a supervisor decided on (the likely causes and their evidence as shown when deciding)
stays, before and after close, whatever the decision or later stock changes do to the data."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.counts_support import (  # noqa: F401 - fixtures
    BULK, LOT, SERIAL, close, counted, decide, line_of, review, room, started,
)
from tests.integration.ops_support import refused


async def test_a_count_with_lines_not_counted_closes_only_by_decision_and_they_count_as_inaccurate(room: Api) -> None:
    count = await started(room, location="CAGE/S1", name="Shelf 1")  # 4 lines: P-1, P-2, L-1, the screws
    await counted(room, count, SERIAL | {"serial": "P-1"}, "CAGE/S1", 1)  # 1 of 4 counted, and right
    before = await review(room, count)
    assert (before["totals"]["counted"], before["totals"]["not_counted"], before["totals"]["line_accuracy"]) == (1, 3, 0.25)

    url = f"/api/counts/{count['id']}/close"
    body = refused(await room.post(url, {"note": "done"}, "supervisor"), 409, "count_incomplete", "not_counted")
    assert body["not_counted"] == 3 and "3 expected line(s)" in body["detail"]
    refused(await room.post(url, {"not_counted": True}, "supervisor"), 422, "invalid", "note")
    assert (await room.get(f"/api/counts/{count['id']}", "supervisor")).json()["status"] == "open"  # nothing written

    closed = (await close(room, count, "shelf blocked by a pallet", not_counted=True))["count"]
    summary = closed["summary"]
    assert (summary["lines_counted"], summary["lines_accurate"], summary["lines_not_counted"]) == (1, 1, 3)
    assert summary["line_accuracy"] == 0.25  # not 1.0: three lines nobody looked at are not known to be right
    assert summary["value_not_counted"] == "510.00"  # 400.00 + 100 × 0.10 + 40 × 2.50
    assert summary["value_accuracy"] == 1 - 510 / 910

    record = await review(room, count)
    assert record["totals"]["line_accuracy"] == 0.25 and record["totals"]["not_counted"] == 3
    missing = [line for line in record["lines"] if line["state"] == "not_counted"]
    assert sorted(line["serial"] or line["lot"] or line["part"] for line in missing) == ["L-1", "P-2", "SCREW"]
    assert {(line["decision"]["action"], line["decision"]["actor"], line["decision"]["note"]) for line in missing} == {
        ("not_counted", "supervisor", "shelf blocked by a pallet"),
    }
    assert line_of(record, lot="L-1")["expected"] == 40 and line_of(record, lot="L-1")["counted"] is None
    figures = (await room.get("/api/counts/accuracy", "supervisor")).json()
    assert [(p["lines_accurate"], p["lines_counted"], p["lines_not_counted"], p["line_accuracy"])
            for p in figures["counts"]] == [(1, 1, 3, 0.25)]


async def test_a_fully_counted_count_closes_without_a_decision(room: Api) -> None:
    count = await started(room, location="CAGE/S2")
    await counted(room, count, SERIAL | {"serial": "P-3"}, "CAGE/S2", 1)
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 10)
    summary = (await close(room, count, not_counted=False))["count"]["summary"]
    assert (summary["lines_not_counted"], summary["line_accuracy"], summary["value_accuracy"]) == (0, 1.0, 1.0)


def causes_of(body: dict[str, Any]) -> dict[str, Any]:
    return {(line["location"], line["serial"] or line["lot"] or line["part"]): line["causes"] for line in body["lines"]}


def figures_of(body: dict[str, Any]) -> dict[str, Any]:
    return {(line["location"], line["serial"] or line["lot"] or line["part"]):
            (line["expected"], line["counted"], line["difference"], line["value_difference"], line["major"])
            for line in body["lines"]}


async def test_what_was_decided_on_is_kept_and_a_closed_count_never_changes(room: Api) -> None:
    count = await started(room, location="CAGE/S2", name="Shelf 2")
    await counted(room, count, SERIAL | {"serial": "P-3"}, "CAGE/S2", 1)
    await counted(room, count, SERIAL | {"serial": "P-NEW"}, "CAGE/S2", 1)  # a find: never received
    await counted(room, count, LOT | {"lot": "L-2"}, "CAGE/S2", 8)  # 2 short; received here
    before = await review(room, count)
    found = line_of(before, serial="P-NEW")
    assert [(c["code"], c["evidence"]) for c in found["causes"]] == [("not_received", True)]
    assert "never received digitally" in found["causes"][0]["text"]
    assert all(c["evidence"] for c in line_of(before, lot="L-2")["causes"])

    undecided = [line["line_id"] for line in before["lines"] if line["difference"]]
    assert [r["status"] for r in await decide(room, count, undecided)] == ["decided", "decided"]  # "Approve all"
    decided = await review(room, count)
    assert causes_of(decided) == causes_of(before)  # the find is in the system now, its cause still reads as decided on
    assert line_of(decided, serial="P-NEW")["decision"]["causes"] == found["causes"]

    closed = await close(room, count, not_counted=False)
    after = await review(room, count)
    assert causes_of(after) == causes_of(before) and figures_of(after) == figures_of(before)
    assert [line["decision"]["action"] for line in after["lines"] if line["difference"]] == ["adjust", "adjust"]

    # later stock changes do not alter the record
    await room.ok("move", **SERIAL, serial="P-NEW", from_location="CAGE/S2", to_location="LINE", quantity=1)
    await room.ok("receive", **LOT, lot="L-2", location="CAGE/S2", quantity=50, unit_cost=9.0)
    await room.ok("scrap", **SERIAL, serial="P-3", location="CAGE/S2", quantity=1, reason="dropped")
    later = await review(room, count)
    assert later["lines"] == after["lines"] and later["totals"] == after["totals"]
    assert (await room.get(f"/api/counts/{count['id']}", "supervisor")).json()["summary"] == closed["count"]["summary"]
    open_only = (await room.get(f"/api/counts/{count['id']}/review", "supervisor", params={"lines": "open"})).json()
    assert [line["serial"] or line["lot"] for line in open_only["lines"]] == ["P-NEW", "L-2"]  # PUMP before SEAL
