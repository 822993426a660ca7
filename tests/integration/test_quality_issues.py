"""Quality issues, as an inspector and a quality engineer check them: opened on a unit, a lot or a row (from
the API and from an offline phone, isolating what they name in the same op), listed and filtered, in unit and
lot histories; closed by a supervisor with each disposition."""

from __future__ import annotations

from typing import Any

import pytest

from server.db import Database
from tests.conftest import Api
from tests.integration.ops_support import ledger_sums, on_hand, refused
from tests.integration.sync_helpers import Phone, by_seq


@pytest.fixture
async def plant(api: Api) -> Api:
    await api.part("PUMP", "serial")
    await api.part("RESIN", "lot", unit="kg")
    await api.part("BOLT", "untracked", unit="pcs")
    for code in ("STORES", "LINE-1"):
        await api.location(code)
    for serial in ("P-1", "P-2"):
        await api.ok("receive", part="PUMP", tracking="serial", serial=serial, location="STORES", quantity=1)
    await api.ok("receive", part="RESIN", tracking="lot", lot="R-7", location="STORES", quantity="12.5")
    await api.ok("move", part="RESIN", tracking="lot", lot="R-7", from_location="STORES", to_location="LINE-1",
                 quantity=2)
    await api.ok("receive", part="BOLT", tracking="untracked", location="LINE-1", quantity=40)
    return api


async def open_issue(api: Api, status: int = 201, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/issues", {"title": "Cracked housing", **body})
    assert response.status_code == status, response.text
    return response.json()


async def close(api: Api, number: str, disposition: str, status: int = 200) -> Any:
    response = await api.post(f"/api/issues/{number}/close", {"disposition": disposition, "note": "MRB 12"},
                              "supervisor")
    assert response.status_code == status, response.text
    return response.json()


def statuses(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(i["location"], i["lot"], i["serial"], i["quantity"], i["status"]) for i in items}


async def test_an_issue_on_a_unit_isolates_it_and_use_as_is_releases_it(plant: Api) -> None:
    issue = await open_issue(plant, serial="P-1", description="seen at receiving", isolate=True)
    assert (issue["number"], issue["status"], issue["part"], issue["serial"], issue["opened_by"]) == (
        "ISSUE-0001", "open", "PUMP", "P-1", "operator")
    assert issue["isolated"] == [{"location": "STORES", "serial": "P-1", "quantity": 1}]
    assert [i["status"] for i in await plant.items(serial="P-1")] == ["unavailable"]
    assert (await plant.get(f"/api/issues/{issue['id']}")).json()["number"] == "ISSUE-0001"  # by its id too
    history = (await plant.get("/api/units/P-1/history")).json()
    assert [(i["number"], i["status"]) for i in history["issues"]] == [("ISSUE-0001", "open")]
    assert history["events"][-1]["action"] == "Isolate" and "ISSUE-0001" in history["events"][-1]["reason"]

    refused(await plant.post("/api/issues/ISSUE-0001/close", {"disposition": "scrap", "note": "x"}), 403, "forbidden")
    closed = await close(plant, "ISSUE-0001", "use_as_is")
    assert (closed["status"], closed["disposition"], closed["note"], closed["closed_by"]) == (
        "closed", "use_as_is", "MRB 12", "supervisor")
    assert [i["status"] for i in await plant.items(serial="P-1")] == ["available"]
    refused(await plant.post("/api/issues/ISSUE-0001/close", {"disposition": "scrap", "note": "again"}, "supervisor"),
            409, "issue_not_open", "number")
    after = (await plant.get("/api/units/P-1/history")).json()["issues"]
    assert [(i["status"], i["disposition"]) for i in after] == [("closed", "use_as_is")]


async def test_a_lot_isolated_everywhere_then_scrapped(plant: Api, db: Database) -> None:
    issue = await open_issue(plant, part="RESIN", lot="R-7", isolate=True)
    assert {(i["location"], i["quantity"]) for i in issue["isolated"]} == {("STORES", "10.5"), ("LINE-1", 2)}
    assert statuses(await plant.items(part="RESIN")) == {
        ("STORES", "R-7", None, "10.5", "unavailable"), ("LINE-1", "R-7", None, 2, "unavailable")}
    lot = (await plant.get("/api/lots/RESIN/R-7/history")).json()
    assert [i["number"] for i in lot["issues"]] == [issue["number"]]
    await close(plant, issue["number"], "scrap")
    assert statuses(await plant.items(part="RESIN", status="scrapped")) == {
        ("STORES", "R-7", None, "10.5", "scrapped"), ("LINE-1", "R-7", None, 2, "scrapped")}
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)  # scrapping left on-hand stock
    usage = (await plant.get("/api/usage", "supervisor", params={"part": "RESIN"})).json()["items"]
    assert sorted((str(u["quantity"]), u["reference"]) for u in usage) == [
        ("10.5", issue["number"]), ("2", issue["number"])]  # scrapped stock leaves its cost layers too


