"""Uninstall, scrap and isolate, offline, then synced and checked on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_uninstall_scrap_and_isolate_offline(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    pump, motor, lot = f"P-{uid}", f"M-{uid}", f"LOT-{uid}"
    server.op("receive", part="PUMP-A", tracking="serial", serial=pump, location="STORES", quantity=1)
    server.op("receive", part="MOTOR-5", tracking="serial", serial=motor, location="STORES", quantity=1)
    server.op("install", parent_serial=pump, part="MOTOR-5", tracking="serial", serial=motor, quantity=1)
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location="STORES/SHELF-2", quantity=20)
    phone = phones("olga")
    phone.offline()

    phone.go("uninstall")
    phone.scan(pump)
    phone.page.click(f"ul.picked button.row:has-text('{motor}')")
    phone.scan("STORES/SHELF-2")
    phone.page.wait_for_selector("button.primary:has-text('Uninstall 1 to STORES/SHELF-2')")
    phone.screenshot(artifacts, "12-uninstall")
    phone.page.click("button.primary")
    phone.wait_queued(1)

    phone.go("scrap")
    phone.scan(lot)
    phone.page.wait_for_selector(f"p.dest:has-text('{lot}')")
    phone.page.fill("input[name=quantity]", "3")
    phone.page.click("button.chip:has-text('Damaged')")
    phone.screenshot(artifacts, "13-scrap")
    phone.page.click("button.primary:has-text('Scrap')")  # one tap arms, a second one scraps
    phone.page.click(f"button.primary.armed:has-text('Tap again to scrap 3 × ')")
    phone.wait_queued(2)

    phone.go("isolate")
    phone.scan(motor)  # where the phone now has it: uninstalled onto SHELF-2
    phone.page.wait_for_selector(f"p.dest:has-text('{motor}'):has-text('STORES/SHELF-2')")
    phone.page.click("button.chip:has-text('Suspect quality')")
    phone.screenshot(artifacts, "14-isolate")
    phone.page.click("button.primary:has-text('Isolate')")
    phone.wait_queued(3)

    phone.offline(False)
    phone.wait_synced()
    assert [line.splitlines()[1] for line in phone.outcomes()[:3]] == ["Applied"] * 3
    (unit,) = server.inventory(serial=motor)
    assert (unit["location"], unit["installed_in"], unit["isolated"], unit["status"]) == ("STORES/SHELF-2", None, True, "unavailable")
    free = [row for row in server.inventory(part="SEAL-KIT", lot=lot) if row["status"] == "available"]
    assert [row["quantity"] for row in free] == [17]
