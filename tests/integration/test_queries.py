"""The read side: inventory lists and their filters, the CSV export, unit and lot histories, the activity log.

One stockroom is built per engine through POST /api/ops, then every test here only reads it:

    PLANT ─┬─ PLANT/STORES ─┬─ PLANT/STORES/SHELF-1     OTHER (a second site)
           │                └─ PLANT/STORES/SHELF-2
           ├─ PLANT/LINE    (lineside)
           └─ PLANT/MRB     (quarantine, unavailable)
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.queries import InventoryFilter, InventoryQueries
from server.schema import METADATA
from server.settings import Settings
from tests.conftest import PASSWORD, Api
from tests.dbs import ENGINES, fresh_database

# What the stockroom holds: (part, serial, lot, location, quantity, status, installed_in).
EXPECTED = {
    ("CTRL", "CTRL-0001", None, "PLANT/STORES/SHELF-1", 1, "available", None),
    ("CTRL", "CTRL-0002", None, "PLANT/LINE", 1, "available", None),
    ("CTRL", "CTRL-0003", None, "PLANT/MRB", 1, "unavailable", None),
    ("PCB", "PCB-A", None, "PLANT/LINE", 1, "installed", "CTRL-0002"),
    ("PCB", "PCB-B", None, "PLANT/STORES/SHELF-1", 1, "scrapped", None),
    ("PCB", "PCB-C", None, "PLANT/STORES/SHELF-2", 1, "unavailable", None),
    ("CAP", None, "L1", "PLANT/STORES/SHELF-1", 70, "available", None),
    ("CAP", None, "L1", "PLANT/LINE", 30, "available", None),
    ("CAP", None, "L2", "PLANT/STORES/SHELF-2", 50, "available", None),
    ("SCREW", None, None, "OTHER", 500, "available", None),
}
EMPTIED = ("SCREW", None, None, "PLANT/STORES/SHELF-2", 0, "unavailable", None)


def key(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["part"], item["serial"], item["lot"], item["location"], item["quantity"], item["status"],
            item["installed_in"])


@dataclass
class Stock:
    api: Api
    db: Database
    parts: dict[str, str] = field(default_factory=dict)  # part number → id
    locations: dict[str, str] = field(default_factory=dict)  # code → id
    ops: dict[str, str] = field(default_factory=dict)  # label → op_id

    async def op(self, label: str, op_type: str, role: str = "operator", **args: Any) -> None:
        op_id = str(uuid.uuid4())
        response = await self.api.op(op_type, role, op_id=op_id, **args)
        assert response.status_code == 201, response.text
        self.ops[label] = op_id


async def build(stock: Stock) -> None:
    api = stock.api
    for code, extra in [
        ("PLANT", {}), ("PLANT/STORES", {"parent": "PLANT"}), ("PLANT/STORES/SHELF-1", {"parent": "PLANT/STORES"}),
        ("PLANT/STORES/SHELF-2", {"parent": "PLANT/STORES"}), ("PLANT/LINE", {"parent": "PLANT", "kind": "lineside"}),
        ("PLANT/MRB", {"parent": "PLANT", "kind": "quarantine", "available": False}), ("OTHER", {}),
    ]:
        stock.locations[code] = (await api.location(code, **extra))["id"]
    for number, tracking, extra in [
        ("CTRL", "serial", {"serial_pattern": "CTRL-{seq:04}", "description": "Motor controller"}),
        ("PCB", "serial", {"description": "Main board"}),
        ("CAP", "lot", {"description": "Capacitor 100 uF", "unit": "pcs"}),
        ("SCREW", "untracked", {"description": "Screw M3 x 8"}),
    ]:
        stock.parts[number] = (await api.part(number, tracking, **extra))["id"]
    s1, s2, line = "PLANT/STORES/SHELF-1", "PLANT/STORES/SHELF-2", "PLANT/LINE"
    ctrl = {"part": "CTRL", "tracking": "serial"}
    pcb = {"part": "PCB", "tracking": "serial"}
    cap = {"part": "CAP", "tracking": "lot"}
    screw = {"part": "SCREW", "tracking": "untracked"}
    await stock.op("ctrl-1", "receive", **ctrl, location=s1, quantity=1, supplier="Acme", unit_cost=120.5)
    await stock.op("ctrl-2", "receive", **ctrl, location=s2, quantity=1)
    await stock.op("ctrl-3", "receive", **ctrl, location="PLANT/MRB", quantity=1)
    await stock.op("pcb-a", "receive", **pcb, serial="PCB-A", location=s1, quantity=1, package_ref="PKG-9")
    await stock.op("install-1", "install", **pcb, serial="PCB-A", parent_serial="CTRL-0001", quantity=1)
    await stock.op("uninstall-1", "uninstall", **pcb, serial="PCB-A", parent_serial="CTRL-0001", to_location=s2,
                   quantity=1)
    await stock.op("install-2", "install", **pcb, serial="PCB-A", parent_serial="CTRL-0002", quantity=1)
    await stock.op("move-ctrl-2", "move", **ctrl, serial="CTRL-0002", from_location=s2, to_location=line, quantity=1)
    await stock.op("pcb-b", "receive", **pcb, serial="PCB-B", location=s1, quantity=1)
    await stock.op("scrap-b", "scrap", "supervisor", **pcb, serial="PCB-B", location=s1, quantity=1, reason="cracked")
    await stock.op("pcb-c", "receive", **pcb, serial="PCB-C", location=s2, quantity=1)
    await stock.op("isolate-c", "isolate", **pcb, serial="PCB-C", location=s2, quantity=1, reason="ESD suspect")
    await stock.op("l1", "receive", **cap, lot="L1", location=s1, quantity=100, supplier="Mouser")
    await stock.op("l2", "receive", **cap, lot="L2", location=s2, quantity=50)
    await stock.op("move-l1", "move", **cap, lot="L1", from_location=s1, to_location=line, quantity=30)
    await stock.op("screws", "receive", **screw, location=s2, quantity=500)
    await stock.op("move-screws", "move", **screw, from_location=s2, to_location="OTHER", quantity=500)


@pytest.fixture(scope="module", params=ENGINES)
async def stock(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stock]:
    tmp: Path = tmp_path_factory.mktemp("queries")
    async with fresh_database(request.param, tmp) as url:
        db = Database(Settings(database_url=url, scrypt_log2_n=4))
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        auth = AuthService(db)
        tokens = {}
        for role in ("operator", "supervisor", "admin"):
            await auth.add_user(role, role, PASSWORD)
            tokens[role] = (await auth.issue(role, PASSWORD)).access_token
        transport = httpx.ASGITransport(app=create_app(db.settings, db))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            built = Stock(Api(client, tokens), db)
            await build(built)
            yield built
        await db.dispose()


async def listed(stock: Stock, **filters: Any) -> set[tuple[Any, ...]]:
    return {key(item) for item in await stock.api.items(**filters)}


def where(**match: Any) -> set[tuple[Any, ...]]:
    names = ["part", "serial", "lot", "location", "quantity", "status", "installed_in"]
    return {row for row in EXPECTED if all(row[names.index(k)] == v for k, v in match.items())}


def problem(response: httpx.Response, status: int, slug: str, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["type"], body.get("field")) == (f"/problems/{slug}", field), body


# ---- inventory list -----------------------------------------------------------------------------
async def test_the_list_shows_every_row_with_its_status_location_code_and_assembly(stock: Stock) -> None:
    assert await listed(stock) == EXPECTED
    assert await listed(stock, include_empty="true") == EXPECTED | {EMPTIED}
    items = {item["serial"] or f"{item['part']}/{item['lot']}@{item['location']}": item for item in await stock.api.items()}
    first = items["CTRL-0001"]
    assert (first["supplier"], first["unit_cost"], first["tracking"], first["unit"]) == ("Acme", "120.50", "serial", "ea")
    assert items["PCB-A"]["package_ref"] == "PKG-9"
    assert items["PCB-C"]["isolated"] is True and items["PCB-C"]["isolation_reason"] == "ESD suspect"
    lot = items["CAP/L1@PLANT/STORES/SHELF-1"]
    assert (lot["unit"], lot["supplier"], lot["tracking"]) == ("pcs", "Mouser", "lot")


async def test_filter_by_part_number_or_id_serial_and_lot(stock: Stock) -> None:
    assert await listed(stock, part="CTRL") == where(part="CTRL")
    assert await listed(stock, part=stock.parts["CAP"]) == where(part="CAP")
    assert await listed(stock, serial="CTRL-0003") == where(serial="CTRL-0003")
    assert await listed(stock, lot="L1") == where(lot="L1")
    assert await listed(stock, part="CAP", lot="L2", location="PLANT/STORES") == where(lot="L2")
    assert await listed(stock, part="NO-SUCH-PART") == set()
    assert await listed(stock, serial="NO-SUCH-SERIAL") == set()


async def test_a_location_includes_its_sub_locations(stock: Stock) -> None:
    stores = {row for row in EXPECTED if row[3].startswith("PLANT/STORES/")}
    assert len(stores) == 5
    assert await listed(stock, location="PLANT/STORES") == stores
    assert await listed(stock, location=stock.locations["PLANT/STORES"]) == stores
    assert await listed(stock, location="PLANT/STORES/SHELF-2") == where(location="PLANT/STORES/SHELF-2")
    assert await listed(stock, location="PLANT") == {row for row in EXPECTED if row[3] != "OTHER"}
    # An installed unit is where its assembly is.
    assert await listed(stock, location="PLANT/LINE", status="installed") == where(serial="PCB-A")
    assert await listed(stock, location="NOWHERE") == set()


@pytest.mark.parametrize("status", ["available", "unavailable", "installed", "scrapped", "wip", "kitted", "on_order"])
async def test_each_status_filter_lists_exactly_the_rows_of_that_status(stock: Stock, status: str) -> None:
    assert await listed(stock, status=status) == where(status=status)
    with_empty = await listed(stock, status=status, include_empty="true")
    assert with_empty == where(status=status) | ({EMPTIED} if status == "unavailable" else set())


async def test_q_searches_serials_lots_part_numbers_and_descriptions(stock: Stock) -> None:
    assert await listed(stock, q="ctrl-000") == where(part="CTRL")
    assert await listed(stock, q="pcb-c") == where(serial="PCB-C")
    assert await listed(stock, q="l2") == where(lot="L2")
    assert await listed(stock, q="MOTOR") == where(part="CTRL")
    assert await listed(stock, q="100 uF", location="PLANT/LINE") == where(part="CAP", location="PLANT/LINE")
    assert await listed(stock, q="%") == set()  # a literal percent sign, not a wildcard


async def test_pages_cover_the_list_once_in_a_stable_order(stock: Stock) -> None:
    full = (await stock.api.get("/api/inventory", params={"limit": 500})).json()
    assert (full["total"], full["limit"], full["offset"]) == (len(EXPECTED), 500, 0)
    seen = []
    for offset in range(0, len(EXPECTED) + 3, 3):
        page = (await stock.api.get("/api/inventory", params={"limit": 3, "offset": offset})).json()
        assert (page["total"], page["limit"], page["offset"]) == (len(EXPECTED), 3, offset)
        seen += [item["id"] for item in page["items"]]
    assert seen == [item["id"] for item in full["items"]]
    filtered = (await stock.api.get("/api/inventory", params={"status": "available", "limit": 2})).json()
    assert (filtered["total"], len(filtered["items"])) == (len(where(status="available")), 2)
    assert (await stock.api.get("/api/inventory")).json()["limit"] == 50


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"limit": "ten"}, "limit"), ({"offset": -1}, "offset"),
        ({"status": "lost"}, "status"), ({"include_empty": "perhaps"}, "include_empty"),
    ],
)
async def test_bad_query_parameters_are_invalid_naming_the_parameter(
    stock: Stock, params: dict[str, Any], field: str
) -> None:
    problem(await stock.api.get("/api/inventory", params=params), 422, "invalid", field)
    if field not in ("limit", "offset"):  # the export has every row: no paging
        problem(await stock.api.get("/api/inventory/export.csv", params=params), 422, "invalid", field)


# ---- CSV export ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "filters",
    [{}, {"location": "PLANT/STORES"}, {"status": "unavailable", "include_empty": "true"}, {"part": "CAP", "lot": "L1"},
     {"q": "pcb"}, {"serial": "NONE"}],
)
async def test_the_csv_export_has_the_same_rows_as_the_list(stock: Stock, filters: dict[str, str]) -> None:
    response = await stock.api.get("/api/inventory/export.csv", params=filters)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    listed_items = await stock.api.items(**filters)
    assert [row["id"] for row in rows] == [item["id"] for item in listed_items]
    for row, item in zip(rows, listed_items, strict=True):
        for column in ("part", "unit", "tracking", "location", "status"):
            assert row[column] == item[column]
        for column in ("serial", "lot", "installed_in", "supplier", "package_ref"):
            assert row[column] == (item[column] or "")
        assert int(row["quantity"]) == item["quantity"]
        assert (row["unit_cost"] or None) == item["unit_cost"]


async def test_the_export_streams_in_chunks_without_losing_or_repeating_a_row(stock: Stock) -> None:
    queries = InventoryQueries(stock.db)
    everything = InventoryFilter(include_empty=True)
    streamed = [row["id"] async for row in queries.stream(everything, chunk=2)]
    paged, total = await queries.page(everything, 500, 0)
    assert streamed == [row["id"] for row in paged]
    assert len(streamed) == total == len(EXPECTED) + 1


# ---- histories ----------------------------------------------------------------------------------
async def test_a_units_history_is_oldest_first_with_the_assemblies_it_went_into(stock: Stock) -> None:
    response = await stock.api.get("/api/units/PCB-A/history")
    assert response.status_code == 200, response.text
    history = response.json()
    assert key(history["unit"]) == ("PCB", "PCB-A", None, "PLANT/LINE", 1, "installed", "CTRL-0002")
    events = [(e["op_id"], e["action"], e["from_location"], e["to_location"], e["parent_serial"]) for e in history["events"]]
    assert events == [
        (stock.ops["pcb-a"], "Add", None, "PLANT/STORES/SHELF-1", None),
        (stock.ops["install-1"], "Assemble", "PLANT/STORES/SHELF-1", None, "CTRL-0001"),
        (stock.ops["uninstall-1"], "Disassemble", None, "PLANT/STORES/SHELF-2", "CTRL-0001"),
        (stock.ops["install-2"], "Assemble", "PLANT/STORES/SHELF-2", None, "CTRL-0002"),
    ]
    times = [datetime.fromisoformat(e["at"]) for e in history["events"]]
    assert times == sorted(times)
    first, second = history["assemblies"]
    assert first["parent_serial"] == "CTRL-0001" and first["removed_at"] is not None
    assert datetime.fromisoformat(first["installed_at"]) <= datetime.fromisoformat(first["removed_at"])
    assert second["parent_serial"] == "CTRL-0002" and second["removed_at"] is None
    assert history["components"] == []


async def test_an_assemblys_history_shows_what_went_into_it(stock: Stock) -> None:
    history = (await stock.api.get("/api/units/CTRL-0002/history")).json()
    assert key(history["unit"]) == ("CTRL", "CTRL-0002", None, "PLANT/LINE", 1, "available", None)
    assert [(e["action"], e["serial"]) for e in history["events"]] == [
        ("Add", "CTRL-0002"), ("Assemble", "PCB-A"), ("Move", "CTRL-0002"),
    ]
    assert [key(c) for c in history["components"]] == [("PCB", "PCB-A", None, "PLANT/LINE", 1, "installed", "CTRL-0002")]
    assert history["assemblies"] == []
    scrapped = (await stock.api.get("/api/units/PCB-B/history")).json()
    assert [(e["action"], e["actor"], e["reason"]) for e in scrapped["events"]] == [
        ("Add", "operator", None), ("Scrap", "supervisor", "cracked"),
    ]
    problem(await stock.api.get("/api/units/NOPE-1/history"), 404, "unknown-reference", "serial")


async def test_a_lots_history_has_its_rows_and_every_op_on_it(stock: Stock) -> None:
    for part in ("CAP", stock.parts["CAP"]):
        response = await stock.api.get(f"/api/lots/{part}/L1/history")
        assert response.status_code == 200, response.text
        history = response.json()
        assert (history["part"], history["lot"]) == ("CAP", "L1")
        assert {key(row) for row in history["rows"]} == where(lot="L1")
        assert [(e["op_id"], e["action"], e["quantity"]) for e in history["events"]] == [
            (stock.ops["l1"], "Add", 100), (stock.ops["move-l1"], "Move", 30),
        ]
    problem(await stock.api.get("/api/lots/CAP/L9/history"), 404, "unknown-reference", "lot")
    problem(await stock.api.get("/api/lots/NOPE/L1/history"), 404, "unknown-reference", "part")


# ---- activity -----------------------------------------------------------------------------------
async def activity(stock: Stock, **params: Any) -> list[dict[str, Any]]:
    response = await stock.api.get("/api/activity", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return body["items"]


async def test_the_activity_log_is_newest_first_and_filterable(stock: Stock) -> None:
    everything = await activity(stock)
    moved = [m for m in everything if m["changes"] is None]
    assert len(moved) == len(stock.ops)  # each op here writes one movement-log line
    assert [m["op_id"] for m in moved] == list(reversed(stock.ops.values()))
    created = everything[len(moved):]  # the parts and locations, made before any op
    assert {(m["op_type"], m["part"] or m["location"]) for m in created} == {
        *(("part_create", part) for part in stock.parts), *(("location_create", code) for code in stock.locations),
    }

    def ops_of(items: list[dict[str, Any]]) -> list[str]:
        label = {op_id: name for name, op_id in stock.ops.items()}
        return [label[m["op_id"]] for m in items if m["changes"] is None]

    assert ops_of(await activity(stock, serial="CTRL-0001")) == ["uninstall-1", "install-1", "ctrl-1"]
    assert ops_of(await activity(stock, lot="L1")) == ["move-l1", "l1"]
    assert ops_of(await activity(stock, part="SCREW")) == ["move-screws", "screws"]
    assert ops_of(await activity(stock, part=stock.parts["SCREW"])) == ["move-screws", "screws"]
    assert ops_of(await activity(stock, location="OTHER")) == ["move-screws"]
    assert set(ops_of(await activity(stock, location="PLANT/MRB"))) == {"ctrl-3"}
    assert len(ops_of(await activity(stock, location="PLANT"))) == len(stock.ops)  # sub-locations count
    assert ops_of(await activity(stock, actor="supervisor")) == ["scrap-b"]
    assert ops_of(await activity(stock, action="Isolate")) == ["isolate-c"]
    assert ops_of(await activity(stock, op_type="move")) == ["move-screws", "move-l1", "move-ctrl-2"]
    assert ops_of(await activity(stock, op_id=stock.ops["install-2"])) == ["install-2"]
    page = (await stock.api.get("/api/activity", params={"limit": 2, "offset": 1})).json()
    assert (page["total"], [m["op_id"] for m in page["items"]]) == (len(everything), [m["op_id"] for m in everything[1:3]])


async def test_the_activity_log_between_two_times(stock: Stock) -> None:
    everything = await activity(stock)
    times = [m["at"] for m in everything]
    pivot = times[5]  # the sixth newest
    newer = [m["id"] for m in everything if datetime.fromisoformat(m["at"]) >= datetime.fromisoformat(pivot)]
    assert [m["id"] for m in await activity(stock, since=pivot)] == newer
    older = [m["id"] for m in everything if datetime.fromisoformat(m["at"]) < datetime.fromisoformat(pivot)]
    assert [m["id"] for m in await activity(stock, until=pivot)] == older
    # A time without an offset is UTC.
    naive = datetime.fromisoformat(pivot).replace(tzinfo=None).isoformat()
    assert [m["id"] for m in await activity(stock, since=naive)] == newer
    assert await activity(stock, since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"op_id": "not-a-uuid"}, "op_id"), ({"since": "yesterday"}, "since"), ({"until": "2026-13-01T00:00:00Z"}, "until"),
     ({"limit": 0}, "limit")],
)
async def test_bad_activity_filters_are_invalid(stock: Stock, params: dict[str, Any], field: str) -> None:
    problem(await stock.api.get("/api/activity", params=params), 422, "invalid", field)
