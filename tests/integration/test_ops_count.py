"""The `count` op (sync protocol §2): a cycle-count line recorded next to what the server holds; it moves
no stock, writes no ledger entry, and is taken even in a location closed for its count."""

from __future__ import annotations

from sqlalchemy import select

from server.counts.models import CountLine
from server.db import Database
from server.models import LedgerEntry
from tests.integration.ops_support import refused, shop  # noqa: F401

SERIAL = {"part": "SN-PART", "tracking": "serial"}
LOT = {"part": "LOT-PART", "tracking": "lot"}
BULK = {"part": "BULK", "tracking": "untracked"}


async def test_count_records_lines_next_to_what_the_server_holds_and_moves_nothing(shop, db: Database) -> None:
    await shop.ok("receive", **BULK, location="SHELF", quantity=7)
    await shop.ok("receive", **LOT, location="SHELF", quantity=4, lot="L-9")
    await shop.ok("receive", **SERIAL, location="SHELF", quantity=1, serial="SN-1")
    locked = await shop.patch("/api/locations/SHELF", {"count_locked": True})
    assert locked.status_code == 200, locked.text
    before = await shop.items()

    bulk = await shop.ok("count", **BULK, location="SHELF", counted_quantity=5)
    assert (bulk["part"], bulk["location"], bulk["counted_quantity"]) == ("BULK", "SHELF", 5)
    assert "expected_quantity" not in bulk  # a blind count learns nothing from the answer
    await shop.ok("count", **LOT, lot="L-9", location="SHELF", counted_quantity=4)
    await shop.ok("count", **SERIAL, serial="SN-1", location="SHELF", counted_quantity=1)
    await shop.ok("count", **SERIAL, serial="SN-FOUND", location="SHELF", counted_quantity=1)  # a find
    assert await shop.items() == before

    async with db.read() as session:
        lines = (await session.execute(select(CountLine).order_by(CountLine.id))).scalars().all()
        assert [(line.serial, line.lot, line.counted_quantity, line.expected_quantity) for line in lines] == [
            (None, None, 5, 7), (None, "L-9", 4, 4), ("SN-1", None, 1, 1), ("SN-FOUND", None, 1, 0),
        ]
        assert {line.actor for line in lines} == {"operator"}
        assert len((await session.execute(select(LedgerEntry))).scalars().all()) == 3  # the receipts only

    refused(await shop.op("count", **SERIAL, serial="SN-1", location="SHELF", counted_quantity=2),
            422, "tracking_mismatch", "args.counted_quantity")
    refused(await shop.op("count", **BULK, location="NOWHERE", counted_quantity=1), 404, "unknown_reference")
    refused(await shop.op("count", **LOT, location="SHELF", counted_quantity=1), 422, "tracking_mismatch")
    refused(await shop.op("count", part="BULK", tracking="lot", lot="X", location="SHELF", counted_quantity=1),
            409, "tracking_changed")
