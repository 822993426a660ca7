"""Kits and problems on the phone in Chromium: an offline phone opens a kit it pulled (its lines with what
remains and where the phone holds each part), picks a unit and part of a lot with one scan each — what remains
drops at once —, reports a problem on a motor and sets it aside; it syncs: the picks are Kitted in the kit's
tote, the kit's lines are picked, the issue is open with the motor isolated; the supervisor completes the kit."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any


def test_an_offline_phone_picks_a_kit_and_reports_a_problem(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    pump, lot, motor = f"KP-{uid}", f"KS-{uid}", f"KM-{uid}"
    server.op("receive", part="PUMP-A", tracking="serial", serial=pump, location="STORES/SHELF-1", quantity=1)
    # expiring before any other SEAL-KIT of this shared server: the phone lists it first (FEFO)
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location="STORES/SHELF-1", quantity=1000,
              expiry=(date.today() + timedelta(days=3)).isoformat())
    server.op("receive", part="MOTOR-5", tracking="serial", serial=motor, location="LINE-1", quantity=1)
    kit = server.api("POST", "/api/kits", user="sam", json={"run": f"RUN-{uid}", "location": "LINE-1", "lines": [
        {"part": "PUMP-A", "quantity": 1}, {"part": "SEAL-KIT", "quantity": 4}]})
    number, tote = kit["number"], kit["tote"]

    olga = phones("olga")
    olga.go("pickkit")
    olga.page.click(f"li[data-kit='{number}'] a")
    olga.page.wait_for_selector("li[data-part='SEAL-KIT'][data-remaining='4']")
    assert olga.page.inner_text("li[data-part='SEAL-KIT'] .hint").startswith("STORES/SHELF-1: 1000")  # first to expire
    olga.offline()
    before = olga.queued()
    olga.scan(pump)
    olga.wait_queued(before + 1)
    olga.page.wait_for_selector("li[data-part='PUMP-A'][data-remaining='0']")
    olga.scan(lot)  # 1,000 there, 4 needed: the line's 4
    olga.wait_queued(before + 2)
    olga.page.wait_for_selector("li[data-part='SEAL-KIT'][data-remaining='0']")
    olga.screenshot(artifacts, "30-pick-kit-offline")

    olga.go("problem")
    olga.scan(motor)
    olga.page.fill("input[name=title]", "Cracked housing")
    olga.page.click("section.flow button.primary")
    olga.wait_queued(before + 3)
    assert olga.pending() == 3

    olga.offline(False)
    olga.wait_synced()
    assert [(r["location"], r["status"]) for r in server.inventory(serial=pump)] == [(tote, "kitted")]
    assert {(r["location"], r["quantity"], r["status"]) for r in server.inventory(part="SEAL-KIT", lot=lot)} == {
        (tote, 4, "kitted"), ("STORES/SHELF-1", 996, "available")}
    picked = server.api("GET", f"/api/kits/{number}")
    assert [(line["part"], line["picked"], line["remaining"]) for line in picked["lines"]] == [
        ("PUMP-A", 1, 0), ("SEAL-KIT", 4, 0)]
    (issue,) = server.api("GET", "/api/issues", params={"serial": motor})["items"]
    assert (issue["title"], issue["status"], issue["opened_by"]) == ("Cracked housing", "open", "olga")
    assert [r["status"] for r in server.inventory(serial=motor)] == ["unavailable"]

    server.api("POST", f"/api/kits/{number}/complete", user="sam")
    assert [r["status"] for r in server.inventory(serial=pump)] == ["available"]
