"""Count sheets: what should be there, excluding installed stock (and scrapped stock and written-off units),
per part with its revision, lot and serial; a blind count's sheet hides the expected quantities; as JSON,
as CSV and as a printable page."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import Api
from tests.integration.counts_support import BULK, LOT, SERIAL, plan, room, started  # noqa: F401 - fixtures
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture


async def test_the_sheet_lists_what_should_be_there_and_not_installed_stock(room: Api) -> None:
    await room.ok("receive", part="ASM", tracking="serial", serial="ASM-2", location="CAGE/S1", quantity=1)
    await room.ok("install", parent_serial="ASM-2", **SERIAL, serial="P-2", quantity=1)  # installed: not listed
    await room.ok("install", parent_serial="ASM-2", **LOT, lot="L-1", from_location="CAGE/S1", quantity=5)
    await room.ok("isolate", **LOT, lot="L-1", location="CAGE/S1", quantity=3, reason="suspect")  # still there
    await room.ok("scrap", **BULK, location="CAGE/S1", quantity=10, reason="bent")
    await room.ok("adjust", "supervisor", **SERIAL, serial="P-3", location="CAGE/S2", delta=-1, reason="lost")
    count = await plan(room, location="CAGE")  # a planned count's sheet: the subtree as it is now

    sheet = (await room.get(f"/api/counts/{count['id']}/sheet")).json()
    assert sheet["blind"] is False and sheet["total"] == 5
    rows = [(line["location"], line["part"], line.get("lot"), line.get("serial"), line["expected"], line.get("isolated"))
            for line in sheet["lines"]]
    assert rows == [
        ("CAGE/S1", "ASM", None, "ASM-2", 1, None),
        ("CAGE/S1", "PUMP", None, "P-1", 1, None),
        ("CAGE/S1", "SCREW", None, None, 90, None),
        ("CAGE/S1", "SEAL", "L-1", None, 35, 3),  # free and isolated together, the isolated part said
        ("CAGE/S2", "SEAL", "L-2", None, 10, None),
    ]
    pump = sheet["lines"][1]
    assert (pump["revision"], pump["description"], pump["unit"], pump["tracking"]) == ("B", "Pump", "ea", "serial")


async def test_a_blind_sheet_hides_expected_quantities_in_json_csv_and_print(room: Api, browsers: Any) -> None:  # noqa: F811
    count = await started(room, location="CAGE/S1", blind=True)
    sheet = (await room.get(f"/api/counts/{count['id']}/sheet")).json()
    assert sheet["blind"] is True and sheet["total"] == 4
    assert all("expected" not in line and "isolated" not in line for line in sheet["lines"])

    response = await room.get(f"/api/counts/{count['id']}/sheet.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["location", "part", "revision", "description", "unit", "tracking", "lot", "serial", "counted"]
    assert ["CAGE/S1", "SEAL", "", "Seal kit", "ea", "lot", "L-1", "", ""] in rows

    open_count = await started(room, kind="part", part="SEAL")  # a part count, in every location, not blind
    rows = list(csv.reader(io.StringIO((await room.get(f"/api/counts/{open_count['id']}/sheet.csv")).text)))
    assert rows[0][-2:] == ["expected", "counted"]
    assert [(r[0], r[6], r[8]) for r in rows[1:]] == [("CAGE/S1", "L-1", "40"), ("CAGE/S2", "L-2", "10")]

    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    printable = await supervisor.get(f"/supervisor/counts/{count['id']}/sheet")
    assert printable.status_code == 200
    assert "blind count" in printable.text and "<th>Expected</th>" not in printable.text and "P-2" in printable.text
    shown = (await supervisor.get(f"/supervisor/counts/{open_count['id']}/sheet")).text
    assert "<th>Expected</th>" in shown and "40 ea" in shown
