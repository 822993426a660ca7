"""Demo data: a small electronics assembly shop, loaded through the same operations operators use,
so the ledger and the activity log are real; with two open purchase orders to DigiKey (serialized power
supplies with their serials, one of them received against its line; a reel lot of capacitors) and min/max
constraints, some below their minimum; production: the controller's BOM, an open run of two controllers with some
of their components issued (WIP), a lot of thermal paste expiring within 30 days; an open kit for the run's second
controller, partly picked; and an open quality issue on a main board, set aside."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from server.actor import Actor
from server.auth import AuthService
from server.catalog import CatalogService
from server.db import Database
from server.models import Part, Role
from server.ops.service import OpRequest, OpsService
from server.kits.schemas import KitIn, KitLineIn
from server.kits.service import KitService
from server.production.bom import BomService
from server.production.runs import RunService
from server.production.schemas import BomIn, BomLineIn, RunIn
from server.purchasing.replenishment import ReplenishmentService
from server.purchasing.schemas import ConstraintIn, PoIn, PoLineIn
from server.purchasing.service import PurchasingService

DEMO_USERS = [("admin", "admin", "gemba-admin"), ("sam", "supervisor", "gemba-super"), ("olga", "operator", "gemba-oper")]

LOCATIONS = [
    # code, parent, kind, available
    ("PLANT-1", None, "normal", True),
    ("PLANT-1/DOCK", "PLANT-1", "incoming", True),
    ("PLANT-1/STORES", "PLANT-1", "normal", True),
    ("PLANT-1/STORES/CAGE-A", "PLANT-1/STORES", "normal", True),
    ("PLANT-1/STORES/CAGE-A/SHELF-1", "PLANT-1/STORES/CAGE-A", "normal", True),
    ("PLANT-1/STORES/CAGE-A/SHELF-2", "PLANT-1/STORES/CAGE-A", "normal", True),
    ("PLANT-1/STORES/CAGE-B", "PLANT-1/STORES", "normal", True),
    ("PLANT-1/STORES/CAGE-B/SHELF-3", "PLANT-1/STORES/CAGE-B", "normal", True),
    ("PLANT-1/LINE-1", "PLANT-1", "lineside", True),
    ("PLANT-1/MRB", "PLANT-1", "quarantine", False),
    ("PLANT-1/COUNT-DIFF", "PLANT-1", "count_discrepancy", False),
]

PARTS = [
    # part_number, tracking, description, unit, serial_pattern, lot_pattern
    ("CTRL-100", "serial", "Motor controller assembly", "ea", "CTRL-{yy}{seq:05}", None),
    ("PSU-24V", "serial", "24 V 10 A power supply module", "ea", None, None),
    ("PCB-MAIN", "serial", "Main board, rev C", "ea", "PCB-{yy}{mm}-{seq:04}", None),
    ("CAP-100UF", "lot", "Capacitor 100 uF 50 V, reel", "ea", None, "LOT-{yyyy}-{seq:04}"),
    ("RES-10K", "lot", "Resistor 10 kΩ 0603, reel", "ea", None, "LOT-{yyyy}-{seq:04}"),
    ("SCREW-M3", "untracked", "Screw M3×8 pan head, stainless", "ea", None, None),
    ("LABEL-ROLL", "untracked", "Thermal label roll 50×25 mm", "roll", None, None),
    ("PASTE-TIM", "lot", "Thermal interface paste, 10 g syringe", "ea", None, "TIM-{yyyy}-{seq:03}"),
]


async def load_demo(db: Database) -> bool:
    """Load the demo into an empty database. Returns False (and changes nothing) if it has parts."""
    async with db.read() as session:
        if await session.scalar(select(func.count()).select_from(Part)):
            return False
    auth, catalog, ops = AuthService(db), CatalogService(db), OpsService(db)
    for username, role, password in DEMO_USERS:
        await auth.add_user(username, role, password)
    admin = Actor("admin", Role.admin)
    for code, parent, kind, available in LOCATIONS:
        await catalog.create_location({"code": code, "name": code.rsplit("/", 1)[-1].title(), "parent": parent,
                                       "kind": kind, "available": available}, admin)
    for number, tracking, description, unit, serial_pattern, lot_pattern in PARTS:
        await catalog.create_part({"part_number": number, "tracking": tracking, "description": description,
                                   "unit": unit, "serial_pattern": serial_pattern, "lot_pattern": lot_pattern}, admin)
    for name, code in [("DigiKey", "DK"), ("Mouser Electronics", "MOU"), ("McMaster-Carr", "MMC")]:
        await catalog.create_supplier(name, code)

    olga = Actor("olga", Role.operator)
    sam = Actor("sam", Role.supervisor)

    async def op(actor: Actor, op_type: str, **args: object) -> dict:
        return (await ops.apply_now(OpRequest(uuid.uuid4(), op_type, args), actor)).result

    shelf1, shelf2, shelf3 = (f"PLANT-1/STORES/CAGE-{c}" for c in ("A/SHELF-1", "A/SHELF-2", "B/SHELF-3"))
    dock, line = "PLANT-1/DOCK", "PLANT-1/LINE-1"
    caps = await op(olga, "receive", part="CAP-100UF", tracking="lot", location=dock, quantity=4000,
                    supplier="DigiKey", unit_cost="0.12", package_ref="DK-PKG-88213")
    await op(olga, "move", part="CAP-100UF", tracking="lot", lot=caps["lot"], from_location=dock,
             to_location=shelf1, quantity=3000)
    await op(olga, "receive", part="RES-10K", tracking="lot", location=shelf1, quantity=5000, lot="MOU-2611-77",
             supplier="Mouser Electronics", unit_cost="0.01")
    await op(olga, "receive", part="SCREW-M3", tracking="untracked", location=shelf2, quantity=2500,
             supplier="McMaster-Carr", unit_cost="0.04")
    await op(olga, "receive", part="LABEL-ROLL", tracking="untracked", location=shelf2, quantity=12, unit_cost="6.50")
    for serial in ("PSU-A0193", "PSU-A0194", "PSU-A0195"):
        await op(olga, "receive", part="PSU-24V", tracking="serial", location=shelf3, quantity=1, serial=serial,
                 supplier="DigiKey", unit_cost="48.00")
    boards = [await op(olga, "receive", part="PCB-MAIN", tracking="serial", location=shelf3, quantity=1,
                       unit_cost="31.00") for _ in range(4)]
    controllers = [await op(olga, "receive", part="CTRL-100", tracking="serial", location=line, quantity=1)
                   for _ in range(2)]
    first = controllers[0]["serial"]
    await op(olga, "install", parent_serial=first, part="PSU-24V", tracking="serial", serial="PSU-A0193", quantity=1)
    await op(olga, "install", parent_serial=first, part="PCB-MAIN", tracking="serial",
             serial=boards[0]["serial"], quantity=1)
    await op(olga, "install", parent_serial=first, part="SCREW-M3", tracking="untracked", from_location=shelf2,
             quantity=8)
    await op(olga, "isolate", part="PCB-MAIN", tracking="serial", serial=boards[3]["serial"], location=shelf3,
             quantity=1, reason="Solder bridge on U4 found at incoming inspection")
    await op(olga, "move", part="PCB-MAIN", tracking="serial", serial=boards[3]["serial"], from_location=shelf3,
             to_location="PLANT-1/MRB", quantity=1)
    await op(olga, "scrap", part="CAP-100UF", tracking="lot", lot=caps["lot"], location=dock, quantity=20,
             reason="Reel damaged in transit")
    await op(sam, "adjust", part="SCREW-M3", tracking="untracked", location=shelf2, delta=-12,
             reason="Cycle count found 12 fewer")
    await purchasing(db, sam, dock, lambda op_type, **args: op(olga, op_type, **args))
    await production(db, sam, lambda op_type, **args: op(olga, op_type, **args))
    await kit_and_issue(db, sam, lambda op_type, **args: op(olga, op_type, **args), boards[1]["serial"])
    return True


async def production(db: Database, sam: Actor, op: Callable[..., Awaitable[dict]]) -> None:
    """The controller's BOM; run RUN-DEMO-1 of two controllers on LINE-1, open, with one board, one power supply
    and 16 screws issued (WIP) and the rest still in demand; thermal paste whose lot expires in 20 days."""
    shelf2, shelf3, line = "PLANT-1/STORES/CAGE-A/SHELF-2", "PLANT-1/STORES/CAGE-B/SHELF-3", "PLANT-1/LINE-1"
    await op("receive", part="PASTE-TIM", tracking="lot", location=shelf2, quantity=40, supplier="Mouser Electronics",
             unit_cost="3.20", expiry=(date.today() + timedelta(days=20)).isoformat())
    await BomService(db).put("CTRL-100", BomIn(lines=[
        BomLineIn(part="PCB-MAIN", quantity=1), BomLineIn(part="PSU-24V", quantity=1),
        BomLineIn(part="SCREW-M3", quantity=8), BomLineIn(part="PASTE-TIM", quantity=1),
    ]), sam)
    runs = RunService(db)
    await runs.create(RunIn(number="RUN-DEMO-1", part="CTRL-100", quantity=2, location=line), sam)
    await runs.act("RUN-DEMO-1", "start", sam)
    board = await op("receive", part="PCB-MAIN", tracking="serial", location=shelf3, quantity=1, unit_cost="31.00")
    await op("issue", run="RUN-DEMO-1", part="PCB-MAIN", tracking="serial", serial=board["serial"], quantity=1)
    await op("issue", run="RUN-DEMO-1", part="PSU-24V", tracking="serial", serial="PSU-A0195", quantity=1)
    await op("issue", run="RUN-DEMO-1", part="SCREW-M3", tracking="untracked", from_location=shelf2, quantity=16)


async def kit_and_issue(db: Database, sam: Actor, op: Callable[..., Awaitable[dict]], board: str) -> None:
    """An open kit at the line for run RUN-DEMO-1's second controller: its power supply picked, its main board still
    to pick; and an open issue on a main board (olga found its connector loose: set aside)."""
    kit = await KitService(db).create(KitIn(run="RUN-DEMO-1", location="PLANT-1/LINE-1", lines=[
        KitLineIn(part="PSU-24V", quantity=Decimal(1)), KitLineIn(part="PCB-MAIN", quantity=Decimal(1))]), sam)
    await op("kit", kit=kit.number, part="PSU-24V", tracking="serial", serial="PSU-A0194",
             from_location="PLANT-1/STORES/CAGE-B/SHELF-3", quantity=1)
    await op("open_issue", title="Connector J3 loose", description="Wiggles when the board is flexed", serial=board,
             isolate=True)


async def purchasing(db: Database, sam: Actor, dock: str, receive: Callable[..., Awaitable[dict]]) -> None:
    """Two open POs to DigiKey, the first partly received (one of its three power supplies came: olga
    received it against the line), and constraints: screws and label rolls below their minimum in STORES,
    power supplies below theirs in the plant (two still on order), capacitors fine."""
    orders = PurchasingService(db)
    soon = date.today() + timedelta(days=7)
    supplies = PoLineIn(part="PSU-24V", quantity=3, unit_price=Decimal("48.00"), location=dock, expected_date=soon,
                        serials=["PSU-A0201", "PSU-A0202", "PSU-A0203"])
    caps = PoLineIn(part="CAP-100UF", quantity=2000, unit_price=Decimal("0.11"), lot="DK-2612-0417", location=dock,
                    expected_date=soon)
    numbers = []
    for line in (supplies, caps):
        made = await orders.create(PoIn(supplier="DigiKey", lines=[line]), sam)
        numbers.append((await orders.open(made.number, sam)).number)
    await receive("receive", part="PSU-24V", tracking="serial", serial="PSU-A0201", location=dock, quantity=1,
                  po_line=f"{numbers[0]}/1")
    constraints = ReplenishmentService(db)
    for part, location, minimum, maximum in [
        ("SCREW-M3", "PLANT-1/STORES", 3000, 6000), ("LABEL-ROLL", "PLANT-1/STORES", 20, 40),
        ("PSU-24V", "PLANT-1", 5, 8), ("CAP-100UF", "PLANT-1/STORES", 2000, None),
    ]:
        await constraints.put(ConstraintIn(part=part, location=location, min=minimum, max=maximum), sam)
