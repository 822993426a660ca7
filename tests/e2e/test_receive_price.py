"""Costs on the phone in Chromium (issue 17): Receive offers the part's average price as the default; an offline
phone books an incoming package with its package price (typed with a comma) and number, uses part of it, and
syncs: FIFO costs the use from the oldest layer, and the supervisor's valuation page shows what is left, the
average price and the package in the FIFO report. A receipt against a PO line offers the line's price."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_cycle_count import supervisor_page

LAST_OP = "import('/app/outbox.js').then(async (o) => (await o.recent(1))[0].op)"


def choose_part(phone: Any, part: str) -> None:
    phone.go("receive")
    phone.page.fill("input[name=part]", part)
    phone.page.dispatch_event("input[name=part]", "change")
    phone.page.wait_for_selector("p.tracking[data-tracking]:not([data-tracking=''])")


def test_an_offline_phone_books_a_package_with_its_price_uses_part_of_it_and_the_valuation_shows_it(
    phones: Any, browser: Any, server: Any, artifacts: Path, uid: str
) -> None:
    part, package = f"OIL-{uid}", f"DN-{uid}"  # a part of its own: its layers are this test's
    server.api("POST", "/api/parts", json={"part_number": part, "tracking": "untracked", "description": "Oil"})
    server.op("receive", part=part, tracking="untracked", location="STORES/SHELF-2", quantity=60, unit_cost="2.10")
    phone = phones("olga")
    phone.offline()

    choose_part(phone, part)  # the average price pulled with the part is the default
    assert phone.page.get_attribute("input[name=price]", "placeholder") == "2.10"
    assert phone.page.inner_text(".price-hint") == "Left empty: 2.10 each (average)"
    phone.page.fill("input[name=quantity]", "50")
    phone.page.select_option("select[name=per]", "package_price")
    phone.page.fill("input[name=price]", "100,00")
    phone.page.fill("input[name=package_ref]", package)
    phone.page.fill("input[name=location]", "STORES/SHELF-2")
    phone.screenshot(artifacts, "40-receive-package-price")
    phone.page.click("form.flow button.primary")
    phone.wait_queued(1)
    args = phone.page.evaluate(LAST_OP)["args"]
    assert (args["quantity"], args["package_price"], args["package_ref"]) == (50, "100.00", package)
    assert "unit_cost" not in args

    phone.go("remove")  # Use: 70 of the 110 the phone now shows there
    phone.scan(part)
    phone.page.wait_for_selector(f"p.dest:has-text('{part}')")
    phone.page.fill("input[name=quantity]", "70")
    phone.page.click("button.chip:has-text('Repair')")
    phone.page.click("button.primary:has-text('Use')")
    phone.wait_queued(2)

    phone.offline(False)
    phone.wait_synced()
    assert [line.splitlines()[1] for line in phone.outcomes()[:2]] == ["Applied"] * 2
    (used,) = server.api("GET", "/api/usage", "sam", params={"part": part})["items"]
    assert (used["quantity"], used["cost"]) == (70, "146.00")  # 60 × 2.10, the oldest, then 10 × 2.00
    choose_part(phone, part)  # the receipt moved the average: the pull brought it
    assert phone.page.inner_text(".price-hint") == "Left empty: 2.054545 each (average)"

    sam = supervisor_page(browser, server, "/supervisor/valuation?location=STORES/SHELF-2")
    row = f"table#valuation tr[data-part='{part}']"
    facts = {name: sam.inner_text(f"{row} td[data-fact={name}]") for name in ("fifo_value", "average_price", "average_value")}
    assert facts == {"fifo_value": "80.00", "average_price": "2.054545", "average_value": "82.1818"}
    assert "40" in sam.inner_text(f"{row} td:nth-child(2)")
    layer = sam.inner_text(f"table#fifo tr[data-part='{part}'][data-package='{package}']")
    assert "40 / 50" in layer and "2.00" in layer and "80.00" in layer
    sam.screenshot(path=str(artifacts / "41-valuation-after-phone.png"))
    sam.context.close()


def test_receiving_against_a_po_line_offers_the_lines_price(phones: Any, server: Any, uid: str) -> None:
    part = f"GREASE-{uid}"
    server.api("POST", "/api/parts", json={"part_number": part, "tracking": "untracked"})
    server.op("receive", part=part, tracking="untracked", location="STORES", quantity=5, unit_cost="9.00")
    po = server.api("POST", "/api/purchase-orders", user="sam", json={"supplier": f"Acme {uid}", "lines": [
        {"part": part, "quantity": 12, "unit_price": "7.25", "location": "DOCK-1"}]})
    server.api("POST", f"/api/purchase-orders/{po['number']}/open", user="sam")
    phone = phones("olga")
    phone.go("receivepo")
    phone.page.click(f"li[data-po-line='{po['number']}/1'] a")
    phone.page.wait_for_selector("p.po-line[data-remaining='12']")
    assert phone.page.inner_text(".price-hint") == "Left empty: 7.25 each (PO line)"
    phone.page.fill("input[name=price]", "7.5")  # the invoice says otherwise: the price typed wins
    phone.page.click("form.flow button.primary")
    phone.wait_queued(1)
    assert phone.page.evaluate(LAST_OP)["args"]["unit_cost"] == "7.50"
