"""Min/max constraints and replenishment, as a stock planner checks them: a constraint covers its location's
subtree, only available stock counts, what is on order is subtracted from what to order, and drafting makes
one PO per last supplier at the last prices — and leaves out what it cannot or need not order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from server.rules.status import utc_today
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.purchasing_support import buyer, draft, line, ordered  # noqa: F401 - fixture


async def constrain(api: Api, part: str, location: str, **limits: Any) -> dict[str, Any]:
    response = await api.client.put("/api/constraints", json={"part": part, "location": location, **limits},
                                    headers=api.headers("supervisor"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_constraints_are_set_changed_listed_by_subtree_and_removed(buyer: Api) -> None:
    made = await constrain(buyer, "BOLT", "STORES", min=100, max=300)
    assert (made["part"], made["location"], made["min"], made["max"], made["unit"]) == ("BOLT", "STORES", 100, 300, "pcs")
    assert (await constrain(buyer, "BOLT", "STORES", min=150))["max"] is None  # both limits are set each time
    await constrain(buyer, "RESIN", "STORES/A", max=20)
    await constrain(buyer, "PUMP", "DOCK", min=2)

    async def listed(**params: Any) -> list[tuple[str, str, Any, Any]]:
        response = await buyer.get("/api/constraints", params=params)
        assert response.status_code == 200, response.text
        return [(c["part"], c["location"], c["min"], c["max"]) for c in response.json()["items"]]

    assert await listed() == [("PUMP", "DOCK", 2, None), ("BOLT", "STORES", 150, None), ("RESIN", "STORES/A", None, 20)]
    assert await listed(location="STORES") == [("BOLT", "STORES", 150, None), ("RESIN", "STORES/A", None, 20)]
    assert await listed(part="PUMP") == [("PUMP", "DOCK", 2, None)]
    removed = await constrain(buyer, "PUMP", "DOCK")
    assert (removed["min"], removed["max"]) == (None, None) and await listed(part="PUMP") == []

    async def put(body: dict[str, Any], role: str = "supervisor") -> Any:
        return await buyer.client.put("/api/constraints", json=body, headers=buyer.headers(role))

    refused(await put({"part": "BOLT", "location": "STORES", "min": 1}, "operator"), 403, "forbidden")
    refused(await put({"part": "BOLT", "location": "STORES", "min": 10, "max": 5}), 422, "invalid", "max")
    refused(await put({"part": "BOLT", "location": "STORES", "min": -1}), 422, "invalid", "min")
    refused(await put({"part": "NOPE", "location": "STORES", "min": 1}), 404, "unknown_reference", "part")
    refused(await put({"part": "BOLT", "location": "MARS", "min": 1}), 404, "unknown_reference", "location")
    refused(await buyer.get("/api/constraints", params={"location": "MARS"}), 404, "unknown_reference", "location")


async def test_below_min_counts_available_stock_below_the_location_and_what_is_on_order(buyer: Api) -> None:
    await buyer.part("GASKET", "untracked")
    receive = {"part": "BOLT", "tracking": "untracked"}
    await buyer.ok("receive", **receive, location="STORES/A", quantity=30, supplier="Acme", unit_cost=0.05)
    await buyer.ok("receive", **receive, location="STORES/B", quantity=20)
    await buyer.ok("receive", **receive, location="STORES/A", quantity=10)
    await buyer.ok("isolate", **receive, location="STORES/A", quantity=10, reason="rusty")  # not available
    await buyer.ok("receive", **receive, location="DOCK", quantity=40)  # not in STORES
    await ordered(buyer, line("BOLT", 50, "0.04", location="STORES/B"), supplier="Acme")
    await draft(buyer, line("BOLT", 999, "0.03", location="STORES"), supplier="Cheap Bolts")  # a draft: not on order
    await buyer.ok("receive", part="RESIN", tracking="lot", lot="L-1", location="STORES/A", quantity=10)
    await buyer.ok("receive", part="PUMP", tracking="serial", serial="P-1", location="STORES/B", quantity=1,
                   supplier="Pumps Ltd", unit_cost=480)
    await constrain(buyer, "BOLT", "STORES", min=100, max=300)
    await constrain(buyer, "RESIN", "STORES/A", min=5)  # 10 there: fine
    await constrain(buyer, "PUMP", "STORES", min=3)
    await constrain(buyer, "GASKET", "STORES", min=10)
    await constrain(buyer, "BOLT", "DOCK", max=100)  # no min: never below it

    answer = (await buyer.get("/api/replenishment")).json()
    assert answer["currency"] == "EUR" and answer["total"] == 3
    items = {item["part"]: item for item in answer["items"]}
    assert {part: (i["location"], i["available"], i["on_order"], i["min"], i["max"], i["suggested"])
            for part, i in items.items()} == {
        "BOLT": ("STORES", 50, 50, 100, 300, 200),  # up to max: 300 − 50 − 50
        "PUMP": ("STORES", 1, 0, 3, None, 2),  # no max: up to min
        "GASKET": ("STORES", 0, 0, 10, None, 10),
    }
    # the last supplier: its newest PO line that was not cancelled (the draft counts), else its newest receipt
    assert (items["BOLT"]["supplier"], items["BOLT"]["unit_price"]) == ("Cheap Bolts", "0.03")
    assert (items["PUMP"]["supplier"], items["PUMP"]["unit_price"]) == ("Pumps Ltd", "480.00")
    assert (items["GASKET"]["supplier"], items["GASKET"]["unit_price"]) == (None, None)
    there = (await buyer.get("/api/replenishment", params={"location": "STORES/A"})).json()
    assert there["items"] == []
    refused(await buyer.get("/api/replenishment", params={"location": "MARS"}), 404, "unknown_reference", "location")


async def test_drafting_makes_one_po_per_last_supplier_and_says_what_it_left_out(buyer: Api) -> None:
    await buyer.part("GASKET", "untracked")
    await buyer.part("WASHER", "untracked")
    await ordered(buyer, line("BOLT", 10, "0.04", location="STORES/A"), line("RESIN", 1, "7.25"), supplier="Acme")
    await buyer.ok("receive", part="PUMP", tracking="serial", serial="P-1", location="STORES/B", quantity=1,
                   supplier="Pumps Ltd", unit_cost=480.5)
    await buyer.ok("receive", part="WASHER", tracking="untracked", location="STORES/B", quantity=100)
    await constrain(buyer, "BOLT", "STORES", min=100, max=250)
    await constrain(buyer, "RESIN", "STORES", min=4, max=8)
    await constrain(buyer, "PUMP", "STORES", min=3, max=3)
    await constrain(buyer, "GASKET", "STORES", min=10)
    await constrain(buyer, "WASHER", "STORES", min=200, max=200)
    await ordered(buyer, line("WASHER", 100, "0.01", location="STORES/B"), supplier="Washers Inc")

    response = await buyer.post("/api/replenishment/draft-po", {"location": "STORES"}, "supervisor")
    assert response.status_code == 201, response.text
    drafted = response.json()
    orders = {po["supplier"]: po for po in drafted["purchase_orders"]}
    assert sorted(orders) == ["Acme", "Pumps Ltd"]
    assert {po["status"] for po in orders.values()} == {"draft"}
    assert [(l["part"], l["ordered"], l["unit_price"], l["location"]) for l in orders["Acme"]["lines"]] == [
        ("BOLT", 240, "0.04", "STORES"), ("RESIN", 8, "7.25", "STORES"),  # 250 − 0 − 10 on order; 8 − 0
    ]
    assert [(l["part"], l["ordered"], l["unit_price"]) for l in orders["Pumps Ltd"]["lines"]] == [("PUMP", 2, "480.50")]
    assert "replenishment" in orders["Acme"]["note"]
    skipped = {s["part"]: s["reason"] for s in drafted["skipped"]}
    assert skipped.keys() == {"GASKET", "WASHER"}
    assert skipped["GASKET"].startswith("no supplier known") and skipped["WASHER"].startswith("nothing to order")

    again = (await buyer.post("/api/replenishment/draft-po", {"location": "STORES"}, "supervisor")).json()
    assert again["purchase_orders"] == []
    assert {s["part"]: s["reason"].split(" PO-")[0] for s in again["skipped"]} == {
        "BOLT": "already on draft", "RESIN": "already on draft", "PUMP": "already on draft",
        "GASKET": "no supplier known: it was never bought; name a supplier", "WASHER": skipped["WASHER"],
    }
    named = (await buyer.post("/api/replenishment/draft-po", {"supplier": "Gaskets & Co"}, "supervisor")).json()
    assert [(po["supplier"], [(l["part"], l["ordered"], l["unit_price"]) for l in po["lines"]])
            for po in named["purchase_orders"]] == [("Gaskets & Co", [("GASKET", 10, "0.00")])]
    assert "No last price known for GASKET" in named["purchase_orders"][0]["note"]
    refused(await buyer.post("/api/replenishment/draft-po", {}, "operator"), 403, "forbidden")


async def test_a_lot_counts_as_available_until_the_day_it_expires_and_moves_follow_the_location(buyer: Api) -> None:
    today = utc_today()
    lot = {"part": "RESIN", "tracking": "lot"}
    await buyer.ok("receive", **lot, lot="R-OLD", location="STORES/A", quantity=8, expiry=str(today))  # expired today
    await buyer.ok("receive", **lot, lot="R-NEW", location="STORES/A", quantity=6,
                   expiry=str(today + timedelta(days=1)))
    await buyer.ok("receive", **lot, lot="R-ANY", location="STORES/B", quantity=3)  # never expires
    await constrain(buyer, "RESIN", "STORES", min=20, max=30)
    await constrain(buyer, "RESIN", "STORES/A", min=10)

    async def below(**params: Any) -> dict[str, tuple[Any, Any]]:
        answer = (await buyer.get("/api/replenishment", params=params)).json()
        return {item["location"]: (item["available"], item["suggested"]) for item in answer["items"]}

    assert await below() == {"STORES": (9, 21), "STORES/A": (6, 4)}
    assert await below(location="STORES/A") == {"STORES/A": (6, 4)}
    # a supervisor makes STORES/B unavailable, then moves R-NEW there: what the list counts follows at once
    response = await buyer.client.patch("/api/locations/STORES/B", json={"available": False},
                                        headers=buyer.headers("supervisor"))
    assert response.status_code == 200, response.text
    assert await below() == {"STORES": (6, 24), "STORES/A": (6, 4)}
    await buyer.ok("move", **lot, lot="R-NEW", quantity=6, from_location="STORES/A", to_location="STORES/B")
    assert await below() == {"STORES": (0, 30), "STORES/A": (0, 10)}
