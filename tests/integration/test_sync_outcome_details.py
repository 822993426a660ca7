"""A held or rejected op says what happened to the unit meanwhile, so that the phone can word it ("moved by
sam to B", "scrapped by sam"): the push result carries `details` (an optional field, protocol §3) with the
unit's `actual_location` where it applies and who last did what to it (`last_action`, `last_by`)."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.sync_helpers import Phone, phone, shop  # noqa: F401 - fixtures

UNIT = {"part": "PN-S", "tracking": "serial", "quantity": 1}


async def test_a_unit_moved_meanwhile_names_where_and_who(shop: Api, phone: Phone) -> None:
    assert (await phone.push(phone.op("receive", location="A", serial="SN-1", **UNIT)))["results"][0]["status"] == "applied"
    await shop.ok("move", role="supervisor", serial="SN-1", from_location="A", to_location="B", **UNIT)
    result = (await phone.push(phone.op("move", serial="SN-1", from_location="A", to_location="C", **UNIT)))["results"][0]
    assert (result["status"], result["reason"]) == ("held", "stale_location")
    assert result["details"] == {"actual_location": "B", "last_action": "Move", "last_by": "supervisor"}


async def test_a_unit_scrapped_meanwhile_names_who_scrapped_it(shop: Api, phone: Phone) -> None:
    await phone.push(phone.op("receive", location="A", serial="SN-2", **UNIT))
    await shop.ok("scrap", role="supervisor", serial="SN-2", location="A", reason="Damaged", **UNIT)
    result = (await phone.push(phone.op("move", serial="SN-2", from_location="A", to_location="C", **UNIT)))["results"][0]
    assert (result["status"], result["reason"], result["message"]) == ("held", "insufficient_quantity", "SN-2 is scrapped")
    assert result["details"] == {"available": 0, "last_action": "Scrap", "last_by": "supervisor"}


async def test_an_applied_op_has_no_details(shop: Api, phone: Phone) -> None:
    result = (await phone.push(phone.op("receive", location="A", serial="SN-3", **UNIT)))["results"][0]
    assert result["status"] == "applied" and "details" not in result
