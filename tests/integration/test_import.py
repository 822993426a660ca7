"""Importing parts, locations, suppliers and opening stock into a real database (SQLite, and PostgreSQL when
configured): a dry run reports and changes nothing, a real run is all or nothing, --skip-bad-rows applies the
good rows and gives the bad ones back with their errors, a re-import updates instead of duplicating (and
receives nothing twice), opening stock goes through the op path (ledger, activity log, op records), paths make
their parents, and what only the database can refuse is refused per row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.importing.parts import KIND as parts_kind
from server.importing.stock import KIND as stock_kind
from server.importing.report import Report, refused_csv
from server.importing.service import Options, run_import
from server.importing.table import read_table
from server.models import Counter, InventoryRow, LedgerEntry, Location, MasterChange, Movement, OpRecord, Part, Role, Supplier
from server.actor import Actor
from tests.conftest import Api

ADMIN = Actor("admin", Role.admin)
TABLES = (Part, Location, Supplier, InventoryRow, LedgerEntry, Movement, OpRecord, MasterChange)
PARTS = "part_number,tracking,description,serial_pattern\nPUMP,serial,Pump,PMP-{seq:04}\nSEAL,lot,Seal kit,\nSCREW,untracked,Screw M3,\n"
LOCATIONS = "code,name,kind\nPLANT/STORES/SHELF-1,Shelf 1,\nPLANT/DOCK,Dock,incoming\n"


async def imported(db: Database, kind: str, text: str, **options: Any) -> Report:
    return await run_import(db, kind, text.encode(), ADMIN, Options(**options))


def statuses(report: Report) -> list[tuple[int, str]]:
    return [(outcome.row, outcome.status) for outcome in report.rows]


def refusals(report: Report) -> list[tuple[int, str, str]]:
    return [(outcome.row, r.column, r.message) for outcome in report.refused for r in outcome.refusals]


async def counts(db: Database) -> dict[str, Any]:
    """How many rows each table holds, and every counter (the change clock, serial and lot sequences)."""
    async with db.read() as session:
        found: dict[str, Any] = {model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                                 for model in TABLES}
        found["counters"] = dict((await session.execute(select(Counter.key, Counter.value))).all())
    return found


async def on_hand(db: Database) -> set[tuple[Any, ...]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Part.part_number, Location.code, InventoryRow.serial, InventoryRow.lot, InventoryRow.quantity)
            .join(Part, Part.id == InventoryRow.part_id).join(Location, Location.id == InventoryRow.location_id)
        )
        return set(rows.all())


async def catalogue(db: Database) -> None:
    assert (await imported(db, "parts", PARTS)).applied
    assert (await imported(db, "locations", LOCATIONS)).applied


async def test_a_dry_run_reports_every_row_and_changes_nothing(db: Database) -> None:
    before = await counts(db)
    report = await imported(db, "parts", PARTS + "BAD,weird,,\n", dry_run=True)
    assert statuses(report) == [(2, "created"), (3, "created"), (4, "created"), (5, "refused")]
    assert not report.applied and await counts(db) == before
    await catalogue(db)
    before = await counts(db)
    stock = "part,location,quantity,serial,lot\nPUMP,PLANT/DOCK,1,,\nSEAL,PLANT/DOCK,5,,L-1\nSCREW,PLANT/DOCK,100,,\n"
    report = await imported(db, "stock", stock, dry_run=True)
    assert [(o.status, o.note) for o in report.rows] == [
        ("created", "received 1 (serial PMP-0001)"), ("created", "received 5"), ("created", "received 100")]
    assert await counts(db) == before  # the serial's counter too
    assert (await imported(db, "stock", stock)).rows[0].note == "received 1 (serial PMP-0001)"  # as the dry run said


async def test_a_real_run_is_all_or_nothing(db: Database, api: Api) -> None:
    await catalogue(db)
    await api.ok("receive", part="PUMP", tracking="serial", location="PLANT/DOCK", quantity=1, serial="P-1")
    before = await counts(db)
    report = await imported(db, "parts", "part_number,tracking,description\nNEW-1,lot,New\nPUMP,untracked,\nSEAL,,Seals\n")
    assert statuses(report) == [(2, "created"), (3, "refused"), (4, "updated")]
    assert refusals(report) == [(3, "tracking", "Cannot switch PUMP from serial to untracked: 1 serialized unit of this part "
                                               "exists — 1 on hand: scrap it, or adjust it to zero (a supervisor's adjust)")]
    assert not report.applied and await counts(db) == before


async def test_skip_bad_rows_applies_the_good_and_gives_the_bad_back_with_their_errors(db: Database, api: Api) -> None:
    await catalogue(db)
    await api.location("CAGE")
    await api.patch("/api/locations/CAGE", {"count_locked": True})
    await api.ok("receive", part="PUMP", tracking="serial", location="PLANT/DOCK", quantity=1, serial="P-1")
    text = (
        "part;location;quantity;serial;lot;unit_cost;supplier\n"
        "SCREW;PLANT/STORES/SHELF-1;100;;;0,05;Acme\n"     # 2 good
        "NOPE;PLANT/DOCK;1;;;;\n"                         # 3 no such part
        "PUMP;PLANT/DOCK;1;P-1;;;\n"                      # 4 a serial the database has
        "PUMP;PLANT/DOCK;1;P-2;;700;\n"                   # 5 good
        "PUMP;PLANT/DOCK;1;P-2;;700;\n"                   # 6 the same serial again
        "PUMP;PLANT/DOCK;2;;;;\n"                         # 7 a serialized unit is 1
        "SEAL;PLANT/DOCK;5;;;;\n"                         # 8 no lot and no lot pattern
        "SCREW;CAGE;1;;;;\n"                              # 9 closed for a count
        "SCREW;NOWHERE;1;;;;\n"                           # 10 no such location
        "SCREW;PLANT/DOCK;1,5;;;;\n"                      # 11 decimals
    )
    report = await imported(db, "stock", text, skip_bad_rows=True)
    assert report.applied
    assert statuses(report) == [(2, "created"), (3, "refused"), (4, "refused"), (5, "created"), (6, "refused"),
                                (7, "refused"), (8, "refused"), (9, "refused"), (10, "refused"), (11, "refused")]
    why = {row: (column, message) for row, column, message in refusals(report)}
    assert why[3] == ("part", "No part NOPE: import it first (gemba import parts)")
    assert why[4][0] == "serial" and why[4][1].startswith("Serial P-1 already exists (received ")
    assert why[6] == ("serial", "P-2 is on row 5 already: a serial is one unit")
    assert why[7] == ("quantity", "a serialized unit has quantity 1, not 2")
    assert why[8] == ("lot", "SEAL has no lot pattern: give the lot")
    assert why[9] == ("location", "CAGE is closed for a cycle count")
    assert why[10] == ("location", "No location NOWHERE")
    assert why[11] == ("quantity", "1.5 ea: ea is counted in whole numbers")  # SCREW's unit
    assert await on_hand(db) >= {("SCREW", "PLANT/STORES/SHELF-1", None, None, 100), ("PUMP", "PLANT/DOCK", "P-2", None, 1)}
    screws = await api.items(part="SCREW")
    assert [(i["supplier"], i["unit_cost"]) for i in screws] == [("Acme", "0.05")]  # money is a decimal string

    bad = read_table(refused_csv(text.encode(), report))
    assert bad.header == ["part", "location", "quantity", "serial", "lot", "unit_cost", "supplier", "error"]
    assert [r.cells["quantity"] for r in bad.records] == ["1", "1", "1", "2", "5", "1", "1", "1,5"]
    assert bad.records[0].cells["error"] == "row 3: part: No part NOPE: import it first (gemba import parts)"
    fixed = refused_csv(text.encode(), report).decode().replace("NOPE", "SCREW").replace("1,5", "2")
    again = await imported(db, "stock", fixed, skip_bad_rows=True)  # the error column is ignored
    assert [o.status for o in again.rows] == ["created", "refused", "unchanged", "refused", "refused", "refused",
                                               "refused", "created"]
    assert again.rows[2].note.startswith("imported already")  # P-2 at the dock is the receipt of row 5


async def test_a_reimport_updates_and_receives_nothing_twice(db: Database, api: Api) -> None:
    await catalogue(db)
    assert (await imported(db, "suppliers", "name,code\nAcme,\n")).applied
    stock = "part,location,quantity,lot,supplier\nSEAL,PLANT/DOCK,5,L-1,acme\nSEAL,PLANT/DOCK,5,L-1,acme\n"
    assert statuses(await imported(db, "stock", stock)) == [(2, "created"), (3, "created")]
    before = await counts(db)

    parts = await imported(db, "parts", "part_number,description,unit\nPUMP,Pump 5 kW,\nSEAL,Seal kit,\n")
    assert [(o.status, o.note) for o in parts.rows] == [("updated", "description: Pump → Pump 5 kW"), ("unchanged", "")]
    locations = await imported(db, "locations", "code,name,available,parent\nPLANT/DOCK,Dock 1,no,\nPLANT/STORES,,,\n")
    assert [(o.status, o.note) for o in locations.rows] == [("updated", "name, available"), ("unchanged", "")]
    suppliers = await imported(db, "suppliers", "name,code\nACME,AC-1\n")
    assert [(o.status, o.note) for o in suppliers.rows] == [("updated", "code: (none) → AC-1")]
    again = await imported(db, "stock", stock)
    assert [o.status for o in again.rows] == ["unchanged", "unchanged"]
    assert again.rows[0].note.startswith("imported already, on ") and again.rows[0].note.endswith(" by admin")

    after = await counts(db)
    assert {name: after[name] for name in ("parts", "locations", "suppliers", "inventory", "ledger", "movements", "ops")} == {
        name: before[name] for name in ("parts", "locations", "suppliers", "inventory", "ledger", "movements", "ops")}
    assert after["master_changes"] == before["master_changes"] + 2  # the part's edit and the location's
    assert (await api.get("/api/parts/PUMP")).json()["description"] == "Pump 5 kW"
    dock = next(loc for loc in (await api.get("/api/locations")).json() if loc["code"] == "PLANT/DOCK")
    assert (dock["name"], dock["available"], dock["parent"]) == ("Dock 1", False, "PLANT")
    assert await on_hand(db) == {("SEAL", "PLANT/DOCK", None, "L-1", 10)}


async def test_opening_stock_is_received_as_a_receive_op_with_its_trail(db: Database, api: Api) -> None:
    await catalogue(db)
    report = await imported(db, "stock", "part,location,quantity,serial,unit_cost,package_ref\n"
                                         "PUMP,PLANT/STORES/SHELF-1,1,,650.5,DN-77\nSCREW,PLANT/STORES/SHELF-1,40,,,\n")
    assert report.applied
    activity = (await api.get("/api/activity", "supervisor", params={"op_type": "receive"})).json()["items"]
    assert sorted((m["op_type"], m["action"], m["part"], m["quantity"], m["reason"], m["actor"]) for m in activity) == [
        ("receive", "Add", "PUMP", 1, "opening balance", "admin"), ("receive", "Add", "SCREW", 40, "opening balance", "admin")]
    pump = (await api.items(part="PUMP"))[0]
    assert (pump["serial"], pump["unit_cost"], pump["package_ref"], pump["status"]) == ("PMP-0001", "650.50", "DN-77", "available")
    async with db.read() as session:
        ledger = (await session.execute(select(LedgerEntry.delta, LedgerEntry.reason))).all()
        records = (await session.execute(select(OpRecord.type, OpRecord.status, OpRecord.actor, OpRecord.body))).all()
        assert await session.scalar(select(func.min(InventoryRow.version))) > 0  # phones pull it
    assert sorted(ledger) == [(1, "opening balance"), (40, "opening balance")]
    assert sorted((t, s, a, b["args"]["reason"]) for t, s, a, b in records) == [
        ("receive", "applied", "admin", "opening balance")] * 2


async def test_paths_make_their_parents_applied_parents_first(db: Database, api: Api) -> None:
    text = "code,name,parent\nMRB,Quarantine,PLANT-1\nPLANT-1/STORES/CAGE-A/SHELF-2,Shelf 2,\nPLANT-1/STORES,Stores,\n"
    report = await imported(db, "locations", text)
    assert [(o.status, o.note) for o in report.rows] == [
        ("created", ""), ("created", "with PLANT-1/STORES/CAGE-A"), ("created", "with PLANT-1")]
    tree = {loc["code"]: (loc["parent"], loc["name"]) for loc in (await api.get("/api/locations")).json()}
    assert tree == {
        "PLANT-1": (None, ""), "PLANT-1/STORES": ("PLANT-1", "Stores"), "PLANT-1/STORES/CAGE-A": ("PLANT-1/STORES", ""),
        "PLANT-1/STORES/CAGE-A/SHELF-2": ("PLANT-1/STORES/CAGE-A", "Shelf 2"), "MRB": ("PLANT-1", "Quarantine"),
    }
    changes = (await api.get("/api/activity", "supervisor", params={"op_type": "location_create", "limit": 10})).json()
    assert changes["total"] == 5


async def test_what_the_database_refuses_is_refused_per_row(db: Database, api: Api) -> None:
    await catalogue(db)
    await api.location("TOP")
    await api.location("TOP-CHILD", parent="TOP")
    await imported(db, "suppliers", "name,code\nAcme,AC\n")
    parts = await imported(db, "parts", "part_number,description\nNEW-2,no tracking given\n", skip_bad_rows=True)
    assert refusals(parts) == [(2, "tracking", "required for a new part: serial, lot or untracked")]
    locations = await imported(db, "locations", "code,parent\nTOP,TOP-CHILD\nX/Y,ELSEWHERE\nA,B\nB,A\nSELF,SELF\n",
                               skip_bad_rows=True)
    assert refusals(locations) == [
        (2, "parent", "TOP-CHILD is inside TOP: that would make a loop"),
        (3, "parent", "No location ELSEWHERE, neither in the database nor in this file"),
        (4, "parent", "the parents in this file make a loop: rows 4, 5"),
        (5, "parent", "the parents in this file make a loop: rows 4, 5"),
        (6, "parent", "a location cannot be its own parent"),
    ]
    suppliers = await imported(db, "suppliers", "name,code\nBolt Ltd,AC\n", skip_bad_rows=True)
    assert refusals(suppliers) == [(2, "code", "AC is the code of supplier Acme already")]


INVENTREE_PARTS = (
    "Part ID,Part Name,Part Description,IPN,Revision,Units,Trackable\n"
    "1,Pump,Pump assembly,PMP-100,B,,True\n2,Screw M3,Screw M3x8,,,pcs,False\n"
)
INVENTREE_LOCATIONS = (
    "Location ID,Location Name,Description,Parent ID,Parent Name,Location Path\n"
    "1,Factory,,,,Factory\n2,Stores,,1,Factory,Factory/Stores\n3,Shelf 2,,2,Stores,Factory/Stores/Shelf 2\n"
    "4,Shelf 2,,5,Lab,Lab/Shelf 2\n6,Dock,,1,Factory,Factory/Dock\n"
)
INVENTREE_STOCK = (
    "Stock Item ID,Part ID,Part Name,Quantity,Serial,Batch,Status Code,Location ID,Location Name,Supplier Name,purchase_price\n"
    "11,1,PMP-100 | Pump | B,1.00000,SN-1,,10,6,Dock,Acme,712.5\n"
    "12,2,Screw M3,250.00000,,,10,6,Dock,,0.02\n"
    "13,2,Screw M3,20.00000,,,10,3,Shelf 2,,\n"
    "14,2,Screw M3,20.00000,,,10,9,Attic,,\n"
)


async def test_an_inventree_site_moves_over(db: Database, api: Api) -> None:
    assert (await imported(db, "parts", INVENTREE_PARTS, preset="inventree")).applied
    assert (await imported(db, "locations", INVENTREE_LOCATIONS, preset="inventree")).applied
    report = await imported(db, "stock", INVENTREE_STOCK, preset="inventree", skip_bad_rows=True)
    assert refusals(report) == [
        (4, "Location Name", "Several locations named Shelf 2: Factory/Stores/Shelf 2, Lab/Shelf 2"),
        (5, "Location Name", "No location named Attic: import the locations first"),
    ]
    assert await on_hand(db) == {("PMP-100", "Factory/Dock", "SN-1", None, 1), ("Screw M3", "Factory/Dock", None, None, 250)}
    pump = (await api.get("/api/parts/PMP-100")).json()
    assert (pump["tracking"], pump["revision"], pump["description"]) == ("serial", "B", "Pump assembly")
    assert (await api.get("/api/parts/Screw M3")).json()["unit"] == "pcs"


async def test_parts_bring_their_precision_and_packs(db: Database, api: Api) -> None:
    text = ("part_number;tracking;unit;quantity_places;packs\n"
            "CABLE;untracked;m;2;drum=200,5|coil=50\nBOLT;untracked;pcs;;box=100\n")
    report = await imported(db, "parts", text)
    assert refusals(report) == [] and statuses(report) == [(2, "created"), (3, "created")]
    cable = (await api.get("/api/parts/CABLE")).json()
    assert (cable["unit"], cable["quantity_places"]) == ("m", 2)
    assert [(p["name"], str(p["quantity"])) for p in cable["packs"]] == [("drum", "200.5"), ("coil", "50")]

    again = await imported(db, "parts", text)
    assert [o.status for o in again.rows] == ["unchanged", "unchanged"]
    changed = await imported(db, "parts", "part_number,packs\nBOLT,box=100|crate=2400\n")
    assert [(o.status, o.note) for o in changed.rows] == [("updated", "packs: box=100 → box=100|crate=2400")]

    bad = await imported(db, "parts", "part_number,tracking,quantity_places,packs\n"
                                      "NUT,untracked,9,\nWASHER,untracked,,bag\nRIVET,untracked,,bag=10|BAG=20\n")
    assert not bad.applied
    assert [(row, column) for row, column, _ in refusals(bad)] == [(2, "quantity_places"), (3, "packs"), (4, "packs")]
    assert "write NAME=SIZE" in refusals(bad)[1][2] and "named twice" in refusals(bad)[2][2]
    assert (await api.get("/api/parts/NUT")).status_code == 404


async def test_parts_export_their_packs_as_the_import_reads_them(db: Database) -> None:
    assert (await imported(db, "parts", "part_number,tracking,unit,packs\nCABLE,untracked,m,drum=200.5|coil=50\n")).applied
    async with db.read() as session:
        rows = [row async for row in parts_kind.export(session)]
    header = list(parts_kind.columns)
    assert dict(zip(header, rows[0]))["packs"] == "drum=200.5|coil=50"


async def test_opening_stock_keeps_its_expiry_and_an_expired_lot_is_unavailable(db: Database, api: Api) -> None:
    await catalogue(db)
    report = await imported(db, "stock", "part,location,quantity,lot,expiry\n"
                                         "SEAL,PLANT/DOCK,5,L-OLD,2020-01-31\nSEAL,PLANT/DOCK,7,L-NEW,2099-12-31\n")
    assert report.applied, refusals(report)
    seals = {row["lot"]: (row["quantity"], row["status"], row.get("expiry")) for row in await api.items(part="SEAL")}
    assert seals == {"L-OLD": (5, "unavailable", "2020-01-31"), "L-NEW": (7, "available", "2099-12-31")}
    async with db.read() as session:
        rows = [row async for row in stock_kind.export(session)]
    assert sorted((row[4], row[8]) for row in rows) == [("L-NEW", "2099-12-31"), ("L-OLD", "2020-01-31")]
    untracked = await imported(db, "stock", "part,location,quantity,expiry\nSCREW,PLANT/DOCK,5,2027-01-31\n")
    assert not untracked.applied and [column for _, column, _ in refusals(untracked)] == ["expiry"]
