"""A count's values are exact money (issue 17): unit costs, values and totals are decimal strings computed in
Decimal — on the review, in the closed count's record, its summary and the accuracy figures — and a line adjusted
shows what its adjustment booked: the FIFO cost of its usage record (a shortage), the value of its found layer (a
surplus), to the millionth. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Api
from tests.integration.counts_support import close, counted, decide, line_of, review, started
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture

TAPE = {"part": "TAPE", "tracking": "untracked"}
GASKET = {"part": "GASKET", "tracking": "untracked"}
CABLE = {"part": "CABLE", "tracking": "lot"}


@pytest.fixture
async def shelves(api: Api) -> Api:
    await api.part("TAPE", "untracked", description="Tape")
    await api.part("GASKET", "untracked", description="Gasket")
    await api.part("CABLE", "lot", description="Cable")
    await api.part("WIRE", "untracked", unit="m", description="Wire")  # metres: 3 decimal places
    await api.location("RACK")
    for shelf in ("RACK/A", "RACK/B"):
        await api.location(shelf, parent="RACK")
    return api


async def test_tenths_and_large_values_are_exact_on_the_review_and_in_the_record(shelves: Api) -> None:
    """1 tape at 0.1 and 1 at 0.2 are worth 0.30 (their weighted cost 0.15), not 0.30000000000000004; a million
    metres of cable at 123456.654321 are worth 123456654321.00 to the cent — the float product is
    123456654320.99998 — and 2.5 m of wire at 0.333333 are worth 0.833332 (0.8333325 rounded half to even); the
    totals are the sums of the lines' values."""
    await shelves.ok("receive", **TAPE, location="RACK/A", quantity=1, unit_cost="0.1")
    await shelves.ok("receive", **TAPE, location="RACK/A", quantity=1, unit_cost=0.2)
    await shelves.ok("receive", **CABLE, lot="C-1", location="RACK/B", quantity=1_000_000, unit_cost="123456.654321")
    await shelves.ok("receive", part="WIRE", tracking="untracked", location="RACK/A", quantity="2.5", unit_cost="0.333333")
    count = await started(shelves, location="RACK", name="Rack")
    await counted(shelves, count, TAPE, "RACK/A", 0)
    await shelves.ok("count", part="WIRE", tracking="untracked", location="RACK/A", counted_quantity="2.5",
                     count_id=count["id"])
    await counted(shelves, count, CABLE | {"lot": "C-1"}, "RACK/B", 1_000_000)

    body = await review(shelves, count)
    tape = line_of(body, part="TAPE")
    assert (tape["unit_cost"], tape["value_expected"], tape["value_difference"]) == ("0.15", "0.30", "-0.30")
    cable = line_of(body, part="CABLE")
    assert (cable["unit_cost"], cable["value_expected"], cable["value_difference"]) == (
        "123456.654321", "123456654321.00", "0.00",
    )
    assert line_of(body, part="WIRE")["value_expected"] == "0.833332"
    totals = body["totals"]
    assert (totals["value_expected"], totals["value_difference"], totals["value_not_counted"]) == (
        "123456654322.133332", "0.30", "0.00",
    )
    assert totals["value_accuracy"] == float(1 - Decimal("0.30") / Decimal("123456654322.133332"))

    closed = (await close(shelves, count))["count"]  # nothing decided: the record keeps the review's values
    assert (closed["summary"]["value_expected"], closed["summary"]["value_difference"]) == ("123456654322.133332", "0.30")
    record = await review(shelves, count)
    assert record["totals"] == totals
    assert [line_of(record, part=p)["value_expected"] for p in ("TAPE", "CABLE")] == ["0.30", "123456654321.00"]
    accuracy = (await shelves.get("/api/counts/accuracy", "supervisor")).json()
    assert (accuracy["overall"]["value_expected"], accuracy["overall"]["value_difference"]) == (
        "123456654322.133332", "0.30",
    )
    assert {p["location"]: p["history"][0]["value_expected"] for p in accuracy["locations"]} == {
        "RACK/A": "1.133332", "RACK/B": "123456654321.00",
    }


async def usage_of(api: Api, op_id: str) -> list[dict[str, Any]]:
    items = (await api.get("/api/usage", params={"part": "GASKET", "limit": 500})).json()["items"]
    return [item for item in items if item["op_id"] == op_id]


