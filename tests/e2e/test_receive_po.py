"""Receiving against purchase order lines in Chromium: an offline phone sees the open lines of a PO (pulled),
receives both lines from supplier labels read by a keyboard wedge — two units from ISO 15434 labels (PO number
`K`, line `4K`), a lot from a GS1 label (AI 400: PO number and line) — with what remains dropping at once; it
syncs and the PO is received. A second phone receives more than was ordered: held, in plain words; the
supervisor approves it on the conflict page and the line grows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_cycle_count import supervisor_page

GS, RS = "\x1d", "\x1e"


def remaining_on(phone: Any, po_line: str) -> str:
    return phone.page.get_attribute(f"li[data-po-line='{po_line}']", "data-remaining")


# The form shows the label read: its part, line and serial or lot in the fields, the line's part known. (The line's
# remaining alone would not do: the previous receipt's line stays shown, "0" once it is done, until the label is read.)
LABEL_READ = """(expected) => {
    const value = (name) => document.querySelector(`form.flow input[name=${name}]`)?.value;
    return Object.entries(expected).every(([name, wanted]) => value(name) === wanted)
        && !!document.querySelector('p.tracking')?.dataset.tracking
        && document.querySelector('p.po-line')?.dataset.remaining !== '';
}"""


def receive_label(phone: Any, label: str, remaining: str, **fields: str) -> None:
    before = phone.queued()
    phone.page.evaluate("document.activeElement && document.activeElement.blur()")
    phone.wedge(label)
    phone.page.wait_for_function(LABEL_READ, arg=fields)
    phone.page.click("form.flow button.primary")
    phone.wait_queued(before + 1)
    phone.page.wait_for_selector(f"p.po-line[data-remaining='{remaining}']")


def test_an_offline_phone_receives_two_po_lines_from_labels_and_an_over_delivery_is_approved(
    phones: Any, browser: Any, server: Any, artifacts: Path, uid: str
) -> None:
    lot = f"SK-{uid}"
    po = server.api("POST", "/api/purchase-orders", user="sam", json={"supplier": f"Acme {uid}", "lines": [
        {"part": "PUMP-A", "quantity": 2, "unit_price": "700", "serials": [f"P-{uid}-1", f"P-{uid}-2"], "location": "DOCK-1"},
        {"part": "SEAL-KIT", "quantity": 10, "unit_price": "2.50", "lot": lot, "location": "STORES/SHELF-2"},
    ]})
    number = po["number"]
    server.api("POST", f"/api/purchase-orders/{number}/open", user="sam")

    olga = phones("olga")
    olga.go("receivepo")
    olga.page.fill("input[name=po]", number)
    olga.page.wait_for_selector(f"li[data-po-line='{number}/2']")
    assert remaining_on(olga, f"{number}/1") == "2" and remaining_on(olga, f"{number}/2") == "10"
    olga.offline()

    olga.go("receive")
    for n, left in ((1, "1"), (2, "0")):
        receive_label(olga, f"[)>{RS}06{GS}PPUMP-A{GS}SP-{uid}-{n}{GS}K{number}{GS}4K1{RS}\x04", left,
                      part="PUMP-A", po_line=f"{number}/1", serial=f"P-{uid}-{n}")
    receive_label(olga, f"(240)SEAL-KIT(10){lot}(30)10(400){number}/2", "0",
                  part="SEAL-KIT", po_line=f"{number}/2", lot=lot)
    olga.go("receivepo")
    olga.page.fill("input[name=po]", number)
    olga.page.wait_for_selector(f"li[data-po-line='{number}/2']")
    assert remaining_on(olga, f"{number}/1") == "0" and remaining_on(olga, f"{number}/2") == "0"  # at once, offline
    olga.screenshot(artifacts, "20-receive-po-offline")
    assert olga.pending() == 3

    olga.offline(False)
    olga.wait_synced()
    received = server.api("GET", f"/api/purchase-orders/{number}", user="sam")
    assert received["status"] == "received"
    assert [(line["received"], line["status"]) for line in received["lines"]] == [(2, "received"), (10, "received")]
    assert [(r.get("serial") or r.get("lot"), r["quantity"]) for r in received["receipts"]] == [
        (f"P-{uid}-1", 1), (f"P-{uid}-2", 1), (lot, 10)]
    assert {r["location"] for r in server.inventory(part="PUMP-A", status="available") if r["po_line"] == f"{number}/1"} == {"DOCK-1"}

    oleg = phones("oleg")  # the supplier sent 3 more seal kits
    oleg.go("receive")
    oleg.page.evaluate("document.activeElement && document.activeElement.blur()")
    oleg.wedge(f"(240)SEAL-KIT(10){lot}(30)3(400){number}/2")
    oleg.page.wait_for_selector("p.po-line.error")  # the line is not open on this phone: the server decides
    oleg.page.fill("input[name=location]", "STORES/SHELF-2")
    before = oleg.queued()
    oleg.page.click("form.flow button.primary")
    oleg.wait_queued(before + 1)
    oleg.wait_synced()
    lines = oleg.outcomes()
    found = [line for line in lines if "SEAL-KIT" in line]
    assert len(found) == 1, lines
    outcome = found[0]
    assert "Held for a supervisor: more than was ordered — a supervisor decides" in outcome, outcome

    conflicts = server.api("GET", "/api/sync/conflicts", user="sam", params={"status": "open"})["items"]
    (conflict,) = [c for c in conflicts if c["op"]["args"].get("po_line") == f"{number}/2"]
    assert conflict["reason"] == "over_receipt"
    sam = supervisor_page(browser, server, f"/supervisor/conflicts/{conflict['id']}")
    assert "More arrived than the purchase order line still expects" in sam.inner_text("body")
    sam.click("form[action$='/approve']:not([data-here-now]) button.primary")
    sam.wait_for_selector("text=Approved by sam")
    sam.screenshot(path=str(artifacts / "21-over-receipt-approved.png"), full_page=True)
    grown = server.api("GET", f"/api/purchase-orders/{number}", user="sam")["lines"][1]
    assert (grown["ordered"], grown["received"], grown["status"]) == (13, 13, "received")
    sam.context.close()
