"""What the operator must notice (issue 19 §3), in Chromium at a phone's size: held and rejected ops in the
top bar (amber, red) until the sync screen is opened, one buzz when sync learns of them, their reasons in
words of what happened; toasts that taps pass through; scrap asks a second tap; Receive's tracking words;
the count sheet shows the phone's own unsynced work beside what the server expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BUZZ = "navigator.vibrate = () => { window.buzzes = (window.buzzes || 0) + 1; return true; };"


def chip(phone: Any) -> dict[str, str]:
    return phone.page.eval_on_selector("#syncchip", "c => ({ text: c.innerText, alert: c.dataset.alert, cls: c.className })")


def move(phone: Any, code: str, to: str, quantity: int | None = None) -> None:
    phone.go("move")
    before = phone.queued()
    phone.scan(code)
    phone.page.wait_for_selector("ul.picked li >> nth=0")
    if quantity is not None:
        phone.page.fill("ul.picked input.qty", str(quantity))
    phone.scan(to)
    phone.page.click(f"button.primary:has-text('to {to}')")
    phone.wait_queued(before + 1)


def test_held_and_rejected_ops_stay_in_the_top_bar_until_opened_and_buzz_once(
    phones: Any, server: Any, artifacts: Path, uid: str
) -> None:
    unit, twin = f"NT-{uid}", f"ND-{uid}"
    server.op("receive", part="PUMP-A", tracking="serial", serial=unit, location="STORES/SHELF-1", quantity=1)
    phone = phones("olga", before_open=lambda p: p.page.add_init_script(BUZZ))
    phone.offline()
    move(phone, unit, "STORES/SHELF-2")
    phone.receive("PUMP-A", "DOCK-1", serial=twin)
    # meanwhile, on the server: the unit is scrapped, and the same serial received elsewhere
    server.op("scrap", part="PUMP-A", tracking="serial", serial=unit, location="STORES/SHELF-1", quantity=1, reason="Damaged")
    server.op("receive", part="PUMP-A", tracking="serial", serial=twin, location="LINE-1", quantity=1)
    phone.go("")
    assert phone.page.evaluate("window.buzzes || 0") == 0

    phone.offline(False)
    phone.page.wait_for_selector("#syncchip[data-alert='rejected']", timeout=60_000)
    phone.page.wait_for_function("document.querySelector('#syncchip').innerText.includes('held')")
    assert chip(phone)["text"] == "1 rejected · 1 held"
    assert "alert rejected" in chip(phone)["cls"]  # red, not the green "Synced"
    assert phone.page.evaluate("window.buzzes") == 1  # once, for both
    phone.page.wait_for_selector(f"ul.outcomes li.state-held:has-text('{unit} is scrapped')")  # home's recent work too
    phone.screenshot(artifacts, "30-held-and-rejected")

    phone.page.reload()  # sticky: still there after a restart, with no second buzz
    phone.page.wait_for_selector("#syncchip[data-alert='rejected']")
    assert phone.page.evaluate("window.buzzes || 0") == 0

    phone.page.click("#syncchip")  # opened
    phone.page.wait_for_selector("#syncchip[data-alert='']")
    assert "1 held" in chip(phone)["text"] and "warn" in chip(phone)["cls"]  # still waits for a supervisor
    outcomes = phone.page.eval_on_selector_all("ul.outcomes li", "els => els.map(e => e.innerText)")
    held = next(o for o in outcomes if o.startswith(f"Move {unit}"))
    assert f"Held for a supervisor: {unit} is scrapped (scrapped by admin)" in held
    assert "not enough stock" not in held
    phone.screenshot(artifacts, "31-what-happened")
    rejected = next(o for o in outcomes if twin in o and "Receive" in o)
    assert "Rejected:" in rejected and twin in rejected.split("Rejected:")[1]

    phone.page.reload()
    phone.page.wait_for_selector("#syncchip[data-alert='']")  # seen stays seen


def test_a_stale_move_says_who_moved_the_unit_where(phones: Any, server: Any, uid: str) -> None:
    unit = f"NS-{uid}"
    server.op("receive", part="PUMP-A", tracking="serial", serial=unit, location="STORES/SHELF-1", quantity=1)
    phone = phones("olga")
    phone.offline()
    move(phone, unit, "LINE-1")
    server.op("move", part="PUMP-A", tracking="serial", serial=unit, from_location="STORES/SHELF-1", to_location="MRB", quantity=1)
    phone.offline(False)
    phone.page.wait_for_selector("#syncchip[data-alert='held']", timeout=60_000)
    assert chip(phone)["text"] == "1 held" and "alert held" in chip(phone)["cls"]  # amber
    outcomes = phone.outcomes()
    assert any(f"{unit} is at MRB, not STORES/SHELF-1 (moved by admin)" in o for o in outcomes), outcomes


def test_toasts_let_taps_through_and_scrap_takes_a_second_tap(phones: Any, server: Any, uid: str) -> None:
    lot = f"NL-{uid}"
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location="STORES/SHELF-1", quantity=10)
    phone = phones("olga")
    phone.offline()
    move(phone, lot, "STORES/SHELF-2", quantity=2)
    phone.page.wait_for_selector("#toast.show")
    box = phone.page.eval_on_selector("#toast", "t => { const r = t.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }")
    assert phone.page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.id", box) != "toast"
    phone.page.click("button:has-text('Start over')", timeout=2000)  # under or beside the toast: it takes the tap
    assert phone.page.is_visible("#toast.show")

    phone.go("scrap")
    phone.scan(lot)
    phone.page.click("div.chooser button.row:has-text('STORES/SHELF-1')")  # the lot is in two places now
    phone.page.wait_for_selector("p.dest:has-text('STORES/SHELF-1')")
    phone.page.fill("input[name=quantity]", "1")
    phone.page.click("button.chip:has-text('Damaged')")
    queued = phone.queued()
    phone.page.click("button.primary:has-text('Scrap')")
    phone.page.wait_for_selector("button.primary.armed:has-text('Tap again to scrap 1 × ')")
    assert phone.queued() == queued  # one tap wrote nothing off
    phone.page.fill("input[name=quantity]", "2")  # changed after the first tap: two taps again
    assert phone.page.inner_text("button.primary") == f"Scrap SEAL-KIT lot {lot}"
    phone.page.click("button.primary")
    phone.page.click("button.primary.armed:has-text('Tap again to scrap 2 × ')")
    phone.wait_queued(queued + 1)


def test_receive_says_how_a_part_is_tracked_in_words(phones: Any) -> None:
    phone = phones("olga")
    phone.go("receive")
    for part, words in (("SCREW-M3", "not tracked: a quantity only"), ("PUMP-A", "tracked by serial number"), ("SEAL-KIT", "tracked by lot")):
        phone.page.fill("input[name=part]", part)
        phone.page.dispatch_event("input[name=part]", "change")
        phone.page.wait_for_selector(f"p.tracking:has-text('{words}')")
        assert "untracked" not in phone.page.inner_text("p.tracking")


def test_the_count_sheet_shows_the_phones_own_unsynced_work(phones: Any, server: Any, uid: str) -> None:
    cage, lot = f"NC-{uid}", f"NCL-{uid}"
    server.api("POST", "/api/locations", json={"code": cage, "name": "Notice cage"})
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location=cage, quantity=100)
    count = server.api("POST", "/api/counts", json={"kind": "location", "location": cage, "name": f"Cage {uid}"})
    server.api("POST", f"/api/counts/{count['id']}/start", json={})
    phone = phones("olga")
    phone.offline()
    move(phone, lot, "DOCK-1", quantity=40)
    phone.go(f"count?id={count['id']}")
    phone.scan(cage)
    line = phone.page.wait_for_selector("li.count-line")
    assert "expected 100 · this phone: −40 not synced" in line.inner_text()
