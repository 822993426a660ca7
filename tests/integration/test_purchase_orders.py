"""Purchase orders through the API, as a purchasing clerk and a stores supervisor would check them: numbers,
lines, money and totals; who may do what; what opening puts on order (inventory rows, the ledger's
`on_order`); cancelling and closing short; the list's filters; and that what is on order is never taken
for stock by an operation, a count or a phone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from server.app import create_app
from server.db import Database
from server.settings import Settings
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.purchasing_support import (  # noqa: F401 - fixture
    act, buyer, draft, line, on_order_ledger, on_order_rows, ordered,
)
from tests.integration.sync_helpers import Phone, Replica

YEAR = datetime.now(UTC).year


async def test_a_draft_gets_the_next_number_its_lines_names_and_exact_money(buyer: Api) -> None:
    first = await draft(buyer, line("BOLT", 500, "0.04"), line("RESIN", 3, 12.5, lot="LOT-7", location="STORES/A"),
                        supplier="Acme Fasteners")
    assert first["number"] == f"PO-{YEAR}-0001" and first["status"] == "draft" and first["currency"] == "EUR"
    assert [(l["po_line"], l["ordered"], l["received"], l["remaining"], l["status"]) for l in first["lines"]] == [
        (f"PO-{YEAR}-0001/1", 500, 0, 500, "open"), (f"PO-{YEAR}-0001/2", 3, 0, 3, "open"),
    ]
    assert [(l["unit_price"], l["total"], l["location"]) for l in first["lines"]] == [
        ("0.04", "20.00", "DOCK"), ("12.50", "37.50", "STORES/A"),  # no location: the incoming dock
    ]
    assert first["total"] == "57.50"
    exact = await draft(buyer, line("BOLT", 3, "0.1"), line("BOLT", 7, 0.000001), supplier="acme fasteners")
    assert exact["number"] == f"PO-{YEAR}-0002" and exact["supplier"] == "Acme Fasteners"  # the same supplier
    assert [l["total"] for l in exact["lines"]] == ["0.30", "0.000007"] and exact["total"] == "0.300007"
    own = await draft(buyer, line("BOLT", 1), number="ACME-77")
    assert own["number"] == "ACME-77"
    assert (await buyer.get(f"/api/purchase-orders/PO-{YEAR}-0001")).json() == first


async def test_wrong_input_is_refused_naming_the_field(buyer: Api) -> None:
    async def create(body: dict[str, Any], role: str = "supervisor") -> Any:
        return await buyer.post("/api/purchase-orders", {"supplier": "Acme", **body}, role)

    refused(await create({"lines": [line("BOLT", 1)]}, "operator"), 403, "forbidden")
    refused(await create({"lines": [line("BOLT", 1), line("NOPE", 1)]}), 404, "unknown_reference", "lines[1].part")
    refused(await create({"lines": [line("BOLT", 1, location="MARS")]}), 404, "unknown_reference", "lines[0].location")
    for price in ("1.0000001", "-1", "abc", "NaN", "1e13"):
        refused(await create({"lines": [line("BOLT", 1, price)]}), 422, "invalid", "lines[0].unit_price")
    refused(await create({"lines": [line("BOLT", 0)]}), 422, "invalid", "lines[0].quantity")
    refused(await create({"lines": []}), 422, "invalid", "lines")
    refused(await create({"lines": [line("PUMP", 2, serials=["P-1"])]}), 422, "invalid", "lines[0].serials")
    refused(await create({"lines": [line("RESIN", 1, serials=["P-1"])]}), 422, "tracking_mismatch", "lines[0].serials")
    refused(await create({"lines": [line("BOLT", 1, lot="L")]}), 422, "tracking_mismatch", "lines[0].lot")
    refused(await create({"lines": [line("PUMP", 1, serials=["P-1"]), line("PUMP", 1, serials=["P-1"])]}),
            422, "invalid", "lines[1].serials[0]")
    refused(await create({"lines": [line("BOLT", 1)], "number": "PO/1"}), 422, "invalid", "number")
    await buyer.ok("receive", part="PUMP", tracking="serial", serial="P-9", location="STORES", quantity=1)
    refused(await create({"lines": [line("PUMP", 1, serials=["P-9"])]}), 409, "duplicate_serial", "lines[0].serials[0]")
    await draft(buyer, line("BOLT", 1), number="X-1")
    refused(await create({"lines": [line("BOLT", 1)], "number": "X-1"}), 409, "already_exists", "number")
    assert (await buyer.get("/api/purchase-orders")).json()["total"] == 1  # nothing else was made


async def test_a_line_without_a_location_needs_an_incoming_location(api: Api) -> None:
    await api.part("BOLT", "untracked")
    await api.location("STORES")
    refused(await api.post("/api/purchase-orders", {"supplier": "A", "lines": [line("BOLT", 1)]}, "supervisor"),
            422, "invalid", "lines[0].location")


async def test_opening_puts_each_line_on_order_as_inventory_and_in_the_ledger(buyer: Api, db: Database) -> None:
    po = await ordered(buyer, line("PUMP", 2, "480", serials=["P-1", "P-2"]), line("PUMP", 3, "480"),
                       line("RESIN", 40, "2.5", lot="LOT-7", location="STORES/A"), line("RESIN", 10, "2.5"),
                       line("BOLT", 500, "0.04", location="STORES/B"))
    number = po["number"]
    assert po["status"] == "open" and po["opened_by"] == "supervisor"
    rows = {(r["part"], r["serial"], r["lot"], r["tracking"], r["location"], r["po_line"]): r["quantity"]
            for r in await buyer.items(status="on_order")}
    assert rows == {
        ("PUMP", "P-1", None, "serial", "DOCK", f"{number}/1"): 1,
        ("PUMP", "P-2", None, "serial", "DOCK", f"{number}/1"): 1,
        ("PUMP", None, None, "untracked", "DOCK", f"{number}/2"): 3,  # serials come with the delivery
        ("RESIN", None, "LOT-7", "lot", "STORES/A", f"{number}/3"): 40,
        ("RESIN", None, None, "untracked", "DOCK", f"{number}/4"): 10,  # its lot comes with the delivery
        ("BOLT", None, None, "untracked", "STORES/B", f"{number}/5"): 500,
    }
    assert {r["supplier"] for r in await buyer.items(status="on_order")} == {"Acme"}
    assert await buyer.items(status="available") == []
    async with db.read() as session:
        assert await on_order_ledger(session) == await on_order_rows(session) == {
            ("PUMP", "DOCK", None): 5, ("RESIN", "STORES/A", "LOT-7"): 40, ("RESIN", "DOCK", None): 10,
            ("BOLT", "STORES/B", None): 500,
        }
    refused(await buyer.post(f"/api/purchase-orders/{number}/open", {}, "supervisor"), 409, "conflict", "number")
    refused(await buyer.post(f"/api/purchase-orders/{number}/open", {}, "operator"), 403, "forbidden")


async def test_what_is_on_order_is_not_stock_for_operations(buyer: Api) -> None:
    await ordered(buyer, line("PUMP", 1, serials=["P-1"]), line("BOLT", 7))
    await buyer.ok("receive", part="BOLT", tracking="untracked", location="DOCK", quantity=5)
    moved = await buyer.ok("move", part="BOLT", tracking="untracked", from_location="DOCK", to_location="STORES",
                           quantity=5)
    assert moved["moved"] == 5
    body = refused(await buyer.op("move", part="BOLT", tracking="untracked", from_location="STORES",
                                  to_location="DOCK", quantity=6), 409, "insufficient_quantity")
    assert body["available"] == 5
    refused(await buyer.op("move", part="BOLT", tracking="untracked", from_location="DOCK", to_location="STORES",
                           quantity=1), 409, "insufficient_quantity")  # the 7 on order at DOCK are not there yet
    on_order = refused(await buyer.op("move", part="PUMP", tracking="serial", serial="P-1", from_location="DOCK",
                                      to_location="STORES", quantity=1), 409, "insufficient_quantity")
    assert on_order["detail"] == "P-1 is on order, not received"
    refused(await buyer.op("receive", part="PUMP", tracking="serial", serial="P-1", location="DOCK", quantity=1),
            409, "duplicate_serial")
    stock = {(r["location"], r["status"]): r["quantity"] for r in await buyer.items(part="BOLT")}
    assert stock == {("STORES", "available"): 5, ("DOCK", "on_order"): 7}


async def test_units_on_order_block_a_tracking_switch_until_their_order_is_called_off(buyer: Api) -> None:
    number = (await ordered(buyer, line("PUMP", 1, serials=["P-1"])))["number"]
    blocked = refused(await buyer.patch("/api/parts/PUMP", {"tracking": "untracked"}, "admin"), 409,
                      "tracking_switch_blocked", "tracking")
    assert [(b["kind"], b["rows"]) for b in blocked["blockers"]] == [("on_order", 1)]
    assert "1 on order: close its purchase order line short, or cancel the purchase order" in blocked["detail"]
    assert [(r["kind"], r["serial"], r["location"]) for r in blocked["rows"]] == [("on_order", "P-1", "DOCK")]
    await act(buyer, number, "cancel")
    switched = await buyer.patch("/api/parts/PUMP", {"tracking": "untracked"}, "admin")
    assert switched.status_code == 200 and switched.json()["tracking"] == "untracked"


async def test_a_count_sheet_lists_stock_not_what_is_on_order(buyer: Api) -> None:
    await ordered(buyer, line("BOLT", 7), line("PUMP", 1, serials=["P-1"]))
    await buyer.ok("receive", part="BOLT", tracking="untracked", location="DOCK", quantity=5)
    count = (await buyer.post("/api/counts", {"kind": "location", "location": "DOCK"}, "supervisor")).json()
    sheet = (await buyer.get(f"/api/counts/{count['id']}/sheet", "supervisor")).json()
    assert [(l["part"], l.get("serial"), l["expected"]) for l in sheet["lines"]] == [("BOLT", None, 5)]
    await buyer.post(f"/api/counts/{count['id']}/start", {}, "supervisor")
    line_ = await buyer.ok("count", part="BOLT", tracking="untracked", location="DOCK", counted_quantity=5,
                           count_id=count["id"])
    review = (await buyer.get(f"/api/counts/{count['id']}/review", "supervisor")).json()
    assert [(l["expected"], l["counted"]) for l in review["lines"]] == [(5, 5)] and line_["counted_quantity"] == 5


async def test_cancelling_leaves_what_was_on_order_unavailable_and_off_the_ledger(buyer: Api, db: Database) -> None:
    number = (await ordered(buyer, line("PUMP", 2, serials=["P-1", "P-2"]), line("BOLT", 7)))["number"]
    cancelled = await act(buyer, number, "cancel")
    assert cancelled["status"] == "cancelled" and cancelled["closed_by"] == "supervisor"
    assert [(l["status"], l["remaining"]) for l in cancelled["lines"]] == [("cancelled", 0), ("cancelled", 0)]
    assert await buyer.items(status="on_order") == []
    rows = {(r["serial"], r["quantity"]) for r in await buyer.items(status="unavailable")}
    assert rows == {("P-1", 1), ("P-2", 1), (None, 7)}  # ION: a cancelled PO's inventory stays, Unavailable
    async with db.read() as session:
        assert await on_order_ledger(session) == {}
    refused(await buyer.post(f"/api/purchase-orders/{number}/cancel", {}, "supervisor"), 409, "conflict", "number")
    refused(await buyer.post(f"/api/purchase-orders/{number}/lines/1/close", {}, "supervisor"), 409, "po_not_open",
            "line")
    refused(await buyer.op("move", part="PUMP", tracking="serial", serial="P-1", from_location="DOCK",
                           to_location="STORES", quantity=1), 409, "insufficient_quantity")
    draft_only = await draft(buyer, line("BOLT", 1))
    assert (await act(buyer, draft_only["number"], "cancel"))["status"] == "cancelled"


async def test_closing_lines_short_empties_their_rows_and_the_last_one_receives_the_po(
    buyer: Api, db: Database
) -> None:
    number = (await ordered(buyer, line("RESIN", 40, lot="LOT-7"), line("PUMP", 2, serials=["P-1", "P-2"]),
                            line("BOLT", 5)))["number"]
    first = await act(buyer, number, "lines/1/close")
    assert first["status"] == "open"
    assert [(l["line"], l["status"], l["remaining"]) for l in first["lines"]] == [
        (1, "closed_short", 0), (2, "open", 2), (3, "open", 5)
    ]
    assert (await buyer.items(part="RESIN")) == []  # emptied: shown only with include_empty
    emptied = await buyer.items(part="RESIN", include_empty="true")
    assert [(r["quantity"], r["status"]) for r in emptied] == [(0, "unavailable")]
    async with db.read() as session:
        assert await on_order_ledger(session) == {("PUMP", "DOCK", None): 2, ("BOLT", "DOCK", None): 5}
    refused(await buyer.post(f"/api/purchase-orders/{number}/lines/1/close", {}, "supervisor"), 409, "po_not_open")
    refused(await buyer.post(f"/api/purchase-orders/{number}/lines/9/close", {}, "supervisor"), 404,
            "unknown_reference", "line")
    refused(await buyer.post(f"/api/purchase-orders/{number}/lines/2/close", {}, "operator"), 403, "forbidden")
    await act(buyer, number, "lines/2/close")
    done = await act(buyer, number, "lines/3/close")
    assert done["status"] == "received" and done["closed_by"] == "supervisor"
    async with db.read() as session:
        assert await on_order_ledger(session) == {}
    units = {(r["serial"], r["quantity"], r["status"]) for r in await buyer.items(part="PUMP")}
    assert units == {("P-1", 0, "unavailable"), ("P-2", 0, "unavailable")}  # never came; serials kept
    a_draft = await draft(buyer, line("BOLT", 1))
    refused(await buyer.post(f"/api/purchase-orders/{a_draft['number']}/lines/1/close", {}, "supervisor"), 409,
            "po_not_open", "line")


async def test_the_list_filters_by_status_supplier_and_part(buyer: Api) -> None:
    bolts = await draft(buyer, line("BOLT", 5), supplier="Acme")
    pumps = await ordered(buyer, line("PUMP", 1), line("BOLT", 2), supplier="Pumps Ltd")
    gone = await ordered(buyer, line("RESIN", 1), supplier="Pumps Ltd")
    await act(buyer, gone["number"], "cancel")

    async def numbers(**params: Any) -> list[str]:
        response = await buyer.get("/api/purchase-orders", params=params)
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert await numbers() == [gone["number"], pumps["number"], bolts["number"]]  # newest first
    assert await numbers(status="open") == [pumps["number"]]
    assert await numbers(status="draft,cancelled") == [gone["number"], bolts["number"]]
    assert await numbers(supplier="PUMPS LTD") == [gone["number"], pumps["number"]]
    assert await numbers(part="BOLT") == [pumps["number"], bolts["number"]]
    assert await numbers(part="BOLT", supplier="acme") == [bolts["number"]]
    summary = (await buyer.get("/api/purchase-orders", params={"status": "open"})).json()["items"][0]
    assert (summary["line_count"], summary["open_lines"], summary["total"], summary["currency"]) == (2, 2, "3.00", "EUR")
    refused(await buyer.get("/api/purchase-orders", params={"status": "shipped"}), 422, "invalid", "status")
    refused(await buyer.get("/api/purchase-orders/PO-0000"), 404, "unknown_reference", "number")


async def test_numbers_made_at_once_never_repeat(buyer: Api) -> None:
    made = await asyncio.gather(*(
        buyer.post("/api/purchase-orders", {"supplier": "Acme", "lines": [line("BOLT", 1)]}, "supervisor")
        for _ in range(8)
    ))
    assert [response.status_code for response in made] == [201] * 8
    numbers = sorted(response.json()["number"] for response in made)
    assert numbers == [f"PO-{YEAR}-{n:04}" for n in range(1, 9)]


async def test_the_pattern_and_currency_are_the_installations(db: Database) -> None:
    settings = Settings(database_url=db.settings.database_url, scrypt_log2_n=4, currency="USD",
                        po_number_pattern="B{yy}{mm}-{seq:03}")
    import httpx

    from server.auth import AuthService
    from tests.conftest import PASSWORD

    await AuthService(db).add_user("sam", "supervisor", PASSWORD)
    token = (await AuthService(db).issue("sam", PASSWORD)).access_token
    app = create_app(settings, Database(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        await client.post("/api/parts", json={"part_number": "BOLT", "tracking": "untracked"})
        await client.post("/api/locations", json={"code": "DOCK", "kind": "incoming"})
        made = (await client.post("/api/purchase-orders", json={"supplier": "A", "lines": [line("BOLT", 2, "1.5")]}))
    assert made.status_code == 201, made.text
    now = datetime.now(UTC)
    assert made.json()["number"] == f"B{now:%y%m}-001" and made.json()["currency"] == "USD"
    wrong = Settings(database_url=db.settings.database_url, po_number_pattern="{part}-{seq}")
    with pytest.raises(ValueError, match="GEMBA_PO_NUMBER_PATTERN"):
        create_app(wrong, Database(wrong))  # the server does not start
    with pytest.raises(ValueError, match="GEMBA_CURRENCY"):
        Settings(database_url="sqlite://", currency="euro")


async def test_phones_pull_open_lines_and_not_the_rows_on_order(buyer: Api) -> None:
    phone = await Phone.sign_in(buyer)
    await buyer.ok("receive", part="BOLT", tracking="untracked", location="STORES", quantity=5, supplier="Acme")
    po = await ordered(buyer, line("PUMP", 2, serials=["P-1", "P-2"]), line("BOLT", 7, expected_date="2027-01-15"))
    number = po["number"]
    await draft(buyer, line("RESIN", 1))  # a draft is nothing to receive against
    copy = await Replica(phone).sync()
    assert copy.stock() == {("BOLT", None, None, "STORES", "available"): 5}
    lines = sorted(copy.of("po_line"), key=lambda data: data["po_line"])
    assert lines == [
        {"po_line": f"{number}/1", "supplier": "Acme", "part": "PUMP", "tracking": "serial", "ordered": 2,
         "received": 0, "remaining": 2, "status": "open", "serials": ["P-1", "P-2"], "location": "DOCK", "lot": None,
         "unit": "ea", "expected_date": None, "unit_price": "1.00"},
        {"po_line": f"{number}/2", "supplier": "Acme", "part": "BOLT", "tracking": "untracked", "ordered": 7,
         "received": 0, "remaining": 7, "status": "open", "serials": None, "location": "DOCK", "lot": None,
         "unit": "pcs", "expected_date": "2027-01-15", "unit_price": "1.00"},
    ]
    await act(buyer, number, "lines/2/close")
    assert [data["po_line"] for data in (await copy.sync()).of("po_line")] == [f"{number}/1"]
    await act(buyer, number, "cancel")
    assert (await copy.sync()).of("po_line") == []
    assert copy.stock() == {("BOLT", None, None, "STORES", "available"): 5}
    fresh = await Replica(await Phone.sign_in(buyer)).sync()
    assert fresh.of("po_line") == [] and fresh.stock() == copy.stock()
