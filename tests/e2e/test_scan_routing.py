"""Scans never land in the wrong field: a keyboard-wedge burst is a scan wherever the focus is (our own
U:/L:/P:/B: labels are routed by what they are), a location label is never taken for a serial, a scan
while a quantity has the focus neither wipes it nor is lost, a tapped quantity is replaced by what is
typed, and an action leaves the focus out of text fields (no keyboard over the screen). Offline."""

from __future__ import annotations

from typing import Any

ACTIVE = "document.activeElement ? `${document.activeElement.tagName}:${document.activeElement.name ?? ''}` : ''"
LAST_OP = "import('/app/outbox.js').then(async (o) => (await o.recent(1))[0].op)"


def value(phone: Any, selector: str) -> str:
    return phone.page.input_value(selector)


def wait_value(phone: Any, selector: str, expected: str) -> None:
    phone.page.wait_for_function("([s, v]) => document.querySelector(s).value === v", arg=[selector, expected])


def test_a_location_label_scanned_in_the_serial_field_fills_the_location(phones: Any, uid: str) -> None:
    phone = phones("olga")
    phone.offline()
    phone.go("receive")
    phone.page.fill("input[name=part]", "PUMP-A")
    phone.page.dispatch_event("input[name=part]", "change")
    phone.page.wait_for_selector("p.tracking:has-text('tracked by serial')")
    phone.page.click("input[name=serial]")  # the focus is in Serial when the scanner fires

    phone.wedge("B:STORES/SHELF-1")  # our own location label
    wait_value(phone, "input[name=location]", "STORES/SHELF-1")
    assert value(phone, "input[name=serial]") == ""
    phone.wedge(f"SN-{uid}")  # then the serial, focus still in Serial
    wait_value(phone, "input[name=serial]", f"SN-{uid}")
    assert value(phone, "input[name=location]") == "STORES/SHELF-1"  # not appended to

    before = phone.queued()
    phone.page.click("form.flow button.primary")
    phone.wait_queued(before + 1)
    op = phone.page.evaluate(LAST_OP)
    assert (op["args"]["serial"], op["args"]["location"]) == (f"SN-{uid}", "STORES/SHELF-1")
    assert not phone.page.evaluate(ACTIVE).startswith("INPUT")  # the keyboard does not come back over the screen


def test_a_location_label_is_never_received_as_a_serial(phones: Any, uid: str) -> None:
    phone = phones("olga")
    phone.offline()
    phone.go("receive")
    phone.page.fill("input[name=part]", "PUMP-A")
    phone.page.dispatch_event("input[name=part]", "change")
    phone.page.wait_for_selector("p.tracking:has-text('tracked by serial')")
    phone.page.fill("input[name=serial]", "B:PLANT-1/LINE-1")  # typed by hand, or pasted
    phone.page.fill("input[name=location]", "DOCK-1")
    before = phone.queued()
    phone.page.click("form.flow button.primary")
    phone.page.wait_for_selector("#toast.error:has-text('B:PLANT-1/LINE-1 is a location label, not a serial')")
    assert phone.queued() == before

    phone.wedge("B:NOWHERE-9")  # a location label of a place this phone does not know: not a serial either
    phone.page.wait_for_selector("#toast.error:has-text('Unknown location NOWHERE-9')")
    assert value(phone, "input[name=serial]") == "B:PLANT-1/LINE-1"


def test_move_quantity_enter_tap_and_a_scan_while_it_has_the_focus(phones: Any, server: Any, uid: str) -> None:
    lot = f"MQ-{uid}"
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location="STORES/SHELF-1", quantity=40)
    phone = phones("olga")
    phone.offline()
    phone.go("move")
    phone.scan(f"L:SEAL-KIT/{lot}")
    phone.page.wait_for_selector("ul.picked input.qty")
    assert value(phone, "ul.picked input.qty") == "40"

    phone.page.click("ul.picked input.qty")
    phone.page.keyboard.press("Enter")  # typed Enter in a field outside a form: moves on, no TypeError
    assert phone.errors == []
    phone.page.tap("ul.picked input.qty")  # tapped: the whole value is selected, typing replaces it
    phone.keys("25", 120)
    assert value(phone, "ul.picked input.qty") == "25"

    phone.wedge("B:LINE-1")  # the destination scanned while the quantity has the focus
    phone.page.wait_for_selector("p.dest:has-text('To LINE-1')")
    assert value(phone, "ul.picked input.qty") == "25"
    before = phone.queued()
    phone.page.click("button.primary:has-text('Move 1 item')")
    phone.wait_queued(before + 1)
    op = phone.page.evaluate(LAST_OP)
    assert (op["args"]["quantity"], op["args"]["lot"], op["args"]["to_location"]) == (25, lot, "LINE-1")
    assert phone.errors == []


def test_count_a_unit_scanned_while_a_quantity_has_the_focus_is_counted(phones: Any, server: Any, uid: str) -> None:
    cage, serial, lot = f"QC-{uid}", f"QCU-{uid}", f"QCL-{uid}"
    server.api("POST", "/api/locations", json={"code": cage, "name": "Focus cage"})
    server.op("receive", part="PUMP-A", tracking="serial", serial=serial, location=cage, quantity=1)
    server.op("receive", part="SEAL-KIT", tracking="lot", lot=lot, location=cage, quantity=12)
    count = server.api("POST", "/api/counts", user="sam", json={"kind": "location", "location": cage, "name": f"Focus count {uid}"})
    server.api("POST", f"/api/counts/{count['id']}/start", user="sam", json={})
    phone = phones("olga")
    phone.offline()
    phone.go(f"count?id={count['id']}")
    phone.scan(cage)
    phone.page.wait_for_selector("li.count-line >> nth=1")
    phone.scan(lot)
    phone.page.wait_for_selector("form.entry input.counted:focus")  # opened by the operator: the quantity takes the focus
    phone.keys("11", 120)

    phone.wedge(serial)  # the unit scanned with the focus still in the quantity
    phone.page.wait_for_selector(f"li.count-line[data-key*='{serial}'][data-state='present']")
    assert value(phone, "form.entry input.counted") == "11"  # the quantity typed so far is still there
    phone.page.click("form.entry button:has-text('Save count')")
    phone.page.wait_for_selector(f"li.count-line[data-key*='{lot}'][data-state='counted 11']")
    assert not phone.page.evaluate(ACTIVE).startswith("INPUT")
    assert phone.pending() == 2


def test_a_tapped_receive_quantity_is_replaced_by_what_is_typed(phones: Any) -> None:
    phone = phones("olga")
    phone.offline()
    phone.go("receive")
    phone.page.fill("input[name=part]", "SCREW-M3")
    phone.page.dispatch_event("input[name=part]", "change")
    phone.page.wait_for_selector("p.tracking:has-text('not tracked: a quantity only')")
    assert value(phone, "input[name=quantity]") == "1"
    phone.page.tap("input[name=quantity]")
    phone.keys("250", 120)
    assert value(phone, "input[name=quantity]") == "250"
