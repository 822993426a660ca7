"""The purchasing supervisor pages, as a browser uses them (cookie sign-in, CSRF on every form): make a PO from
the form, open it, close a line short, cancel it; see what is below minimum and draft the POs with one
button."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.purchasing_support import buyer  # noqa: F401 - fixture
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture


async def test_make_open_close_short_and_cancel_a_po_on_the_pages(buyer: Api, browsers: Any) -> None:  # noqa: F811
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    listed = await supervisor.get("/supervisor/purchase-orders")
    assert listed.status_code == 200 and "No purchase orders here." in listed.text
    made = await supervisor.submit("/supervisor/purchase-orders", "/supervisor/purchase-orders", {
        "supplier": "Acme", "lines": "BOLT 500 0.04\n\nRESIN 3 12.5 STORES/A\n", "note": "urgent",
    })
    assert made.status_code == 303
    page = made.headers["location"]
    shown = (await supervisor.get(page)).text
    assert 'data-status="draft"' in shown and 'data-fact="total">57.50 EUR' in shown and "urgent" in shown
    assert 'data-line="1" data-status="open"' in shown and "to STORES/A" in shown
    assert (await supervisor.submit(page, f"{page}/open", {})).status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-status="open"' in shown and 'data-close="1"' in shown and "500 pcs will not come" in shown
    assert [(r["quantity"], r["status"]) for r in await buyer.items(part="BOLT")] == [(500, "on_order")]
    number = page.rsplit("/", 1)[1]
    await buyer.ok("receive", part="BOLT", tracking="untracked", location="DOCK", quantity=100, po_line=f"{number}/1")
    shown = (await supervisor.get(page)).text
    assert f'data-receipt="{number}/1"' in shown and "1 receipt(s)" in shown and "400 pcs will not come" in shown

    again = await supervisor.submit(page, f"{page}/open", {})
    assert again.status_code == 409 and "only a draft can be opened" in again.text
    assert (await supervisor.submit(page, f"{page}/lines/1/close", {})).status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-line="1" data-status="closed_short"' in shown and 'data-close="1"' not in shown
    assert (await supervisor.submit(page, f"{page}/cancel", {})).status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-status="cancelled"' in shown and 'id="cancel"' not in shown
    assert [(r["quantity"], r["status"]) for r in await buyer.items(part="RESIN")] == [(3, "unavailable")]
    cancelled = (await supervisor.get("/supervisor/purchase-orders?status=cancelled")).text
    assert f'data-po="{page.rsplit("/", 1)[1]}" data-status="cancelled"' in cancelled

    bad = await supervisor.submit("/supervisor/purchase-orders", "/supervisor/purchase-orders",
                                  {"supplier": "Acme", "lines": "BOLT five 0.04"})
    assert bad.status_code == 422 and "row 1: quantity: &#39;five&#39; is not a decimal number" in bad.text
    finer = await supervisor.submit("/supervisor/purchase-orders", "/supervisor/purchase-orders",
                                    {"supplier": "Acme", "lines": "BOLT 2,5 0.04"})
    assert finer.status_code == 422 and "BOLT" not in finer.headers.get("location", "")
    assert "pcs is counted in whole numbers" in finer.text
    await buyer.part("CABLE", "untracked", unit="m")
    metres = await supervisor.submit("/supervisor/purchase-orders", "/supervisor/purchase-orders",
                                     {"supplier": "Acme", "lines": "CABLE 2,5 1.20"})
    assert metres.status_code == 303
    shown = (await supervisor.get(metres.headers["location"])).text
    assert 'data-fact="total">3.00 EUR' in shown
    unknown = await supervisor.submit("/supervisor/purchase-orders", "/supervisor/purchase-orders",
                                      {"supplier": "Acme", "lines": "NOPE 1 1"})
    assert unknown.status_code == 404 and "no part NOPE" in unknown.text
    missing = await supervisor.get("/supervisor/purchase-orders/PO-0000")
    assert missing.status_code == 404 and "There is no purchase order PO-0000." in missing.text
    forged = await supervisor.client.post(f"{page}/open", data={"csrf": "forged"})
    assert forged.status_code == 403

    operator = browsers()
    assert (await operator.sign_in("operator")).status_code == 403  # no session for an operator
    assert (await operator.get("/supervisor/purchase-orders")).headers["location"].startswith("/supervisor/login")


async def test_below_minimum_drafts_the_pos_with_one_button(buyer: Api, browsers: Any) -> None:  # noqa: F811
    await buyer.ok("receive", part="BOLT", tracking="untracked", location="STORES/A", quantity=30, supplier="Acme",
                   unit_cost=0.05)
    response = await buyer.client.put("/api/constraints", json={"part": "BOLT", "location": "STORES", "min": 100,
                                                                "max": 300}, headers=buyer.headers("supervisor"))
    assert response.status_code == 200
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get("/supervisor/replenishment")).text
    assert 'data-fact="below">1 constraint(s) below their minimum.' in shown
    assert 'data-part="BOLT" data-location="STORES"' in shown and 'data-fact="suggested"><strong>270<' in shown
    assert "0.05 EUR" in shown
    drafted = await supervisor.submit("/supervisor/replenishment", "/supervisor/replenishment/draft", {"location": ""})
    assert drafted.status_code == 200 and 'data-fact="drafted">1 draft purchase order(s)' in drafted.text
    drafts = (await buyer.get("/api/purchase-orders", params={"status": "draft"})).json()["items"]
    assert [(po["supplier"], po["total"]) for po in drafts] == [("Acme", "13.50")]  # 270 × 0.05
    assert f'data-po="{drafts[0]["number"]}"' in drafted.text
    german = await supervisor.client.get("/supervisor/replenishment?location=STORES/A",
                                         headers={"Accept-Language": "de"})
    assert "Unter Mindestbestand" in german.text and "Nichts ist unter dem Mindestbestand." in german.text
    nowhere = await supervisor.get("/supervisor/replenishment?location=MARS")
    assert nowhere.status_code == 404
