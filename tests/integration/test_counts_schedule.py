"""The schedule proposes each location's next count from its class — the value it holds (ABC by cumulative
value) and how fast its stock moves (the movement log over the window) — or from a cadence set by hand,
counted from the last closed count that covered it; and lists what is due or overdue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.conftest import Api
from tests.integration.counts_support import BULK, close, plan, room, started  # noqa: F401 - fixtures
from tests.integration.ops_support import refused


async def schedule(api: Api, **params: Any) -> dict[str, dict[str, Any]]:
    response = await api.get("/api/counts/schedule", "supervisor", params={"window_days": 9, **params})
    assert response.status_code == 200, response.text
    return {item["location"]: item for item in response.json()["items"]}


async def test_classes_by_value_and_movement_and_next_dates(room: Api) -> None:
    await room.location("VAULT")
    await room.ok("receive", part="SEAL", tracking="lot", lot="L-V", location="VAULT", quantity=1000, unit_cost=10.0)
    for source, target in (("CAGE/S1", "LINE"), ("LINE", "CAGE/S1")):  # LINE moves: 2 receipts + 2 moves
        await room.ok("move", **BULK, from_location=source, to_location=target, quantity=5)
    today = date.today()
    items = await schedule(room)
    assert {code: (item["cls"], item["cadence_days"]) for code, item in items.items()} == {
        "VAULT": ("A", 30),  # 10,000 of 11,735: the first 80 % of the value
        "CAGE/S1": ("A", 30),  # value class B, and fast-moving (4 moves in 9 days; 3 is fast): one class up
        "CAGE/S2": ("B", 90),
        "LINE": ("B", 90),  # value class C, fast-moving
    }
    assert "fast-moving" in items["LINE"]["why"] and "value class C" in items["LINE"]["why"]
    assert all((item["last_counted"], item["next_count"], item["state"]) == (None, today.isoformat(), "due")
               for item in items.values())  # never counted: due today
    assert items["VAULT"]["value"] == "10000.00" and items["LINE"]["moves"] == 4

    count = await started(room, location="CAGE")
    await close(room, count)
    later = today + timedelta(days=40)
    items = await schedule(room, today=later.isoformat())
    assert (items["CAGE/S1"]["last_counted"], items["CAGE/S1"]["next_count"], items["CAGE/S1"]["state"]) == (
        today.isoformat(), (today + timedelta(days=30)).isoformat(), "overdue")
    assert (items["CAGE/S2"]["next_count"], items["CAGE/S2"]["state"]) == ((today + timedelta(days=90)).isoformat(), "scheduled")
    assert items["VAULT"]["state"] == "due" and items["VAULT"]["next_count"] == later.isoformat()

    response = await room.client.put("/api/counts/schedule/CAGE/S2", json={"cadence_days": 20}, headers=room.headers("supervisor"))
    assert response.status_code == 200, response.text
    assert (response.json()["cadence_days"], response.json()["cadence_source"]) == (20, "set")
    items = await schedule(room, today=later.isoformat())
    assert (items["CAGE/S2"]["next_count"], items["CAGE/S2"]["state"]) == ((today + timedelta(days=20)).isoformat(), "overdue")
    back = await room.client.put("/api/counts/schedule/CAGE/S2", json={"cadence_days": None}, headers=room.headers("supervisor"))
    assert back.json()["cadence_source"] == "class"
    refused(await room.client.put("/api/counts/schedule/NOWHERE", json={"cadence_days": 5}, headers=room.headers("supervisor")),
            404, "unknown_reference")
    refused(await room.get("/api/counts/schedule", "operator"), 403, "forbidden")


async def test_due_and_overdue_lists_locations_and_planned_counts(room: Api) -> None:
    today = date.today()
    overdue = await plan(room, location="LINE", due=(today - timedelta(days=3)).isoformat(), name="Line, late")
    await plan(room, location="CAGE/S2", due=(today + timedelta(days=30)).isoformat())  # not due yet
    due = (await room.get("/api/counts/due", "supervisor")).json()
    assert [(c["name"], c["overdue"]) for c in due["counts"]] == [("Line, late", True)]
    assert {item["location"] for item in due["locations"]} == {"CAGE/S1", "CAGE/S2", "LINE"}  # never counted
    items = await schedule(room)
    assert items["LINE"]["planned"]["id"] == overdue["id"] and items["CAGE/S1"]["planned"] is None

    cage = await started(room, location="CAGE")
    await close(room, cage)
    due = (await room.get("/api/counts/due", "supervisor")).json()
    assert {item["location"] for item in due["locations"]} == {"LINE"}  # the cage was just counted
