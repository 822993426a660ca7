"""Importing opening stock on the supervisor pages, in Chromium against a real `gemba serve`: an admin uploads a
CSV file with a bad row, watches it checked, reads the refusal (row, column, why), downloads the refused rows,
applies the good ones and finds the stock received, with "opening balance" in the activity log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.importing.table import read_table
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.server import USERS


def test_an_admin_imports_opening_stock_skipping_a_bad_row(
    browser: Any, server: Any, artifacts: Path, tmp_path: Path, uid: str
) -> None:
    serial, lot, screws = f"IMP-{uid}", f"IL-{uid}", f"SCREW-{uid}"
    # untracked stock of its own: the other tests' SCREW-M3 stays in one place (a second row makes the phone ask which)
    server.api("POST", "/api/parts", json={"part_number": screws, "tracking": "untracked", "description": "Screw M3x8"})
    shelf = f"STORES/IMPORT-{uid}/BIN-1"  # a path: its parents are made by a locations import first
    locations = tmp_path / "locations.csv"
    locations.write_text(f"code;name\n{shelf};Import bin\n", encoding="utf-8")
    stock = tmp_path / "opening-stock.csv"
    stock.write_text(
        "part,location,quantity,serial,lot,unit_cost\n"
        f"{screws},{shelf},250,,,0.04\n"
        f"SEAL-KIT,{shelf},12,,{lot},2.50\n"
        f"PUMP-A,{shelf},1,{serial},,700\n"
        f"MOTOR-5,{shelf},3,,,\n",  # a serialized unit is 1
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 412, "height": 915}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/supervisor/login?next=/supervisor/import")
    page.fill("#username", "admin")
    page.fill("#password", USERS["admin"][1])
    page.click("button.primary")
    page.wait_for_url("**/supervisor/import")

    for kind, path in (("locations", locations), ("stock", stock)):
        page.goto(f"{server.url}/supervisor/import")
        page.select_option("#kind", kind)
        page.set_input_files("#file", str(path))
        page.click("button.primary:has-text('Check the file')")
        page.wait_for_selector("[data-state='done']", timeout=60_000)  # the page refreshes itself until then
        if kind == "locations":
            page.click("#apply")
            page.wait_for_selector("[data-state='done']:has-text('Imported.')", timeout=60_000)

    assert page.inner_text("[data-count='created']") == "3" and page.inner_text("[data-count='refused']") == "1"
    refusal = page.inner_text("tr[data-row='5']")
    assert "MOTOR-5" in refusal and "quantity" in refusal and "a serialized unit has quantity 1, not 3" in refusal
    assert server.inventory(serial=serial) == []  # checked, not applied
    page.screenshot(path=str(artifacts / "30-import-checked.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#refused-csv")
    refused = read_table(Path(download.value.path()).read_bytes())
    assert [(r.cells["part"], r.cells["error"]) for r in refused.records] == [
        ("MOTOR-5", "row 5: quantity: a serialized unit has quantity 1, not 3")]

    page.click("#apply:has-text('Apply the 3 good rows, skip the 1 refused')")
    page.wait_for_selector("[data-state='done']:has-text('Imported.')", timeout=60_000)
    page.screenshot(path=str(artifacts / "31-import-applied.png"), full_page=True)
    assert [(i["location"], i["status"]) for i in server.inventory(serial=serial)] == [(shelf, "available")]
    assert server.inventory(part="SEAL-KIT", lot=lot)[0]["quantity"] == 12
    assert server.inventory(part=screws, location=shelf)[0]["quantity"] == 250
    log = server.api("GET", "/api/activity", params={"location": shelf, "op_type": "receive"})["items"]
    assert {(item["part"], item["reason"], item["actor"]) for item in log} == {
        (screws, "opening balance", "admin"), ("SEAL-KIT", "opening balance", "admin"),
        ("PUMP-A", "opening balance", "admin")}
    context.close()
