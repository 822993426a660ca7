"""A lot is a lot of one part on the phone too: a lot code that two parts use (received on part A and
on part B) is not added up across parts; scanning it asks which part. Offline, from the phone's copy."""

from __future__ import annotations

from typing import Any


def test_a_lot_code_of_two_parts_asks_which_part(phones: Any, server: Any, uid: str) -> None:
    part_a, part_b, lot = f"LA-{uid}", f"LB-{uid}", f"SAME-{uid}"
    for part in (part_a, part_b):
        server.api("POST", "/api/parts", json={"part_number": part, "tracking": "lot", "description": f"Lot part {part}"})
    server.op("receive", part=part_a, tracking="lot", lot=lot, location="STORES/SHELF-1", quantity=5)
    server.op("receive", part=part_b, tracking="lot", lot=lot, location="STORES/SHELF-2", quantity=7)
    phone = phones("olga")
    phone.offline()

    phone.scan(lot)  # the scan result: which part's lot?
    phone.page.wait_for_selector("article.item[data-kind='lots']")
    assert phone.page.eval_on_selector_all("ul.lot-parts a", "els => els.map(e => e.innerText)") == [
        f"{part_a} — lot {lot}", f"{part_b} — lot {lot}"]
    phone.page.click(f"ul.lot-parts a:has-text('{part_a}')")
    phone.page.wait_for_selector("article.item[data-kind='lot']")
    facts = phone.page.inner_text("dl.facts")
    assert part_a in facts and part_b not in facts
    assert "On hand\n5" in facts  # part A's lot only, not 12

    phone.go("move")  # an action asks too, and takes the chosen part's stock
    phone.scan(lot)
    phone.page.click(f"div.chooser button.row:has-text('{part_b}')")
    phone.page.wait_for_selector("ul.picked input.qty")
    assert phone.page.input_value("ul.picked input.qty") == "7"
    assert part_b in phone.page.inner_text("ul.picked") and part_a not in phone.page.inner_text("ul.picked")
