"""The valuation of a site, an area and a bin from the values the database keeps (server/costs/values.py): what
the rows of each subtree hold, exactly, as stock comes, moves, is used, and as a location gets a new parent; and
the page's chart of a location: the locations in it and its own rows. Through the HTTP API, on both engines."""

from __future__ import annotations

from typing import Any

from server.db import Database
from tests.integration.ops_support import shop, values_kept_right  # noqa: F401 - fixture
from tests.integration.test_cost_holdings import values
from tests.integration.test_costs import BULK
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture

LOT = {"part": "LOT-PART", "tracking": "lot"}
FINE = {"part": "WIRE", "tracking": "untracked"}  # quantities to the millionth
FINE_LOT = {"part": "RESIN", "tracking": "lot"}


async def kept_right(db: Database) -> None:
    async with db.read() as session:
        await values_kept_right(session)


async def tree(api: Any) -> None:
    """SITE > AREA > BIN, and SITE-2; parts counted to the millionth."""
    await api.part("WIRE", "untracked", unit="m", quantity_places=6)
    await api.part("RESIN", "lot", unit="kg", quantity_places=6)
    await api.location("SITE")
    await api.location("AREA", parent="SITE")
    await api.location("BIN", parent="AREA")
    await api.location("SITE-2")


async def test_a_site_an_area_and_a_bin_are_valued_by_what_their_rows_hold(shop, db):
    await tree(shop)
    await shop.ok("receive", **FINE, location="BIN", quantity="2.5", unit_cost="1.333334")  # 3.333335
    await shop.ok("receive", **FINE, location="AREA", quantity=4, unit_cost="0.000001")  # 0.000004
    # half a millionth each: the sums keep the 12 places, so two make a millionth (rounded each: none, or two)
    await shop.ok("receive", **FINE_LOT, lot="L-1", location="BIN", quantity="0.5", unit_cost="0.000001")
    await shop.ok("receive", **FINE_LOT, lot="L-2", location="AREA", quantity="0.5", unit_cost="0.000001")
    await shop.ok("receive", **FINE, location="SITE-2", quantity=1, unit_cost="7.00")
    assert await values(shop, "BIN") == {"WIRE": "3.333335", "RESIN": "0.00", "total": "3.333335"}
    assert await values(shop, "AREA") == {"WIRE": "3.333339", "RESIN": "0.000001", "total": "3.33334"}
    assert await values(shop, "SITE") == await values(shop, "AREA")
    assert await values(shop) == {"WIRE": "10.333339", "RESIN": "0.000001", "total": "10.33334"}
    by_part = await shop.get("/api/valuation", "supervisor", params={"location": "AREA", "part": "WIRE"})
    assert [(i["part"], i["quantity"]) for i in by_part.json()["items"]] == [("WIRE", "6.5")]
    # stock moved out of the bin leaves the bin's, the area's and the site's values and comes to the other site's
    await shop.ok("move", **FINE, from_location="BIN", to_location="SITE-2", quantity="1.5")
    assert (await values(shop, "BIN"))["WIRE"] == "1.333334"
    assert await values(shop, "SITE-2") == {"WIRE": "9.000001", "total": "9.000001"}  # 7 + 1.5 × 1.333334
    await shop.ok("remove", **FINE, location="BIN", quantity=1, reason="used")
    assert await values(shop, "BIN") == {"RESIN": "0.00", "total": "0.00"}
    assert await values(shop) == {"WIRE": "9.000005", "RESIN": "0.000001", "total": "9.000006"}
    assert (await values(shop, "NOWHERE")) == {"total": "0.00"}  # an unknown location holds nothing
    await kept_right(db)


async def test_a_location_with_a_new_parent_takes_its_subtrees_value_along(shop, db):
    await tree(shop)
    await shop.ok("receive", **BULK, location="BIN", quantity=3, unit_cost="2.50")
    await shop.ok("receive", **BULK, location="AREA", quantity=1, unit_cost="1.25")
    moved = await shop.patch("/api/locations/AREA", {"parent": "SITE-2"}, "supervisor")
    assert moved.status_code == 200, moved.text
    assert await values(shop, "SITE") == {"total": "0.00"}
    assert await values(shop, "SITE-2") == {"BULK": "8.75", "total": "8.75"}
    assert await values(shop, "AREA") == {"BULK": "8.75", "total": "8.75"}
    assert (await shop.patch("/api/locations/AREA", {"parent": None}, "supervisor")).status_code == 200
    assert await values(shop, "SITE-2") == {"total": "0.00"}
    assert await values(shop) == {"BULK": "8.75", "total": "8.75"}  # AREA is a top location now
    await kept_right(db)


async def test_scrapped_and_isolated_stock_and_the_chart_of_a_location(shop, db, browsers):  # noqa: F811
    await tree(shop)
    await shop.location("BIN-2", parent="AREA")
    await shop.ok("receive", **LOT, lot="L-1", location="BIN", quantity=4, unit_cost="1.00")
    await shop.ok("receive", **LOT, lot="L-2", location="BIN-2", quantity=2, unit_cost="5.00")
    await shop.ok("receive", **LOT, lot="L-3", location="AREA", quantity=1, unit_cost="3.00")
    await shop.ok("isolate", **LOT, lot="L-1", location="BIN", quantity=4, reason="check")  # isolated: still held
    assert await values(shop, "AREA") == {"LOT-PART": "17.00", "total": "17.00"}
    await shop.ok("scrap", **LOT, lot="L-2", location="BIN-2", quantity=1, reason="bent")  # scrapped: gone
    assert await values(shop, "AREA") == {"LOT-PART": "12.00", "total": "12.00"}
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get("/supervisor/valuation?location=AREA")).text
    # the locations in the area, each with its subtree, and the area's own rows
    assert 'data-location="BIN" data-value="4.00"' in shown and 'data-location="BIN-2" data-value="5.00"' in shown
    assert 'data-location="AREA" data-value="3.00"' in shown
    assert 'data-location="SITE" data-value="12.00"' in (await supervisor.get("/supervisor/valuation")).text
    await kept_right(db)
