"""Decimal quantities on the phone (issue 15), in Chromium: offline, an operator receives 2.5 m of cable, moves
0.75 m of it and counts the 1.75 m left; a quantity finer than the unit counts is refused on the phone; after
the sync the server holds exactly those quantities."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_receive_move_and_count_metres_offline(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    cable, reel = f"CABLE-{uid}", f"REEL-{uid}"
    server.api("POST", "/api/parts", json={"part_number": cable, "tracking": "untracked", "unit": "m", "description": "Cable 3x1.5"})
    server.api("POST", "/api/locations", json={"code": reel, "parent": "STORES"})
    count = server.api("POST", "/api/counts", "sam", json={"kind": "location", "location": reel})
    server.api("POST", f"/api/counts/{count['id']}/start", "sam")
    phone = phones("olga")
    phone.offline()

    phone.receive(cable, reel, quantity="2.5")
    assert "2.5 m" in phone.page.inner_text("body")  # the toast: what was queued, in its unit

    phone.go("move")
    phone.scan(cable)
    phone.page.wait_for_selector("ul.picked input.qty")
    assert phone.page.input_value("ul.picked input.qty") == "2.5"
    phone.page.fill("ul.picked input.qty", "0.7505")  # finer than metres are counted: refused on the phone
    phone.scan("STORES/SHELF-1")
    phone.page.click("button.primary:has-text('Move 1 item')")
    phone.page.wait_for_selector("text=m is counted to at most 3 decimal places")
    phone.page.fill("ul.picked input.qty", "0.75")
    phone.page.click("button.primary:has-text('Move 1 item')")
    phone.wait_queued(2)

    phone.go("count")
    phone.page.click(f"a[data-count='{count['id']}']")
    phone.scan(reel)
    phone.scan(cable)
    phone.page.fill("form.entry input.counted", "1.75")
    phone.page.click("form.entry button:has-text('Save count')")
    # counted; found where the phone's last pull had nothing (its own receipt is not on the server yet)
    phone.page.wait_for_selector(f"li.count-line[data-key*='{cable}']:has-text('counted 1.75')")
    phone.screenshot(artifacts, "20-count-metres")
    assert phone.pending() == 3

    phone.offline(False)
    phone.wait_synced()
    assert [line.splitlines()[1] for line in phone.outcomes()[:3]] == ["Applied"] * 3
    assert {row["location"]: row["quantity"] for row in server.inventory(part=cable)} == {reel: "1.75", "STORES/SHELF-1": "0.75"}
    review = server.api("GET", f"/api/counts/{count['id']}/review", "sam")
    line = next(line for line in review["lines"] if line["part"] == cable)
    assert (line["expected"], line["counted"]) == ("1.75", "1.75")
