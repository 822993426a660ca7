"""Production on the phone in Chromium (issue 18): the item screen of a unit or a lot opens its traceability report
(online: what it is made of, what it went into, the runs; offline: it says it needs a connection) with a link to
the printable page; and a move of a lot shows the part's lots to take first (FEFO) and warns, without refusing,
when another lot expires before the one scanned."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any


def open_trace(phone: Any, code: str) -> str:
    phone.go(f"item?code={code}")
    phone.page.click("details.trace summary")
    phone.page.wait_for_selector("details.trace[data-loaded] h4")
    return phone.page.inner_text("details.trace")


def test_the_item_screen_shows_the_genealogy_of_a_unit_and_a_lot(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    frame, gasket, unit, lot = f"FRAME-{uid}", f"GASKET-{uid}", f"F-{uid}", f"G-{uid}"
    server.api("POST", "/api/parts", json={"part_number": frame, "tracking": "serial"})
    server.api("POST", "/api/parts", json={"part_number": gasket, "tracking": "lot"})
    server.op("receive", part=frame, tracking="serial", serial=unit, location="LINE-1", quantity=1)
    server.op("receive", part=gasket, tracking="lot", lot=lot, location="LINE-1", quantity=10)
    server.op("install", part=gasket, tracking="lot", lot=lot, parent_serial=unit, quantity=2, from_location="LINE-1")
    phone = phones("olga")

    down = open_trace(phone, unit)
    assert f"{gasket} lot {lot} ×2" in phone.page.inner_text("details.trace ul.down")
    assert phone.page.inner_text("details.trace ul.up") == "—"  # in nothing
    assert phone.page.get_attribute("details.trace a", "href") == f"/supervisor/trace?serial={unit}"
    assert "Made of" in down and "Went into" in down
    phone.screenshot(artifacts, "42-item-trace")

    open_trace(phone, f"L:{gasket}/{lot}")  # the lot (of its part) as the phone links it
    assert f"{unit} ({frame})" in phone.page.inner_text("details.trace ul.up")

    phone.offline()
    phone.go(f"item?code={unit}")
    phone.page.click("details.trace summary")
    assert phone.page.inner_text("details.trace p.error") == "Traceability needs a connection"


def test_a_move_of_a_lot_suggests_the_first_expiring_and_warns_without_refusing(
    phones: Any, server: Any, artifacts: Path, uid: str
) -> None:
    part, late, soon, plain = f"GLUE-{uid}", f"GL-LATE-{uid}", f"GL-SOON-{uid}", f"GL-NONE-{uid}"
    in_30, in_180 = ((date.today() + timedelta(days=days)).isoformat() for days in (30, 180))
    server.api("POST", "/api/parts", json={"part_number": part, "tracking": "lot"})
    server.op("receive", part=part, tracking="lot", lot=plain, location="STORES/SHELF-1", quantity=5)
    server.op("receive", part=part, tracking="lot", lot=late, location="STORES/SHELF-1", quantity=5, expiry=in_180)
    server.op("receive", part=part, tracking="lot", lot=soon, location="STORES/SHELF-2", quantity=5, expiry=in_30)
    phone = phones("olga")
    phone.offline()  # the phone's own copy: FEFO works offline

    phone.go("move")
    phone.scan(late)
    phone.page.wait_for_selector("#toast.warn")
    assert phone.page.inner_text("#toast") == f"{soon} expires {in_30}, before this one"
    assert phone.page.inner_text("ul.picked .fefo") == (
        f"First expiring first: {soon} STORES/SHELF-2 {in_30}, {late} STORES/SHELF-1 {in_180}, {plain} STORES/SHELF-1")
    phone.screenshot(artifacts, "43-move-fefo")
    phone.scan("LINE-1")  # not refused: the operator may know why
    phone.page.click("section.flow button.primary")
    phone.wait_queued(1)
    phone.offline(False)
    phone.wait_synced()
    assert {r["location"] for r in server.inventory(part=part, lot=late)} == {"LINE-1"}