async def layers_of(api: Api, op_id: str) -> list[dict[str, Any]]:
    items = (await api.get("/api/costs/layers", params={"part": "GASKET", "limit": 500})).json()["items"]
    return [item for item in items if item["op_id"] == op_id]


async def test_an_adjusted_line_shows_what_its_adjustment_booked(shelves: Api) -> None:
    """60 gaskets at 2.10 on A, then 50 at 2.00 on B. B is short by 10: valued at the cost there (20.00) until the
    supervisor adjusts it; the adjustment takes the oldest layer B's stock holds (FIFO within the stock that
    leaves: 10 at 2.00), so its usage record costs 20.00 and the line shows −20.00. A holds 3 more than recorded: the found layer comes at the average price
    (2.054545), worth 6.163635, which the line shows. The closed count keeps those values."""
    await shelves.ok("receive", **GASKET, location="RACK/A", quantity=60, package_price="126.00")
    await shelves.ok("receive", **GASKET, location="RACK/B", quantity=50, unit_cost="2.00")
    count = await started(shelves, location="RACK", name="Gaskets")
    await counted(shelves, count, GASKET, "RACK/B", 40)
    await counted(shelves, count, GASKET, "RACK/A", 63)

    before = await review(shelves, count)
    short, over = line_of(before, location="RACK/B"), line_of(before, location="RACK/A")
    assert (short["unit_cost"], short["value_expected"], short["value_difference"]) == ("2.00", "100.00", "-20.00")
    assert (over["unit_cost"], over["value_expected"], over["value_difference"]) == ("2.10", "126.00", "6.30")

    [shortage] = await decide(shelves, count, [short["line_id"]])
    [surplus] = await decide(shelves, count, [over["line_id"]])
    [used] = await usage_of(shelves, shortage["op_id"])
    [found] = await layers_of(shelves, surplus["op_id"])
    assert (used["quantity"], used["cost"]) == (10, "20.00")  # FIFO: the oldest layer held on B, at 2.00
    assert (found["kind"], found["quantity_received"], found["unit_cost"], found["value"]) == (
        "found", 3, "2.054545", "6.163635",
    )

    after = await review(shelves, count)
    short, over = line_of(after, location="RACK/B"), line_of(after, location="RACK/A")
    assert Decimal(short["value_difference"]) == -Decimal(used["cost"]) and short["value_difference"] == "-20.00"
    assert Decimal(over["value_difference"]) == Decimal(found["value"]) and over["value_difference"] == "6.163635"
    assert (short["decision"]["value"], over["decision"]["value"]) == ("-20.00", "6.163635")
    assert short["value_expected"] == "100.00"  # what was expected is valued at the cost there, as before
    assert after["totals"]["value_difference"] == "26.163635"  # |−20.00| + 6.163635

    summary = (await close(shelves, count))["count"]["summary"]
    assert (summary["value_expected"], summary["value_difference"]) == ("226.00", "26.163635")
    record = await review(shelves, count)
    assert [line_of(record, location=place)["value_difference"] for place in ("RACK/B", "RACK/A")] == ["-20.00", "6.163635"]
    assert record["totals"] == after["totals"]


async def test_the_review_page_shows_the_figures_of_the_review(shelves: Api, browsers: Any) -> None:  # noqa: F811
    """The supervisor's page shows the same amounts as the API, with the currency, never a float's digits."""
    await shelves.ok("receive", **TAPE, location="RACK/A", quantity=1, unit_cost="0.1")
    await shelves.ok("receive", **TAPE, location="RACK/A", quantity=1, unit_cost="0.2")
    count = await started(shelves, location="RACK/A", name="Tape")
    await counted(shelves, count, TAPE, "RACK/A", 0)
    totals = (await review(shelves, count))["totals"]
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    page = (await supervisor.get(f"/supervisor/counts/{count['id']}")).text
    assert (totals["value_difference"], totals["value_expected"]) == ("0.30", "0.30")
    assert "0.30 off 0.30 EUR" in page
    assert '<span data-fact="value-difference">-0.30</span>' in page
    assert "0.30000000000000004" not in page
