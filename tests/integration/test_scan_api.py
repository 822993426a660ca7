"""GET /api/scan against real stock built through POST /api/ops: each kind of code resolves to the
inventory an operator expects; codes that match nothing are recorded and listed for supervisors."""

from __future__ import annotations

from typing import Any

import pytest

from server.scan import codes

GS, RS, EOT = "\x1d", "\x1e", "\x04"


@pytest.fixture
async def stock(api: Any) -> Any:
    """A serialized assembly with a unit installed, a lot split over two locations, untracked stock."""
    await api.location("PLANT-1")
    await api.location("PLANT-1/STORES", parent="PLANT-1")
    await api.location("PLANT-1/LINE-1", parent="PLANT-1")
    await api.part("CTRL-100", "serial", description="Controller")
    await api.part("PSU-24V", "serial")
    await api.part("RES-10K", "lot", description="Resistor 10k 0603")
    await api.part("LM358BIDDFR", "untracked", description="Dual op-amp")
    await api.ok("receive", part="CTRL-100", tracking="serial", location="PLANT-1/LINE-1", quantity=1, serial="C-0001")
    await api.ok("receive", part="PSU-24V", tracking="serial", location="PLANT-1/STORES", quantity=1, serial="P-0001")
    await api.ok("install", parent_serial="C-0001", part="PSU-24V", tracking="serial", serial="P-0001", quantity=1)
    await api.ok("receive", part="RES-10K", tracking="lot", location="PLANT-1/STORES", quantity=500, lot="L/2024 α")
    await api.ok(
        "move", part="RES-10K", tracking="lot", lot="L/2024 α", from_location="PLANT-1/STORES",
        to_location="PLANT-1/LINE-1", quantity=100,
    )
    await api.ok("receive", part="LM358BIDDFR", tracking="untracked", location="PLANT-1/STORES", quantity=10)
    return api


async def scan(api: Any, code: str, role: str = "operator") -> dict[str, Any]:
    response = await api.get("/api/scan", role, params={"code": code})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_unit_label_names_the_unit_its_part_and_where_it_is_installed(stock):
    answer = await scan(stock, codes.render(codes.UnitCode("P-0001")))
    assert (answer["kind"], answer["found"], answer["format"]) == ("unit", True, "gemba")
    assert answer["unit"]["status"] == "installed"
    assert answer["unit"]["installed_in"] == "C-0001"
    assert answer["unit"]["location"] == "PLANT-1/LINE-1"
    assert answer["part"]["part_number"] == "PSU-24V"
    assert answer["fields"]["serial"] == "P-0001"


async def test_a_lot_label_with_escaped_characters_lists_the_lot_across_locations(stock):
    label = codes.render(codes.LotCode("RES-10K", "L/2024 α"))
    assert label == "L:RES-10K/L/2024%20%CE%B1"
    answer = await scan(stock, label)
    assert (answer["kind"], answer["found"]) == ("lot", True)
    assert {(row["location"], row["quantity"]) for row in answer["rows"]} == {
        ("PLANT-1/STORES", 400), ("PLANT-1/LINE-1", 100),
    }
    assert sum(line["quantity"] for line in answer["stock"]) == 500
    assert (answer["fields"]["part"], answer["fields"]["lot"]) == ("RES-10K", "L/2024 α")


async def test_a_location_label_summarises_what_is_there_including_sub_locations(stock):
    answer = await scan(stock, codes.render(codes.LocationCode("PLANT-1")))
    assert (answer["kind"], answer["found"]) == ("location", True)
    assert answer["location"]["code"] == "PLANT-1"
    lines = {(line["part"], line["location"], line["status"]): line["quantity"] for line in answer["stock"]}
    assert lines[("RES-10K", "PLANT-1/STORES", "available")] == 400
    assert lines[("PSU-24V", "PLANT-1/LINE-1", "installed")] == 1
    assert lines[("LM358BIDDFR", "PLANT-1/STORES", "available")] == 10
    stores = await scan(stock, codes.render(codes.LocationCode("PLANT-1/STORES")))
    assert stores["location"]["parent"] == "PLANT-1"
    assert {row["part"] for row in stores["rows"]} == {"RES-10K", "LM358BIDDFR"}


async def test_a_part_label_gives_its_stock_per_location(stock):
    answer = await scan(stock, codes.render(codes.PartCode("RES-10K")))
    assert (answer["kind"], answer["found"]) == ("part", True)
    assert answer["part"]["description"] == "Resistor 10k 0603"
    assert {(line["location"], line["quantity"]) for line in answer["stock"]} == {
        ("PLANT-1/STORES", 400), ("PLANT-1/LINE-1", 100),
    }
    assert answer["rows_total"] == 2


@pytest.mark.parametrize(
    ("typed", "kind", "key"),
    [("C-0001", "unit", "serial"), ("PLANT-1/STORES", "location", "location"), ("RES-10K", "part", "part"),
     ("L/2024 α", "lot", "lot")],
)
async def test_plain_text_an_operator_types_is_recognised(stock, typed, kind, key):
    answer = await scan(stock, typed)
    assert (answer["kind"], answer["found"], answer["format"]) == (kind, True, "text")
    assert answer["fields"][key] == typed


