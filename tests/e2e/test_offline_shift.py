"""A shift without a signal: receive, move and install offline, reload offline, then sync and find it
all on the server. Screenshots of each main screen go to tests/e2e/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Phone


def move(phone: Phone, codes: list[str], to: str, quantities: dict[int, int] | None = None) -> None:
    phone.go("move")
    for code in codes:
        phone.scan(code)
    phone.page.wait_for_selector(f"ul.picked li >> nth={len(codes) - 1}")
    for index, quantity in (quantities or {}).items():
        phone.page.fill(f"ul.picked li >> nth={index} >> input.qty", str(quantity))
    phone.scan(to)
    phone.page.wait_for_selector(f"button.primary:has-text('to {to}')")


# What the sync chip says at the moment the app is ready (before anything else runs).
CHIP_AT_READY = """new MutationObserver((_, observer) => {
  if (document.documentElement.dataset.ready !== '1') return;
  window.chipAtReady = document.getElementById('syncchip').textContent;
  observer.disconnect();
}).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });"""


def test_a_shift_offline_survives_a_reload_and_syncs(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    pump, motor, lot = f"PUMP-{uid}", f"MOTOR-{uid}", f"SK-{uid}"
    before = {"LINE-1": 0} | {row["location"]: row["quantity"] for row in server.inventory(part="SCREW-M3")}
    phone = phones("olga")
    phone.screenshot(artifacts, "01-home")
    phone.offline()
    assert phone.page.text_content("#net") == "OFFLINE"

    phone.receive("PUMP-A", "DOCK-1", serial=pump)
    phone.receive("MOTOR-5", "DOCK-1", serial=motor)
    phone.receive("SEAL-KIT", "DOCK-1", lot=lot, quantity=12)
    phone.screenshot(artifacts, "02-receive")

    # move the pump and part of the screws (a partial quantity) to the line
    move(phone, [pump, "SCREW-M3"], "LINE-1", quantities={1: 50})
    phone.screenshot(artifacts, "03-move")
    phone.page.click("button.primary:has-text('Move 2 items')")
    phone.wait_queued(5)

    # install the motor and 2 seal kits into the pump
    phone.go("install")
    phone.scan(pump)
    phone.page.wait_for_selector(f"p.dest:has-text('Into {pump}')")
    phone.scan(motor)
    phone.scan(lot)
    phone.page.wait_for_selector("ul.picked li >> nth=1")
    phone.page.fill("ul.picked li >> nth=1 >> input.qty", "2")
    phone.screenshot(artifacts, "04-install")
    phone.page.click("button.primary:has-text('Install 2 components')")
    phone.wait_queued(7)
    assert phone.pending() == 7

    # reload with the network still gone: the shell comes from the service worker, the queue from IndexedDB
    phone.page.add_init_script(CHIP_AT_READY)
    phone.page.reload()
    phone.page.wait_for_selector("html[data-ready='1']")
    assert phone.page.evaluate("window.chipAtReady").startswith("7 waiting")  # the first status shown counts them
    phone.page.wait_for_selector("#syncchip:has-text('7 waiting')")
    assert phone.page.text_content("#net") == "OFFLINE"
    phone.go("")
    phone.scan(pump)
    phone.page.wait_for_selector("article.item[data-kind='unit']")
    facts = phone.page.inner_text("article.item")
    assert "LINE-1" in facts and motor in facts and "not synced" in facts and "null" not in facts
    phone.screenshot(artifacts, "05-scan-result")
    phone.go("sync")
    phone.page.wait_for_selector("dd[data-fact='waiting']:has-text('7 waiting')")
    phone.screenshot(artifacts, "06-sync-offline")

    # signal again: the queue drains by itself
    phone.offline(False)
    phone.wait_synced()
    assert phone.pending() == 0
    lines = phone.outcomes()
    assert len([line for line in lines if "Applied" in line]) >= 7, lines
    phone.screenshot(artifacts, "07-sync-done")

    pump_row = server.inventory(serial=pump)[0]
    assert (pump_row["location"], pump_row["status"]) == ("LINE-1", "available")
    motor_row = server.inventory(serial=motor)[0]
    assert (motor_row["status"], motor_row["installed_in"]) == ("installed", pump)
    screws = {row["location"]: row["quantity"] for row in server.inventory(part="SCREW-M3")}
    assert screws["LINE-1"] - before["LINE-1"] == 50 and before["STORES/SHELF-1"] - screws["STORES/SHELF-1"] == 50
    seals = [(row["installed_in"], row["quantity"]) for row in server.inventory(part="SEAL-KIT", lot=lot)]
    assert sorted(seals, key=str) == sorted([(pump, 2), (None, 10)], key=str)

    # after the pull the phone shows the server's state, no longer "not synced"
    phone.go("")
    phone.scan(pump)
    phone.page.wait_for_selector("article.item[data-kind='unit']")
    assert "not synced" not in phone.page.inner_text("article.item")