async def test_a_row_returned_to_the_supplier_leaves_stock(plant: Api, db: Database) -> None:
    await plant.ok("receive", part="BOLT", tracking="untracked", location="STORES", quantity=7)
    issue = await open_issue(plant, part="BOLT", location="LINE-1", isolate=True)
    assert [(i["location"], i["quantity"]) for i in issue["isolated"]] == [("LINE-1", 40)]
    await plant.ok("move", part="BOLT", tracking="untracked", from_location="LINE-1", to_location="STORES",
                   quantity=15, isolated=True)  # some went to the cage meanwhile: the issue returns what is left
    await close(plant, issue["number"], "return_to_supplier")
    assert statuses(await plant.items(part="BOLT")) == {
        ("STORES", None, None, 15, "unavailable"), ("STORES", None, None, 7, "available")}
    async with db.read() as session:
        assert await ledger_sums(session) == await on_hand(session)
    usage = (await plant.get("/api/usage", "supervisor", params={"part": "BOLT"})).json()["items"]
    assert [(u["quantity"], u["reference"]) for u in usage] == [(25, issue["number"])]
    returned = (await plant.get("/api/activity", "supervisor", params={"part": "BOLT"})).json()["items"]
    assert ("Remove", "LINE-1", "SUPPLIER-RETURN", 25) in {
        (m.get("action"), m.get("from_location"), m.get("to_location"), m.get("quantity")) for m in returned}

    unit = await open_issue(plant, serial="P-2", title="Wrong revision")  # not isolated: acts on it as it is
    await close(plant, unit["number"], "return_to_supplier")
    assert statuses(await plant.items(serial="P-2", include_empty=True)) == {("SUPPLIER-RETURN", None, "P-2", 0, "removed")}


async def test_rework_releases_and_refusals_name_the_field(plant: Api) -> None:
    issue = await open_issue(plant, part="BOLT", location="LINE-1", isolate=True)
    await close(plant, issue["number"], "rework")
    assert statuses(await plant.items(part="BOLT")) == {("LINE-1", None, None, 40, "available")}
    refused(await plant.post("/api/issues", {"title": "x", "part": "BOLT"}), 422, "invalid", "lot")
    refused(await plant.post("/api/issues", {"title": "x", "serial": "P-1", "part": "PUMP"}), 422, "invalid", "part")
    refused(await plant.post("/api/issues", {"title": "x", "serial": "NOPE"}), 404, "unknown_reference", "serial")
    refused(await plant.post("/api/issues", {"title": "", "serial": "P-1"}), 422, "invalid")
    refused(await plant.post("/api/issues/ISSUE-0001/close", {"disposition": "burn", "note": "x"}, "supervisor"),
            422, "invalid")
    refused(await plant.get("/api/issues?status=pending"), 422, "invalid", "status")
    refused(await plant.get("/api/issues/ISSUE-9999"), 404, "unknown_reference", "number")


async def test_an_offline_phone_opens_an_issue_and_the_list_filters(plant: Api) -> None:
    phone = await Phone.sign_in(plant, "operator")
    report = phone.op("open_issue", title="Leaking seal", serial="P-2", isolate=True)
    other = phone.op("open_issue", title="Label smudged", part="RESIN", lot="R-7")
    results = by_seq(await phone.push(report, other))
    assert [results[n]["status"] for n in (1, 2)] == ["applied", "applied"]
    assert results[1]["result"]["issue"] == "ISSUE-0001" and results[1]["result"]["isolated"][0]["serial"] == "P-2"
    assert [i["status"] for i in await plant.items(serial="P-2")] == ["unavailable"]
    again = by_seq(await phone.push(report))[1]  # a replay opens nothing new
    assert again["status"] == "duplicate"

    listed = (await plant.get("/api/issues?status=open")).json()
    assert [i["number"] for i in listed["items"]] == ["ISSUE-0002", "ISSUE-0001"] and listed["total"] == 2
    assert [i["title"] for i in (await plant.get("/api/issues?serial=P-2")).json()["items"]] == ["Leaking seal"]
    assert [i["title"] for i in (await plant.get("/api/issues?part=RESIN&lot=R-7")).json()["items"]] == ["Label smudged"]
    assert (await plant.get("/api/issues?status=closed")).json()["items"] == []
