"""The cycle-count supervisor pages, as a browser uses them (cookie sign-in, CSRF on every form): plan a
count from the schedule, start it, review it with the approve / move / leave buttons, see the ops held on
its locations and their re-evaluation, close it, and read accuracy as a server-drawn chart."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Api
from tests.integration.counts_support import BULK, LOT, SERIAL, counted, room  # noqa: F401 - fixtures
from tests.integration.sync_helpers import Phone, by_seq
from tests.integration.test_supervisor_pages import CSRF, browsers  # noqa: F401 - fixture


async def test_plan_from_the_schedule_start_review_decide_and_close(room: Api, browsers: Any) -> None:  # noqa: F811
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    schedule = await supervisor.get("/supervisor/counts/schedule")
    assert schedule.status_code == 200 and 'data-location="CAGE/S1"' in schedule.text and "class A" in schedule.text
    planned = await supervisor.submit("/supervisor/counts/schedule", "/supervisor/counts", {
        "kind": "location", "scope": "CAGE/S1", "blind": "yes", "closes_locations": "yes", "due": "2026-12-01",
    })
    assert planned.status_code == 303
    page = planned.headers["location"]
    count_id = page.rsplit("/", 1)[1]
    shown = (await supervisor.get(page)).text
    assert "Start counting and close 1 location(s)" in shown and "blind" in shown
    assert (await supervisor.submit(page, f"{page}/start", {})).status_code == 303

    phone = await Phone.sign_in(room)
    held = by_seq(await phone.push(phone.op("move", **SERIAL, serial="P-4", from_location="LINE", to_location="CAGE/S1",
                                             quantity=1)))[1]
    count = {"id": count_id}
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 37)
    await counted(room, count, SERIAL | {"serial": "P-2"}, "CAGE/S1", 0)
    await counted(room, count, BULK, "CAGE/S1", 100)
    shown = (await supervisor.get(page)).text
    assert 'data-status="open"' in shown and "3 of 4 lines counted" in shown and "1 of 3 counted" in shown
    assert shown.count('data-action="adjust"') == 2 and "Move the difference to count discrepancy" in shown
    assert "Approve all 2 adjustment(s)" in shown and 'class="tag bad">major' in shown  # the missing pump
    assert "Likely causes" in shown and 'data-cause="scanned_by_mistake"' in shown
    assert f'data-conflict="{held["conflict_id"]}"' in shown and "held while the location is closed" in shown

    lines = re.search(r'name="lines" value="([^"]+)">\s*<input type="hidden" name="action" value="adjust">\s*<button class="primary" type="submit" id="approve-all"', shown).group(1)
    approved = await supervisor.submit(page, f"{page}/decide", {"lines": lines, "action": "adjust"})
    assert approved.status_code == 303
    shown = (await supervisor.get(page)).text
    assert shown.count('data-decision="adjust"') == 2 and "0 undecided" in shown
    again = await supervisor.submit(page, f"{page}/decide", {"lines": lines.split(",")[0], "action": "leave"})
    assert again.status_code == 409 and "already decided" in again.text
    bad = await supervisor.submit(page, f"{page}/decide", {"lines": "not-an-id", "action": "leave"})
    assert bad.status_code == 422

    assert "Close without counting the 1 expected line(s) left" in shown
    incomplete = await supervisor.submit(page, f"{page}/close", {"note": "done"})
    assert incomplete.status_code == 409 and "1 expected line(s)" in incomplete.text  # the unit P-1 is not counted
    closed = await supervisor.submit(page, f"{page}/close", {"note": "P-1 out for repair", "not_counted": "yes"})
    assert closed.status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-status="closed"' in shown and "Results" in shown and "Close the count" not in shown
    assert 'data-decision="not_counted"' in shown and "P-1 out for repair" in shown
    assert "line accuracy 25.0% over 4 lines (1 not counted count as inaccurate)" in shown
    assert "it would apply now" in shown  # the held move, re-evaluated, waits for a decision
    conflict = (await supervisor.get(f"/supervisor/conflicts/{held['conflict_id']}")).text
    assert 'data-reevaluated="applies"' in conflict and "It waits for your decision" in conflict

    accuracy = (await supervisor.get("/supervisor/counts/accuracy")).text
    assert "<svg" in accuracy and 'data-series="line_accuracy" data-value="0.2500"' in accuracy
    assert "1 of 4 (25.0%) — 1 closed not counted" in accuracy and "CAGE/S1" in accuracy
    listing = (await supervisor.get("/supervisor/counts")).text
    assert "1/4 lines accurate" in listing and "1 not counted" in listing and "1 major" in listing


async def test_operators_get_403_and_forms_need_the_csrf_token(room: Api, browsers: Any) -> None:  # noqa: F811
    operator = browsers()
    await operator.sign_in("operator")
    assert (await operator.get("/supervisor/counts")).status_code in (303, 403)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    forged = await supervisor.client.post("/supervisor/counts", data={"kind": "location", "scope": "CAGE"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    nothing = await supervisor.submit("/supervisor/counts", "/supervisor/counts", {"kind": "location", "scope": "NOWHERE"})
    assert nothing.status_code == 404 and "No location NOWHERE" in nothing.text
    cadence = await supervisor.submit("/supervisor/counts/schedule", "/supervisor/counts/schedule/cadence",
                                      {"location": "LINE", "cadence_days": "14"})
    assert cadence.status_code == 303
    assert "every 14 days (set here)" in (await supervisor.get("/supervisor/counts/schedule")).text
    typo = await supervisor.submit("/supervisor/counts/schedule", "/supervisor/counts/schedule/cadence",
                                   {"location": "LINE", "cadence_days": "two weeks"})
    assert typo.status_code == 422 and "not a whole number" in typo.text
    assert CSRF.search((await supervisor.get("/supervisor/counts")).text)
    missing = await supervisor.get("/supervisor/counts/0192f7c2-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and "No such count" in missing.text


async def test_a_long_review_is_shown_a_page_of_open_lines_at_a_time(
    room: Api, browsers: Any, monkeypatch: Any  # noqa: F811
) -> None:
    import server.counts.pages as pages

    monkeypatch.setattr(pages, "PAGE_LINES", 1)
    count = (await room.post("/api/counts", {"kind": "location", "location": "CAGE/S1", "name": "S1"}, "supervisor")).json()
    assert (await room.post(f"/api/counts/{count['id']}/start", {}, "supervisor")).status_code == 200
    await counted(room, count, LOT | {"lot": "L-1"}, "CAGE/S1", 30)  # wrong
    await counted(room, count, BULK, "CAGE/S1", 100)  # right: not an open line
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    page = f"/supervisor/counts/{count['id']}"
    first = (await supervisor.get(page)).text
    total = int(re.search(r"Lines 1–1 of (\d+) to act on", first).group(1))
    assert total >= 2 and '<a href="?offset=1">next</a>' in first and "previous" not in first
    shown = [re.findall(r'data-line="[^"]*" data-state="(\w+)"', first)]
    for offset in range(1, total):
        text = (await supervisor.get(f"{page}?offset={offset}")).text
        assert f"Lines {offset + 1}–{offset + 1} of {total}" in text and f'<a href="?offset={offset - 1}">previous</a>' in text
        shown.append(re.findall(r'data-line="[^"]*" data-state="(\w+)"', text))
    assert all(len(states) == 1 and states[0] != "match" for states in shown)  # one open line a page, all of them
