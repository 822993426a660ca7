"""A cycle count end to end, in Chromium: a supervisor schedules and starts a blind count that closes its
location (supervisor pages); an operator's move into it made offline is held; the operator counts offline on
the phone — one serial missing, a lot short by 3 — and syncs; the supervisor reviews, approves the
adjustments and closes the count; the ledger, the activity log and the accuracy figures show it, and the
held move waits for a decision."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from server.models import to_scaled
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.server import USERS


def supervisor_page(browser: Any, server: Any, target: str) -> Any:
    context = browser.new_context(viewport={"width": 412, "height": 915})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/supervisor/login?next={target}")
    page.fill("#username", "sam")
    page.fill("#password", USERS["sam"][1])
    page.click("button.primary")
    page.wait_for_url(f"**{target}")
    return page


def test_a_blind_count_of_a_closed_location_counted_offline_reviewed_and_closed(
    phones: Any, browser: Any, server: Any, artifacts: Path, uid: str
) -> None:
    cage, first, second, lot, moved = f"CC-{uid}", f"CCU-{uid}-1", f"CCU-{uid}-2", f"CCL-{uid}", f"CCM-{uid}"
    server.api("POST", "/api/locations", json={"code": cage, "name": "Count cage"})
    for serial in (first, second):
        server.op("receive", part="PUMP-A", tracking="serial", serial=serial, location=cage, quantity=1, unit_cost=700.0)
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location=cage, quantity=40, unit_cost=2.5)
    server.op("receive", part="PUMP-A", tracking="serial", serial=moved, location="DOCK-1", quantity=1)

    # the supervisor plans the count from the schedule (blind, closing the location) and starts it
    sam = supervisor_page(browser, server, "/supervisor/counts/schedule")
    sam.locator(f"div.card[data-location='{cage}'] button:has-text('Plan a count')").click()
    sam.wait_for_selector("button:has-text('Start counting and close 1 location(s)')")
    count_url = sam.url
    count_id = count_url.rsplit("/", 1)[1]
    assert "blind" in sam.inner_text("main")
    sam.click("button:has-text('Start counting')")
    sam.wait_for_selector("[data-status='open']")

    # the operator's phone learns of the count, then works without a signal
    phone = phones("olga")
    phone.offline()
    phone.go("move")
    phone.scan(moved)
    phone.page.wait_for_selector("ul.picked li >> nth=0")
    phone.scan(cage)
    phone.page.click("button.primary:has-text('Move 1 item')")
    phone.wait_queued(1)

    phone.go("count")
    phone.page.click(f"a[data-count='{count_id}']")
    phone.page.wait_for_selector(".progress-count:has-text('0 of 3 lines counted')")
    phone.scan(cage)
    phone.page.wait_for_selector("li.count-line >> nth=2")
    assert "expected" not in phone.page.inner_text("ul.count-lines")  # blind: no quantities shown
    phone.scan(first)
    phone.page.wait_for_selector(f"li.count-line[data-key*='{first}'][data-state='present']")
    phone.page.click(f"li.count-line[data-key*='{second}'] button:has-text('Missing')")
    phone.page.wait_for_selector(f"li.count-line[data-key*='{second}'][data-state='missing']")
    phone.scan(lot)
    phone.page.fill("form.entry input.counted", "37")
    phone.page.click("form.entry button:has-text('Save count')")
    phone.page.wait_for_selector(f"li.count-line[data-key*='{lot}'][data-state='counted 37']")
    phone.page.wait_for_selector(".progress-count:has-text('3 of 3 lines counted')")
    phone.screenshot(artifacts, "15-count-offline")
    assert phone.pending() == 4

    # online again: the counts are taken, the move into the closed location is held
    phone.offline(False)
    phone.wait_synced()
    lines = phone.outcomes()
    assert any(f"Move {moved}" in line and f"Held for a supervisor: {cage} is closed for a cycle count" in line for line in lines), lines
    assert len([line for line in lines if line.startswith("Count ") and "Applied" in line]) == 3, lines

    # the supervisor reviews: the missing pump (major) and the short lot; approves both; closes
    sam.goto(count_url)
    totals = sam.inner_text("#totals")
    assert "3 of 3 lines counted" in totals and "1 of 3 counted" in totals and "1 major" in totals
    assert sam.locator("[data-line] [data-fact='difference']").all_inner_texts() == ["-1", "-3"]
    assert sam.is_visible(f"a[data-conflict]:has-text('{moved}')")
    sam.click("#approve-all")
    sam.wait_for_selector("[data-decision='adjust'] >> nth=1")
    sam.click("#close-count")
    sam.wait_for_selector("[data-status='closed']")
    sam.wait_for_selector(f"a[data-conflict]:has-text('{moved}'):has-text('it would apply now')")
    sam.screenshot(path=str(artifacts / "16-count-closed.png"), full_page=True)

    # the ledger: two adjustments with the count's id in their reason
    with sqlite3.connect(server.data_dir / "gemba.sqlite3") as db:
        ledger = db.execute("SELECT delta, lot FROM ledger WHERE reason LIKE ? ORDER BY delta", (f"%{count_id}%",)).fetchall()
    assert ledger == [(to_scaled(-3), lot), (to_scaled(-1), None)]  # SQLite keeps quantities in millionths
    # the activity log: who adjusted what, why
    log = server.api("GET", "/api/activity", params={"location": cage, "action": "Adjust"})["items"]
    assert sorted((item["serial"] or item["lot"], item["quantity"], item["actor"]) for item in log) == sorted([
        (second, -1, "sam"), (lot, -3, "sam")])
    assert all(count_id in item["reason"] for item in log)
    assert server.inventory(part="SEAL-KIT", lot=lot)[0]["quantity"] == 37
    assert server.inventory(serial=second, include_empty="true")[0]["quantity"] == 0
    # the accuracy figures: 1 of 3 lines right
    figures = server.api("GET", "/api/counts/accuracy", user="sam", params={"location": cage})
    assert (figures["overall"]["lines_counted"], figures["overall"]["lines_accurate"]) == (3, 1)
    sam.goto(f"{server.url}/supervisor/counts/accuracy?location={cage}")
    assert sam.locator("svg circle[data-series='line_accuracy']").get_attribute("data-value") == "0.3333"

    # the held move waits for a decision: not applied, its conflict open and re-evaluated
    conflicts = server.api("GET", "/api/sync/conflicts", user="sam", params={"status": "open", "limit": 500})["items"]
    (held,) = [c for c in conflicts if c["op"]["args"].get("serial") == moved]
    assert held["reason"] == "location_locked" and held["details"]["reevaluated"]["outcome"] == "applies"
    assert server.inventory(serial=moved)[0]["location"] == "DOCK-1"
    sam.context.close()
