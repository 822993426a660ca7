"""Reading a spreadsheet's CSV as people save it (Excel's byte-order mark, `;` where the decimal comma is the
custom, tabs, quoted line breaks, blank rows at the end), refusing what cannot be read with the row at fault,
and writing one that reads back the same."""

from __future__ import annotations

import pytest

from server.importing.table import FileRefused, csv_bytes, read_table


def test_excel_utf8_with_bom_and_semicolons() -> None:
    table = read_table("\ufeffpart_number;description\r\nSCREW;Schraube M3 ø3\r\n".encode())
    assert table.delimiter == ";"
    assert table.header == ["part_number", "description"]
    assert [(r.row, r.cells) for r in table.records] == [(2, {"part_number": "SCREW", "description": "Schraube M3 ø3"})]


@pytest.mark.parametrize(("text", "delimiter"), [
    ("a,b\n1,2\n", ","), ("a;b\n1;2\n", ";"), ("a\tb\n1\t2\n", "\t"), ("code\nX\n", ","),
    ('a;b;c,d\n1;2;"3,4"\n', ";"), ("a;b,c\n1;2,3\n", ","),  # the header's most frequent, else ","
])
def test_the_separator_is_the_one_the_header_uses_most(text: str, delimiter: str) -> None:
    assert read_table(text.encode()).delimiter == delimiter


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    text = 'code,name\nA,"two\nlines"\n\n , \nB,  spaced  \n'
    table = read_table(text.encode())
    assert [(r.row, r.cells) for r in table.records] == [
        (2, {"code": "A", "name": "two\nlines"}), (5, {"code": "B", "name": "spaced"}),  # rows 3 and 4 are blank
    ]


def test_cells_outside_the_header_are_counted_and_missing_ones_are_empty() -> None:
    table = read_table(b"code,name,\nA\nB,b,,\nC,c,x,y\n")
    assert [(r.cells, r.extra) for r in table.records] == [
        ({"code": "A", "name": ""}, 0), ({"code": "B", "name": "b"}, 0), ({"code": "C", "name": "c"}, 2),
    ]


@pytest.mark.parametrize(("data", "says"), [
    (b"", "The file is empty"),
    (b" \r\n\r\n", "The file is empty"),
    ("code\nA\nB\xe4r\n".encode("latin-1"), "Row 3 is not UTF-8 text"),
    (b"code,Code\nA,B\n", "names the column 'Code' twice"),
    (b'code,name\nA,"unclosed\n', "is not valid CSV"),
    (b'code,name\nA,"ab"c\n', "Row 2: the file is not valid CSV"),
])
def test_a_file_that_cannot_be_read_is_refused_saying_why(data: bytes, says: str) -> None:
    with pytest.raises(FileRefused) as refused:
        read_table(data)
    assert says in refused.value.message


def test_written_files_start_with_a_bom_and_read_back_the_same() -> None:
    rows = [["A;1", 'say "hi"', "two\nlines", "Größe"], ["", "", "", ""]]
    data = csv_bytes(["a", "b", "c", "d"], rows)
    assert data.startswith("\ufeff".encode())
    table = read_table(data)
    assert table.delimiter == ","
    assert [list(r.cells.values()) for r in table.records] == [rows[0]]  # the blank row is skipped
