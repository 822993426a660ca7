"""Costs of ops pushed by offline phones (sync/push.py): costed when the server applies them, in push order, the
same whichever phone pushes first; a remove that finds too little is held like any other op."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.sync_helpers import Phone, Replica, by_seq, other_phone, phone, receive_u, shop  # noqa: F401


async def got(api: Api, url: str, role: str = "operator", **params: Any) -> Any:
    response = await api.get(url, role, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_offline_phone_books_a_package_uses_part_of_it_and_syncs(shop: Api, phone: Phone) -> None:  # noqa: F811
    results = by_seq(await phone.push(
        receive_u(phone, 60, "DOCK", package_price="126.00", package_ref="DN-1"),
        receive_u(phone, 50, "A", unit_cost="2.00", package_ref="DN-2"),
        phone.op("remove", part="PN-U", tracking="untracked", location="DOCK", quantity=60, reason="maintenance",
                 reference="WO-1"),
        phone.op("remove", part="PN-U", tracking="untracked", location="A", quantity=10, reason="maintenance"),
    ))
    assert [results[n]["status"] for n in range(1, 5)] == ["applied"] * 4
    assert (await got(shop, "/api/usage"))["total_cost"] == "146.00"
    valuation = await got(shop, "/api/valuation", "supervisor")
    assert (valuation["fifo_value"], valuation["items"][0]["average_price"]) == ("80.00", "2.054545")


async def test_push_order_decides_which_layers_are_used(shop: Api, phone: Phone, other_phone: Phone) -> None:  # noqa: F811
    await phone.push(receive_u(phone, 5, "A", unit_cost="1.00"))
    await other_phone.push(receive_u(other_phone, 5, "A", unit_cost="3.00"))
    remove = phone.op("remove", part="PN-U", tracking="untracked", location="A", quantity=6, reason="used")
    assert by_seq(await phone.push(remove))[2]["status"] == "applied"
    (usage,) = (await got(shop, "/api/usage"))["items"]
    assert usage["cost"] == "8.00"  # 5 × 1.00, the first pushed, then 1 × 3.00
    too_many = phone.op("remove", part="PN-U", tracking="untracked", location="A", quantity=9, reason="used")
    assert by_seq(await phone.push(too_many))[3]["status"] == "held"
    assert (await got(shop, "/api/usage"))["total"] == 1
    layers = (await got(shop, "/api/costs/layers", open="true"))["items"]
    assert [(x["quantity_remaining"], x["unit_cost"]) for x in layers] == [(4, "3.00")]


async def test_a_pull_brings_the_parts_new_average_price_when_a_receipt_moves_it(shop: Api, phone: Phone) -> None:  # noqa: F811
    replica = await Replica(phone).sync()
    part = {p["part_number"]: p for p in replica.of("part")}
    assert (part["PN-U"]["average_price"], part["PN-L"]["average_price"]) == (None, None)

    def averages(page: dict[str, Any]) -> dict[str, str | None]:
        return {c["data"]["part_number"]: c["data"]["average_price"] for c in page["changes"] if c["entity"] == "part"}

    await phone.push(receive_u(phone, 60, "DOCK", package_price="126.00", package_ref="DN-1"))
    await replica.sync()
    assert averages(replica.pages[-1]) == {"PN-U": "2.10"}
    await phone.push(receive_u(phone, 50, "A", unit_cost="2.00"))
    await replica.sync()
    assert averages(replica.pages[-1]) == {"PN-U": "2.054545"}  # (126.00 + 100.00) / 110, to 6 places
    # a receipt at the average leaves it as it is (the part comes again, as it was); a use makes no layer
    await phone.push(receive_u(phone, 10, "A", unit_cost="2.054545"))
    await replica.sync()
    assert averages(replica.pages[-1]) == {"PN-U": "2.054545"}
    await phone.push(phone.op("remove", part="PN-U", tracking="untracked", location="A", quantity=5, reason="used"))
    await replica.sync()
    assert averages(replica.pages[-1]) == {}
    # an online receipt (a batch of one) moves it too, and the pull from scratch shows the same
    response = await shop.op("receive", part="PN-U", tracking="untracked", location="B", quantity=120, unit_cost="1.00")
    assert response.status_code == 201, response.text
    await replica.sync()
    assert averages(replica.pages[-1]) == {"PN-U": "1.516054"}
    fresh = await Replica(phone).sync()  # from scratch: each part once, with its average
    assert [c["data"]["part_number"] for c in fresh.pages[0]["changes"] if c["entity"] == "part"].count("PN-U") == 1
    assert {p["part_number"]: p["average_price"] for p in fresh.of("part")}["PN-U"] == "1.516054"
    assert fresh.rows == replica.rows