async def test_a_digikey_label_is_matched_to_our_part_by_its_manufacturer_part_number(stock):
    # DigiKey DataMatrix as in InvenTree's supplier barcode tests (test_supplier_barcodes.py).
    code = (
        f"[)>{RS}06{GS}P296-LM358BIDDFRCT-ND{GS}1PLM358BIDDFR{GS}K{GS}1K72991337{GS}10K85781337{GS}11K1{GS}"
        f"4LPH{GS}Q10{GS}11ZPICK{GS}12Z15221337{GS}13Z361337{GS}20Z" + "0" * 40 + f"{RS}{EOT}"
    )
    answer = await scan(stock, code)
    assert (answer["kind"], answer["format"]) == ("supplier_label", "iso15434")
    assert answer["found"] and answer["part"]["part_number"] == "LM358BIDDFR"
    assert answer["fields"]["part"] == "LM358BIDDFR"
    assert answer["fields"]["supplier_part"] == "296-LM358BIDDFRCT-ND"
    assert answer["fields"]["manufacturer_part"] == "LM358BIDDFR"
    assert (answer["fields"]["quantity"], answer["fields"]["country"]) == (10, "PH")
    assert {"id": "1P", "name": "supplier part number", "value": "LM358BIDDFR"} in answer["elements"]


async def test_a_mouser_label_typed_by_a_keyboard_wedge_still_reads(stock):
    # Mouser label as a wedge scanner types it (partmanager/barcode-decoder tests/test_mouser.py style).
    answer = await scan(stock, ">[)>06]K21105000]14K004]1PLM358BIDDFR]q4]11K060439500]4LCN]1VTI")
    assert (answer["kind"], answer["found"]) == ("supplier_label", True)
    assert answer["part"]["part_number"] == "LM358BIDDFR"
    assert answer["fields"] | {"po": "21105000", "po_line": "004", "quantity": 4, "manufacturer": "TI"} == answer["fields"]
    assert {line["location"] for line in answer["stock"]} == {"PLANT-1/STORES"}
    assert any("]" in warning for warning in answer["warnings"])


async def test_a_gs1_label_gives_receive_fields_and_finds_a_known_serial(stock):
    code = f"]C10109506000134352{GS}17251231{GS}10LOT-9{GS}21C-0001"
    answer = await scan(stock, code)
    assert (answer["kind"], answer["format"]) == ("supplier_label", "gs1")
    assert answer["fields"] | {"gtin": "09506000134352", "expiry": "2025-12-31", "lot": "LOT-9"} == answer["fields"]
    assert answer["unit"]["serial"] == "C-0001"  # the label's (21) serial is a unit we have
    parenthesised = await scan(stock, "(01)09506000134352(17)251200(10)LOT-9")
    assert parenthesised["fields"]["expiry"] == "2025-12-31"  # day 00: the end of the month


async def test_a_bare_gtin_is_a_gtin_and_matches_a_part_numbered_by_it(stock):
    await stock.part("9506000134352", "untracked")
    answer = await scan(stock, "09506000134352")
    assert (answer["kind"], answer["format"], answer["found"]) == ("gtin", "gtin", True)
    assert answer["part"]["part_number"] == "9506000134352"
    unknown_gtin = await scan(stock, "4006381333931")
    assert (unknown_gtin["kind"], unknown_gtin["found"]) == ("gtin", False)


async def test_control_characters_survive_the_query_string(stock):
    response = await stock.client.get(
        "/api/scan?code=%5B%29%3E%1E06%1DP123%1DQ5%1E%04", headers=stock.headers("operator")
    )
    assert response.status_code == 200
    assert response.json()["elements"] == [
        {"id": "P", "name": "customer part number", "value": "123"},
        {"id": "Q", "name": "quantity", "value": "5"},
    ]
    assert response.json()["warnings"] == []


async def test_unknown_codes_are_recorded_counted_and_listed_for_supervisors(stock):
    for _ in range(2):
        answer = await scan(stock, "NOTHING-LIKE-THIS")
        assert (answer["kind"], answer["found"]) == ("unknown", False)
    await scan(stock, codes.render(codes.UnitCode("NO-SUCH-UNIT")), role="supervisor")
    await scan(stock, "C-0001")  # found: not a miss
    response = await stock.get("/api/scan/misses", "supervisor")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    newest, older = page["items"]
    assert (newest["code"], newest["kind"], newest["count"], newest["last_user"]) == (
        "U:NO-SUCH-UNIT", "unit", 1, "supervisor",
    )
    assert (older["code"], older["kind"], older["count"], older["last_user"]) == (
        "NOTHING-LIKE-THIS", "unknown", 2, "operator",
    )


async def test_malformed_labels_answer_clearly(stock):
    truncated = await scan(stock, "]C1011234")
    assert (truncated["kind"], truncated["found"]) == ("unknown", False)
    assert "truncated" in truncated["errors"][0]
    bad_check = await scan(stock, "(01)09506000134351(10)X")
    assert bad_check["kind"] == "supplier_label"
    assert "check digit" in bad_check["errors"][0]
    header_only = await scan(stock, "[)>")
    assert header_only["kind"] == "unknown" and header_only["errors"]


async def test_scan_needs_a_token_and_misses_need_a_supervisor(stock):
    assert (await stock.client.get("/api/scan", params={"code": "X"})).status_code == 401
    assert (await stock.get("/api/scan/misses", "operator")).status_code == 403
    response = await stock.get("/api/scan", params={"code": "x" * 4001})
    assert response.status_code == 422
    assert response.json()["field"] == "code"
