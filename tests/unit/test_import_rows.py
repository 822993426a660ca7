"""A file's header and rows checked on their own (no database): every refusal a cell, a row or a header can get,
by the API's own rules, with the row, the column as the file names it and the reason; and the InvenTree preset's
reading of its exports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.importing.kinds import check_row, refuse_repeats
from server.importing.presets import PRESETS
from server.importing.report import Row
from server.importing.service import KINDS, rows_of
from server.importing.table import FileRefused, read_table
from server.rules.quantities import MAX_QUANTITY


def checked(kind: str, text: str, preset: str | None = None) -> list[Row]:
    table = read_table(text.encode())
    rows = rows_of(KINDS[kind], table, PRESETS[preset] if preset else None)
    for row in rows:
        check_row(KINDS[kind], row, table.delimiter)
    refuse_repeats(KINDS[kind], rows)
    return rows


def refusals(rows: list[Row]) -> list[tuple[int, str, str]]:
    return [(row.number, refusal.column, refusal.message) for row in rows for refusal in row.refusals]


def test_good_rows_typed_as_the_api_types_them() -> None:
    (part,) = checked("parts", "part_number,tracking,description,unit\nSCREW,Untracked,Screw M3,ea\n")
    assert part.values == {"part_number": "SCREW", "tracking": "untracked", "description": "Screw M3", "unit": "ea"}
    (location,) = checked("locations", "code;kind;available\nMRB;quarantine;nein\n")
    assert location.values == {"code": "MRB", "kind": "quarantine", "available": False}
    (stock,) = checked("stock", "part;location;quantity;unit_cost;serial\nP;A;12,00;0,125;\n")
    assert stock.values == {"part": "P", "location": "A", "quantity": 12, "unit_cost": Decimal("0.125")} and not stock.refused


@pytest.mark.parametrize(("cell", "message"), [
    ("abc", "'abc' is not a number"),
    ("0", "a quantity must be more than 0"),
    ("-3", "a quantity must be more than 0"),
    ("0.0000001", "0.0000001 has more than 6 decimal places"),  # finer than its part's unit: refused when applied
    (str(MAX_QUANTITY + 1), f"{MAX_QUANTITY + 1} is more than {MAX_QUANTITY:,}"),
    ("1.000", "'1.000' may be 1,000 or 1.000 depending on who wrote it: write it without a thousands separator"),
    ('"2,500"', "'2,500' may be 2,500 or 2.500 depending on who wrote it: write it without a thousands separator"),
    ('"12,5"', "'12,5' is not a number"),  # a decimal comma only in a ;-separated file
    ("1e3", "'1e3' is not a number"),
])
def test_every_refusal_of_a_quantity(cell: str, message: str) -> None:
    (row,) = checked("stock", f"part,location,quantity\nP,A,{cell}\n")
    assert refusals([row]) == [(2, "quantity", message)]


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("parts", "part_number,tracking\nP,serialized\n", [(2, "tracking", "'serialized' is not one of serial, lot, untracked")]),
    ("parts", f"part_number,tracking\n{'P' * 65},lot\n", [(2, "part_number", "65 characters: at most 64")]),
    ("parts", "part_number,tracking,serial_pattern\nP,serial,SN-{seq\n",
     [(2, "serial_pattern", "unbalanced braces: every { needs its }")]),
    ("parts", "part_number,tracking,lot_pattern\nP,lot,LOT-{year}\n",
     [(2, "lot_pattern", "unknown field {year}; use {dd}, {mm}, {part}, {rev}, {seq}, {yy}, {yyyy}")]),
    ("parts", "part_number,description\n,Screw\n", [(2, "part_number", "required: every row names its part number")]),
    ("parts", "part_number,description\nP,one\nQ,two\nP,three\n", [(4, "part_number", "P is on row 2 already: one row each")]),
    ("parts", "part_number,description\nP,a\x00b\n", [(2, "description", "must not contain the NUL character (U+0000)")]),
    ("locations", "code,kind\nA,shelf\n", [(2, "kind", "'shelf' is not one of normal, incoming, lineside, quarantine, "
                                                       "count_discrepancy")]),
    ("locations", "code,available\nA,perhaps\n", [(2, "available", "'perhaps' is neither yes nor no: write true or false "
                                                                    "(yes/no, 1/0)")]),
    ("locations", "Code,Name\nA,x\nA,y\n", [(3, "Code", "A is on row 2 already: one row each")]),
    ("locations", "code,name\nA,x,surplus\n", [(2, "", "1 cell(s) outside the columns the header names")]),
    ("suppliers", "name,code\nAcme,A1\nACME,A2\n", [(3, "name", "ACME is on row 2 already: one row each")]),
    ("suppliers", f"name,code\nAcme,{'C' * 65}\n", [(2, "code", "65 characters: at most 64")]),
    ("stock", "part,location,quantity,package_price,expiry\nP,A,1,12.50,31.01.2027\nP,A,1,12.50,2027-02-31\n", [
        (2, "expiry", "'31.01.2027' is not a date: write it as YYYY-MM-DD (2027-03-31)"),
        (3, "expiry", "'2027-02-31' is not a date: write it as YYYY-MM-DD (2027-03-31)"),
    ]),
    ("stock", "part,location,quantity,unit_cost,package_price\nP,A,4,3.00,12.50\n", [
        (2, "package_price", "package_price 12.50 for 4 is 3.125 a unit, not the unit_cost 3.00: give one of them, or both alike"),
    ]),
    ("stock", "part,location,quantity\n,,\nP,,\n", [
        (3, "location", "required: every row names its location"), (3, "quantity", "required: every row names its quantity"),
    ]),
    ("stock", "part,location,quantity,unit_cost\nP,A,1,-2\nP,A,1,2e12\n", [
        (2, "unit_cost", "unit_cost: an amount cannot be negative"), (3, "unit_cost", "'2e12' is not a number"),
    ]),
])
def test_every_refusal_of_a_row_names_its_row_column_and_why(kind: str, text: str, expected: list[tuple[int, str, str]]) -> None:
    assert refusals(checked(kind, text)) == expected


@pytest.mark.parametrize(("kind", "text", "preset", "says"), [
    ("parts", "part_number,decription\nP,x\n", None,
     "Unknown column 'decription': the columns of parts are part_number, description, unit, tracking, revision, "
     "serial_pattern, lot_pattern, quantity_places, packs (download the template)"),
    ("parts", "description,tracking\nx,lot\n", None, "The file has no part_number column"),
    ("stock", "part,location\nP,A\n", None, "The file has no quantity column"),
    ("suppliers", "Part Name,Quantity\nP,1\n", "inventree", "The inventree preset reads no suppliers: only parts, locations, stock"),
    ("parts", "part_number,tracking\nP,lot\n", "inventree", "This is not a inventree export of parts: none of its columns"),
])
def test_a_header_that_does_not_fit_the_kind_refuses_the_file(kind: str, text: str, preset: str | None, says: str) -> None:
    with pytest.raises(FileRefused) as refused:
        checked(kind, text, preset)
    assert refused.value.message.startswith(says)


def test_the_error_column_of_a_refused_rows_file_is_ignored() -> None:
    (row,) = checked("locations", "code,name,error\nA,Shelf,row 2: kind: 'x' is not one of …\n")
    assert row.values == {"code": "A", "name": "Shelf"} and not row.refused


INVENTREE_PARTS = (
    "Part ID,Part Name,Part Description,IPN,Revision,Keywords,Units,Category Name,Active,Trackable,In Stock\n"
    "1,Pump,Pump assembly,PMP-100,B,,,Pumps,True,True,3\n"
    "2,Screw M3,Screw M3x8,,,,pcs,Fasteners,True,False,500\n"
)
INVENTREE_STOCK = (
    "Stock Item ID,Part ID,Part Name,Quantity,Serial,Batch,Status,Status Code,Location ID,Location Name,"
    "Supplier Name,Installed In,Customer ID,purchase_price,Expiry Date\n"
    "11,1,PMP-100 | Pump | B,1.00000,SN-1,,OK,10,4,Shelf 2,Acme,,,712.5,\n"
    "12,2,Screw M3,250.00000,,B-7,Attention needed,50,4,Shelf 2,,,,0.02,\n"
    "13,2,Screw M3,5.00000,,,Lost,70,4,Shelf 2,,,,,\n"
    "14,1,PMP-100 | Pump | B,1.00000,SN-2,,OK,10,4,Shelf 2,,11,,,\n"
    "15,1,PMP-100 | Pump | B,1.00000,SN-3,,OK,10,,,,,7,,\n"
)


def test_inventree_parts_become_parts() -> None:
    pump, screw = checked("parts", INVENTREE_PARTS, "inventree")
    assert pump.values == {"part_number": "PMP-100", "description": "Pump assembly", "revision": "B", "tracking": "serial"}
    assert screw.values == {"part_number": "Screw M3", "description": "Screw M3x8", "unit": "pcs", "tracking": "untracked"}


def test_our_own_column_in_an_inventree_file_wins_where_filled_in() -> None:
    text = (INVENTREE_PARTS.replace("In Stock\n", "In Stock,tracking\n", 1).replace(",3\n", ",3,\n")
            .replace(",500\n", ",500,lot\n"))
    pump, screw = checked("parts", text, "inventree")
    assert (pump.values["tracking"], screw.values["tracking"]) == ("serial", "lot")
    assert screw.sources["tracking"] == "tracking" and pump.sources["tracking"] == "Trackable"


def test_inventree_stock_items_become_receipts_or_are_refused_naming_inventrees_column() -> None:
    rows = checked("stock", INVENTREE_STOCK, "inventree")
    assert rows[0].values == {"part": "PMP-100", "location": "Shelf 2", "quantity": 1, "serial": "SN-1",
                              "supplier": "Acme", "unit_cost": Decimal("712.5")}
    assert rows[1].values == {"part": "Screw M3", "location": "Shelf 2", "quantity": 250, "lot": "B-7", "unit_cost": Decimal("0.02")}
    assert refusals(rows) == [
        (4, "Status Code", "70 (Lost) in InvenTree: only stock that is OK or needs attention opens a balance"),
        (5, "Installed In", "installed in InvenTree stock item 11: import it on its own, then install it (an install op)"),
        (6, "Customer ID", "at InvenTree customer 7: not in stock"),
        (6, "Location Name", "required: every row names its location"),
    ]


def test_inventree_locations_by_their_path() -> None:
    (row,) = checked("locations", "Location ID,Location Name,Description,Parent ID,Parent Name,Location Path\n"
                                  "4,Shelf 2,Second shelf,3,Stores,Factory/Stores/Shelf 2\n", "inventree")
    assert row.values == {"code": "Factory/Stores/Shelf 2", "name": "Shelf 2"}
