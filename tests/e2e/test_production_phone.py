"""Production on the phone in Chromium: an offline phone picks a kit for an open run (the pump into the kit's
tote), issues the pump from the tote and four screws to the run (WIP at once on the phone), and completes one
assembly with its serial; it syncs: the run has them issued and one built, the assembly holds its components; the
supervisor's run page shows issued and produced, and the trace of the assembly its components."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_cycle_count import supervisor_page


def status_on_phone(phone: Any, serial: str) -> str:
    return phone.page.evaluate(f"import('/app/store.js').then(async (s) => (await s.unitBySerial('{serial}'))?.status)")


def test_an_offline_phone_kits_issues_to_a_run_and_completes_an_assembly(
    phones: Any, browser: Any, server: Any, artifacts: Path, uid: str
) -> None:
    assembly, screw, pump, run, built = f"ASM-{uid}", f"SCR-{uid}", f"RP-{uid}", f"RUN-{uid}", f"A-{uid}"
    server.api("POST", "/api/parts", json={"part_number": assembly, "tracking": "serial", "description": "Skid"})
    server.api("POST", "/api/parts", json={"part_number": screw, "tracking": "untracked", "description": "Screw"})
    server.api("PUT", f"/api/parts/{assembly}/bom", user="sam", json={"lines": [
        {"part": "PUMP-A", "quantity": 1}, {"part": screw, "quantity": 4}]})
    server.op("receive", part="PUMP-A", tracking="serial", serial=pump, location="STORES/SHELF-1", quantity=1)
    server.op("receive", part=screw, tracking="untracked", location="STORES/SHELF-1", quantity=50)
    server.api("POST", "/api/runs", user="sam", json={"number": run, "part": assembly, "quantity": 1, "location": "LINE-1"})
    server.api("POST", f"/api/runs/{run}/start", user="sam")
    kit = server.api("POST", "/api/kits", user="sam", json={"run": run, "location": "LINE-1", "lines": [
        {"part": "PUMP-A", "quantity": 1}]})

    olga = phones("olga")
    olga.go("pickkit")
    olga.page.click(f"li[data-kit='{kit['number']}'] a")
    olga.page.wait_for_selector("li[data-part='PUMP-A'][data-remaining='1']")
    olga.offline()
    before = olga.queued()
    olga.scan(pump)  # into the kit's tote
    olga.wait_queued(before + 1)
    assert status_on_phone(olga, pump) == "kitted"

    olga.go("issue")
    olga.page.click(f"li[data-run='{run}'] a")  # the open run this phone pulled (its WIP location)
    olga.page.wait_for_selector(f"section.flow[data-run='{run}']")
    olga.scan(pump)  # a unit: issued at once, from the tote
    olga.wait_queued(before + 2)
    assert status_on_phone(olga, pump) == "wip"
    olga.scan(screw)
    olga.page.fill("input[name=quantity]", "4")
    olga.page.click("form.flow button.primary")
    olga.wait_queued(before + 3)
    olga.page.wait_for_selector(f"ul.issued li[data-item='{screw}']")  # on the run, on the phone's copy
    assert olga.page.locator(f"ul.issued li[data-item='{pump}']").count() == 1
    olga.screenshot(artifacts, "40-issue-to-run-offline")

    olga.go("complete")
    olga.page.click(f"li[data-run='{run}'] a")
    olga.page.wait_for_selector("input[name=serials]")
    assert olga.page.input_value("input[name=location]") == "LINE-1"  # the run's location unless changed
    olga.page.fill("input[name=serials]", built)
    olga.page.click("form.flow button.primary")
    olga.wait_queued(before + 4)
    assert olga.pending() == 4

    olga.offline(False)
    olga.wait_synced()
    assert not any("Held" in line or "Rejected" in line for line in olga.outcomes())
    shown = server.api("GET", f"/api/runs/{run}")
    assert [(r["part"], r["issued"], r["consumed"]) for r in shown["requirements"]] == [("PUMP-A", 1, 1), (screw, 4, 4)]
    assert (shown["produced"], [i["serial"] for i in shown["produced_items"]]) == (1, [built])
    assert [(r["location"], r["status"]) for r in server.inventory(serial=built)] == [("LINE-1", "available")]
    assert [r["status"] for r in server.inventory(serial=pump)] == ["installed"]

    sam = supervisor_page(browser, server, f"/supervisor/runs/{run}")
    assert sam.inner_text("[data-fact=produced]").startswith("1")
    assert sam.locator(f"tr[data-item='{pump}']").count() == 1 and sam.locator(f"tr[data-item='{built}']").count() == 1
    sam.goto(f"{server.url}/supervisor/trace?serial={built}")
    down = sam.inner_text("#down")
    assert pump in down and screw in down
    sam.screenshot(path=str(artifacts / "41-trace-of-the-assembly.png"))
    sam.context.close()
