"""Receiving against purchase order lines (the `receive` op with `po_line`), as a storeman and a purchasing
clerk check it: on order becomes stock, the line counts what came, the PO is received when nothing is
expected; each refusal online (409) and at sync (held for a supervisor, or rejected); a supervisor's
approval; the receipt's cost; two phones receiving the last units of one line at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.db import Database
from server.purchasing import receiving
from tests.conftest import Api
from tests.integration.ops_support import refused
from tests.integration.purchasing_support import (  # noqa: F401 - fixture
    buyer, line, on_order_ledger, on_order_rows, ordered,
)
from tests.integration.sync_helpers import Phone, by_seq
from tests.integration.test_push_side_by_side import Held, inside
from tests.integration.test_sync_pull import lock_waiters


def pump(name: str, serial: str, location: str = "STORES/A", **extra: Any) -> dict[str, Any]:
    return {"part": "PUMP", "tracking": "serial", "serial": serial, "location": location, "quantity": 1,
            "po_line": name, **extra}


def resin(name: str, quantity: int, location: str = "STORES/A", **extra: Any) -> dict[str, Any]:
    return {"part": "RESIN", "tracking": "lot", "location": location, "quantity": quantity, "po_line": name, **extra}


def bolts(name: str, quantity: int, location: str = "STORES/B", **extra: Any) -> dict[str, Any]:
    return {"part": "BOLT", "tracking": "untracked", "location": location, "quantity": quantity, "po_line": name,
            **extra}


async def po_of(api: Api, number: str) -> dict[str, Any]:
    response = await api.get(f"/api/purchase-orders/{number}")
    assert response.status_code == 200, response.text
    return response.json()


def lines_of(po: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(l["ordered"], l["received"], l["remaining"], l["status"]) for l in po["lines"]]


async def ledgers_agree(db: Database) -> dict[Any, int]:
    async with db.read() as session:
        rows, ledger = await on_order_rows(session), await on_order_ledger(session)
    assert rows == ledger
    return ledger


async def test_receipts_turn_on_order_into_stock_and_the_po_is_received_line_by_line(buyer: Api, db: Database) -> None:
    po = await ordered(buyer, line("PUMP", 2, "480", serials=["P-1", "P-2"]), line("RESIN", 40, "2.5", lot="LOT-7"),
                       line("BOLT", 500, "0.04", location="STORES/B"))
    number = po["number"]
    first = await buyer.ok("receive", **pump(f"{number}/1", "P-1"))
    assert (first["serial"], first["location"], first["po_line"], first["remaining"]) == ("P-1", "STORES/A", f"{number}/1", 1)
    part = await buyer.ok("receive", **resin(f"{number}/2", 15))  # partial: the line's lot unless another is given
    assert (part["lot"], part["quantity"], part["remaining"]) == ("LOT-7", 15, 25)
    await buyer.ok("receive", **bolts(f"{number}/3", 500, package_price="25.00"))
    assert lines_of(await po_of(buyer, number)) == [(2, 1, 1, "open"), (40, 15, 25, "open"), (500, 500, 0, "received")]
    assert await ledgers_agree(db) == {("PUMP", "DOCK", None): 1, ("RESIN", "DOCK", "LOT-7"): 25}
    unit = (await buyer.items(serial="P-1"))[0]
    assert (unit["status"], unit["location"], unit["po_line"], unit["unit_cost"]) == ("available", "STORES/A",
                                                                                      f"{number}/1", "480.00")
    assert [(i["quantity"], i["unit_cost"]) for i in await buyer.items(part="BOLT", status="available")] == [(500, "0.05")]
    await buyer.ok("receive", **pump(f"{number}/1", "P-2", location="DOCK"))
    await buyer.ok("receive", **resin(f"{number}/2", 25, lot="LOT-8"))  # the supplier sent another lot
    done = await po_of(buyer, number)
    assert done["status"] == "received" and lines_of(done) == [(2, 2, 0, "received"), (40, 40, 0, "received"),
                                                               (500, 500, 0, "received")]
    assert await ledgers_agree(db) == {}
    assert await buyer.items(status="on_order") == []
    receipts = done["receipts"]
    assert [(r["po_line"], r["quantity"], r["unit_cost"], r["received_by"]) for r in receipts] == [
        (f"{number}/1", 1, "480.00", "operator"), (f"{number}/2", 15, "2.50", "operator"),
        (f"{number}/3", 500, "0.05", "operator"), (f"{number}/1", 1, "480.00", "operator"),
        (f"{number}/2", 25, "2.50", "operator"),
    ]

    # a line without serials or lot gets them at the dock
    po = await ordered(buyer, line("PUMP", 2, "480"), line("RESIN", 10, "2.5"))
    number = po["number"]
    made = await buyer.ok("receive", part="PUMP", tracking="serial", location="DOCK", quantity=1, po_line=f"{number}/1")
    assert made["serial"] == "PU-0001" and made["remaining"] == 1
    await buyer.ok("receive", **pump(f"{number}/1", "SUPPLIER-9"))
    lot = await buyer.ok("receive", **resin(f"{number}/2", 10))
    assert lot["lot"] == "R-001" and lot["remaining"] == 0
    assert (await po_of(buyer, number))["status"] == "received"
    assert await ledgers_agree(db) == {}


async def test_refusals_online_name_the_reason_and_above_max_is_a_warning(buyer: Api) -> None:
    po = await ordered(buyer, line("PUMP", 1, "480", serials=["P-1"]), line("BOLT", 10, "0.04"))
    number = po["number"]
    body = refused(await buyer.op("receive", **bolts(f"{number}/2", 11)), 409, "over_receipt", "args.quantity")
    assert (body["ordered"], body["received"], body["remaining"]) == (10, 0, 10)
    refused(await buyer.op("receive", **pump(f"{number}/1", "P-7")), 409, "serial_not_on_line", "args.serial")
    refused(await buyer.op("receive", **bolts(f"{number}/9", 1)), 404, "unknown_reference", "args.po_line")
    refused(await buyer.op("receive", **bolts("NO-SUCH/1", 1)), 404, "unknown_reference", "args.po_line")
    refused(await buyer.op("receive", **bolts(number, 1)), 404, "unknown_reference", "args.po_line")
    refused(await buyer.op("receive", **bolts(f"{number}/1", 1)), 422, "invalid", "args.part")
    await buyer.post(f"/api/purchase-orders/{number}/lines/2/close", {}, "supervisor")
    refused(await buyer.op("receive", **bolts(f"{number}/2", 1)), 409, "po_not_open", "args.po_line")
    draft = await buyer.post("/api/purchase-orders", {"supplier": "Acme", "lines": [line("BOLT", 5)]}, "supervisor")
    refused(await buyer.op("receive", **bolts(f"{draft.json()['number']}/1", 1)), 409, "po_not_open", "args.po_line")
    assert lines_of(await po_of(buyer, number)) == [(1, 0, 1, "open"), (10, 0, 0, "closed_short")]

    # a receipt or a move above a max is applied, with a warning
    response = await buyer.client.put("/api/constraints", json={"part": "BOLT", "location": "STORES", "max": 100},
                                      headers=buyer.headers("supervisor"))
    assert response.status_code == 200, response.text
    po = await ordered(buyer, line("BOLT", 150, "0.04"))
    below = await buyer.ok("receive", **bolts(f"{po['number']}/1", 100))
    assert "warnings" not in below
    above = await buyer.ok("receive", **bolts(f"{po['number']}/1", 50, location="STORES/A"))
    assert above["warnings"] == ["above_max"]
    within = await buyer.ok("move", part="BOLT", tracking="untracked", from_location="STORES/A",
                            to_location="STORES/B", quantity=10)
    assert "warnings" not in within  # inside the subtree: STORES holds what it held
    out = await buyer.ok("move", part="BOLT", tracking="untracked", from_location="STORES/A", to_location="DOCK",
                         quantity=40)
    assert "warnings" not in out
    back = await buyer.ok("move", part="BOLT", tracking="untracked", from_location="DOCK", to_location="STORES/A",
                          quantity=1)
    assert back["warnings"] == ["above_max"]
    phone = await Phone.sign_in(buyer, "operator")
    pushed = by_seq(await phone.push(phone.op("move", part="BOLT", tracking="untracked", from_location="DOCK",
                                              to_location="STORES/B", quantity=1)))[1]
    assert pushed["status"] == "applied" and pushed["result"]["warnings"] == ["above_max"]


async def conflict_of(api: Api, op_id: str) -> dict[str, Any]:
    conflicts = (await api.get("/api/sync/conflicts?status=open", "supervisor")).json()["items"]
    return next(c for c in conflicts if c["op"]["op_id"] == op_id)


async def approve(api: Api, conflict: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/api/sync/conflicts/{conflict['id']}/approve", {"note": "they sent more"}, "supervisor")
    assert response.status_code == 200, response.text
    return response.json()


async def test_at_sync_refusals_are_held_for_a_supervisor_who_approves_them(buyer: Api, db: Database) -> None:
    po = await ordered(buyer, line("PUMP", 2, "480", serials=["P-1", "P-2"]), line("BOLT", 10, "0.04"),
                       line("RESIN", 5, "2.5", lot="LOT-1"))
    number = po["number"]
    phone = await Phone.sign_in(buyer, "operator")
    over = phone.op("receive", **bolts(f"{number}/2", 12))
    other_serial = phone.op("receive", **pump(f"{number}/1", "P-9"))
    unknown = phone.op("receive", **bolts(f"{number}/7", 1))
    results = by_seq(await phone.push(over, other_serial, unknown))
    assert [(results[n]["status"], results[n]["reason"]) for n in (1, 2, 3)] == [
        ("held", "over_receipt"), ("held", "serial_not_on_line"), ("rejected", "unknown_reference")]
    assert results[1]["conflict_id"] and results[2]["conflict_id"] and not results[3].get("conflict_id")
    assert lines_of(await po_of(buyer, number))[:2] == [(2, 0, 2, "open"), (10, 0, 10, "open")]

    decided = await approve(buyer, await conflict_of(buyer, over["op_id"]))  # the line grows by the 2 extra
    assert decided["status"] == "approved"
    assert lines_of(await po_of(buyer, number))[1] == (12, 12, 0, "received")
    await approve(buyer, await conflict_of(buyer, other_serial["op_id"]))  # P-9 came instead of P-1
    after = await po_of(buyer, number)
    assert lines_of(after)[0] == (2, 1, 1, "open") and after["lines"][0]["serials"] == ["P-9", "P-2"]
    assert [i["status"] for i in await buyer.items(serial="P-9")] == ["available"]
    assert await buyer.items(serial="P-1", include_empty="true") == []
    assert await ledgers_agree(db) == {("PUMP", "DOCK", None): 1, ("RESIN", "DOCK", "LOT-1"): 5}

    await buyer.post(f"/api/purchase-orders/{number}/cancel", {}, "supervisor")
    late = phone.op("receive", **resin(f"{number}/3", 5))
    held = by_seq(await phone.push(late))[phone.seq]
    assert (held["status"], held["reason"]) == ("held", "po_not_open")
    await approve(buyer, await conflict_of(buyer, late["op_id"]))  # recorded against the cancelled line
    cancelled = await po_of(buyer, number)
    assert cancelled["status"] == "cancelled" and lines_of(cancelled)[2] == (5, 5, 0, "cancelled")
    assert await buyer.items(part="RESIN", status="unavailable") == []  # the called-off row became the stock
    assert [(i["lot"], i["quantity"]) for i in await buyer.items(part="RESIN", status="available")] == [("LOT-1", 5)]
    assert await ledgers_agree(db) == {}


async def test_two_phones_receiving_the_last_units_of_a_line_at_once(buyer: Api, db: Database) -> None:
    po = await ordered(buyer, line("BOLT", 10, "0.04"), line("RESIN", 6, "2.5", lot="LOT-1"))
    number = po["number"]
    phones = [await Phone.sign_in(buyer, "operator") for _ in range(2)]
    await buyer.ok("receive", **bolts(f"{number}/1", 4))
    for attempt in range(3):  # several rounds: the loser is whichever comes second
        name, quantity = (f"{number}/1", 6) if attempt == 0 else (f"{number}/2", 2)
        make = bolts if attempt == 0 else resin
        pushes = [phone.push(phone.op("receive", **make(name, quantity))) for phone in phones]
        outcomes = sorted(by_seq(result)[phone.seq]["status"] for result, phone in zip(await asyncio.gather(*pushes), phones))
        if attempt == 1:
            assert outcomes == ["applied", "applied"]  # 2 + 2 of 6: room for both, then for one
        else:
            assert outcomes == ["applied", "held"], outcomes
    assert lines_of(await po_of(buyer, number)) == [(10, 10, 0, "received"), (6, 6, 0, "received")]
    assert (await po_of(buyer, number))["status"] == "received"
    assert await ledgers_agree(db) == {}


async def test_postgres_the_second_of_two_receipts_of_the_last_units_waits_then_is_held(
    buyer: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("push chunks side by side: PostgreSQL (SQLite has one writer at a time)")
    number = (await ordered(buyer, line("BOLT", 10, "0.04")))["number"]
    phones = [await Phone.sign_in(buyer, "operator") for _ in range(2)]
    held = Held()
    monkeypatch.setattr(receiving, "_line", held.around(receiving._line))
    first = asyncio.create_task(phones[0].push(phones[0].op("receive", **bolts(f"{number}/1", 10))))
    await inside(held, first)  # the first chunk read the line (and locked its PO), not committed
    second = asyncio.create_task(phones[1].push(phones[1].op("receive", **bolts(f"{number}/1", 10))))
    while await lock_waiters(db) == 0 and not second.done():  # the second waits for the PO
        await asyncio.sleep(0.01)
    assert not second.done()
    held.go.set()
    assert (await first)["results"][0]["status"] == "applied"
    assert ((await second)["results"][0]["status"], (await second)["results"][0]["reason"]) == ("held", "over_receipt")
    assert lines_of(await po_of(buyer, number)) == [(10, 10, 0, "received")]

