"""Use / issue out on the phone: offline, a lot's part used for a work order and a unit used up; synced, the
server holds them as usage with their FIFO cost, the unit Removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_use_offline_then_synced_with_its_cost(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    lot, pump, kit = f"USE-{uid}", f"UP-{uid}", f"KIT-{uid}"  # a part of its own: FIFO takes its layers only
    server.api("POST", "/api/parts", json={"part_number": kit, "tracking": "lot"})
    server.op("receive", part=kit, tracking="lot", lot=lot, location="STORES/SHELF-2", quantity=10,
              package_price="25.00", package_ref=f"DN-{uid}")
    server.op("receive", part="PUMP-A", tracking="serial", serial=pump, location="STORES", quantity=1, unit_cost="480.00")
    phone = phones("olga")
    phone.offline()

    phone.go("remove")
    phone.scan(lot)
    phone.page.wait_for_selector(f"p.dest:has-text('{lot}')")
    phone.page.fill("input[name=quantity]", "4")
    phone.page.click("button.chip:has-text('Repair')")
    phone.page.fill("input[name=reference]", f"WO-{uid}")
    phone.screenshot(artifacts, "30-use")
    phone.page.click("button.primary:has-text('Use')")
    phone.wait_queued(1)

    phone.go("remove")
    phone.scan(pump)
    phone.page.wait_for_selector(f"p.dest:has-text('{pump}')")
    phone.page.click("button.chip:has-text('Customer')")
    phone.page.click("button.primary:has-text('Use')")
    phone.wait_queued(2)

    phone.offline(False)
    phone.wait_synced()
    assert [line.splitlines()[1] for line in phone.outcomes()[:2]] == ["Applied"] * 2
    used = server.api("GET", "/api/usage", "sam", params={"reason": "Repair", "part": kit})["items"]
    assert [(u["quantity"], u["cost"], u["lot"]) for u in used if u["reference"] == f"WO-{uid}"] == [(4, "10.00", lot)]
    customer = server.api("GET", "/api/usage", "sam", params={"reason": "Customer", "part": "PUMP-A"})["items"]
    assert [(u["op_type"], u["quantity"]) for u in customer if u["serial"] == pump] == [("remove", 1)]  # its cost: PUMP-A's oldest layer
    (unit,) = server.inventory(serial=pump, include_empty="true")
    assert (unit["status"], unit["quantity"]) == ("removed", 0)
    free = [row for row in server.inventory(part=kit, lot=lot) if row["status"] == "available"]
    assert [row["quantity"] for row in free] == [6]
