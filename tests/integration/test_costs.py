"""Cost layers, FIFO, the average price, the `remove` op, usage and valuation, through the HTTP API (both
engines)."""

from __future__ import annotations

from typing import Any

from tests.integration.ops_support import refused, shop  # noqa: F401
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture

BULK = {"part": "BULK", "tracking": "untracked"}
SN = {"part": "SN-PART", "tracking": "serial"}


async def got(api: Any, url: str, role: str = "operator", **params: Any) -> Any:
    response = await api.get(url, role, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_specs_fifo_example_receipts_usage_and_valuation(shop):
    first = await shop.ok("receive", **BULK, location="DOCK", quantity=60, package_price="126.00", package_ref="DN-1")
    assert first["unit_cost"] == "2.10" and first["average_price"] == "2.10"
    second = await shop.ok("receive", **BULK, location="SHELF", quantity=50, unit_cost=2, package_ref="DN-2")
    assert second["average_price"] == "2.054545"
    used = await shop.ok("remove", **BULK, location="DOCK", quantity=60, reason="maintenance", reference="WO-7")
    assert used["cost"] == "126.00" and used["removed"] == 60 and used["reference"] == "WO-7"
    assert (await shop.ok("scrap", **BULK, location="SHELF", quantity=10, reason="bent"))["cost"] == "20.00"

    layers = await got(shop, "/api/costs/layers", part="BULK", open="true")
    assert [(x["package_ref"], x["quantity_remaining"], x["unit_cost"], x["value"]) for x in layers["items"]] == [
        ("DN-2", 40, "2.00", "80.00")
    ]
    every = await got(shop, "/api/costs/layers", part="BULK")
    assert [(x["package_ref"], x["quantity_received"], x["quantity_remaining"]) for x in every["items"]] == [
        ("DN-1", 60, 0), ("DN-2", 50, 40)
    ]

    usage = await got(shop, "/api/usage", part="BULK")
    assert usage["total_cost"] == "146.00" and usage["currency"] == "EUR"
    assert [(u["op_type"], u["location"], u["quantity"], u["cost"], u["reason"], u["reference"]) for u in usage["items"]] == [
        ("remove", "DOCK", 60, "126.00", "maintenance", "WO-7"), ("scrap", "SHELF", 10, "20.00", "bent", None),
    ]
    assert (await got(shop, "/api/usage", reason="bent"))["total_cost"] == "20.00"
    csv = await shop.get("/api/usage.csv", params={"part": "BULK"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("used_at,op_type,part") and len(lines) == 3 and ",126.00,maintenance,WO-7," in lines[1]

    valuation = await got(shop, "/api/valuation", "supervisor")
    assert valuation["items"] == [{
        "part": "BULK", "description": "", "unit": "pcs", "quantity": 40, "fifo_value": "80.00",
        "average_price": "2.054545", "average_value": "82.1818",
    }]
    assert (valuation["fifo_value"], valuation["average_value"], valuation["currency"]) == ("80.00", "82.1818", "EUR")  # 40 × 2.054545
    assert (await got(shop, "/api/valuation", "supervisor", location="DOCK"))["items"] == []
    assert (await shop.get("/api/valuation")).status_code == 403  # a supervisor's
    exported = await shop.get("/api/valuation.csv", "supervisor")
    assert exported.text.strip().splitlines()[-1] == "total (EUR),,,,80.00,,82.1818"


async def test_a_removed_unit_stays_findable_with_status_removed(shop):
    await shop.ok("receive", **SN, serial="S-1", location="SHELF", quantity=1, unit_cost="10.50")
    result = await shop.ok("remove", **SN, serial="S-1", location="SHELF", quantity=1, reason="customer")
    assert result["cost"] == "10.50"
    (unit,) = await shop.items(serial="S-1", include_empty="true")
    assert unit["status"] == "removed" and unit["quantity"] == 0
    assert [row["serial"] for row in await shop.items(status="removed")] == ["S-1"]
    again = await shop.op("remove", **SN, serial="S-1", location="SHELF", quantity=1, reason="customer")
    refused(again, 409, "insufficient_quantity", "args.serial")
    history = await got(shop, "/api/units/S-1/history")
    assert history["events"][-1]["action"] == "Remove"
    # found again (a supervisor's +1): it is stock again, with a layer at the average price
    found = await shop.ok("adjust", "supervisor", **SN, serial="S-1", location="SHELF", delta=1, reason="came back")
    assert found["unit_cost"] == "10.50"
    (unit,) = await shop.items(serial="S-1")
    assert unit["status"] == "available"


async def test_adjustments_take_layers_or_add_one_at_the_average(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=4, package_price="10.00")
    down = await shop.ok("adjust", "supervisor", **BULK, location="DOCK", delta=-1, reason="count")
    assert down["cost"] == "2.50"
    up = await shop.ok("adjust", "supervisor", **BULK, location="DOCK", delta=2, reason="count")
    assert (up["unit_cost"], up["average_price"]) == ("2.50", "2.50")
    layers = (await got(shop, "/api/costs/layers", part="BULK", open="true"))["items"]
    assert [(x["kind"], x["quantity_remaining"]) for x in layers] == [("receipt", 3), ("found", 2)]
    assert (await got(shop, "/api/usage"))["total_cost"] == "2.50"


async def test_a_refused_remove_changes_no_layer_and_writes_no_usage(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=3, unit_cost="1.00")
    refused(await shop.op("remove", **BULK, location="DOCK", quantity=4, reason="too many"), 409,
            "insufficient_quantity", "args.quantity")
    refused(await shop.op("remove", **BULK, location="DOCK", quantity=1), 422, "invalid", "args.reason")
    layers = (await got(shop, "/api/costs/layers", part="BULK"))["items"]
    assert [x["quantity_remaining"] for x in layers] == [3]
    assert (await got(shop, "/api/usage"))["total"] == 0


async def test_money_inputs_are_exact(shop):
    await shop.ok("receive", **BULK, location="DOCK", quantity=1, unit_cost=0.1)
    second = await shop.ok("receive", **BULK, location="DOCK", quantity=1, unit_cost="0.2")
    assert second["average_price"] == "0.15"
    assert (await shop.ok("remove", **BULK, location="DOCK", quantity=2, reason="used"))["cost"] == "0.30"


async def test_the_valuation_page_shows_the_figures_the_chart_and_the_fifo_report(shop, browsers):  # noqa: F811
    await shop.ok("receive", **BULK, location="DOCK", quantity=60, package_price="126.00", package_ref="DN-1")
    await shop.ok("receive", **BULK, location="SHELF", quantity=50, unit_cost="2.00", package_ref="DN-2")
    await shop.ok("remove", **BULK, location="DOCK", quantity=60, reason="maintenance")
    await shop.ok("remove", **BULK, location="SHELF", quantity=10, reason="maintenance")
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get("/supervisor/valuation")).text
    assert "FIFO value 80.00 EUR · at average prices 82.1818 EUR" in shown
    assert 'data-fact="fifo_value">80.00<' in shown and 'data-fact="average_price">2.054545<' in shown
    assert 'data-location="SHELF" data-value="80.00"' in shown and 'data-location="DOCK"' not in shown
    assert 'data-package="DN-2"' in shown and 'data-package="DN-1"' not in shown  # used up: not in the report
    assert '<td class="held"><div>SHELF: 40</div></td>' in shown  # where the delivery's stock is
    assert "No stock held here." in (await supervisor.get("/supervisor/valuation?location=DOCK")).text
