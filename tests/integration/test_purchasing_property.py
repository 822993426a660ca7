"""Random sequences of purchase order actions — make a draft, open, cancel, close a line short, receive against
a line (partly, fully, too much), many of them refused (a PO that is not a draft or not open, a line not open,
more than a line expects, a serial that exists or that the line does not list) — mixed with operations on stock,
through the services on a real database. After every step the ledger's `on_order` equals, per part,
location and lot, the quantity of the inventory rows on order, and, per part and location, the remaining
quantity of the open lines of open POs; the on-hand ledger still equals the stock on hand; the stock levels the
database keeps per part and location subtree (server/levels.py) equal those made from the rows; and a refused
action changed nothing.

One database per engine; each Hypothesis example starts from emptied tables and the same catalogue.
"""

from __future__ import annotations

import os

import asyncio
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import server.models  # noqa: F401 - registers the tables
from server.db import Database
from server.errors import DomainError
from server.models import InventoryRow, LedgerEntry, Location, Part, Role
from server.ops.service import OpRequest, OpsService
from server.actor import Actor
from server.purchasing.models import PoLine, PoReceipt, PurchaseOrder
from server.purchasing.schemas import PoIn, PoLineIn
from server.purchasing.service import PurchasingService
from server.rules.purchasing import remaining
from server.settings import Settings
from tests.dbs import ENGINES, fresh_database
from tests.integration.ops_support import ledger_sums, levels_kept_right, on_hand, values_kept_right
from tests.integration.purchasing_support import on_order_ledger, on_order_rows
from tests.integration.test_ops_property import create_schema, reset

PARTS = {"SER": "serial", "LOTP": "lot", "BULK": "untracked"}
SERIALS = ["S1", "S2", "S3", "S4", "S5", "S6"]
SAM = Actor("sam", Role.supervisor)
OLGA = Actor("olga", Role.operator)
EXAMPLES = {"sqlite": 150, "postgresql": 50} if os.environ.get("GEMBA_SOAK") else {"sqlite": 15, "postgresql": 8}


def po_line() -> st.SearchStrategy[PoLineIn]:
    def of(part: str) -> st.SearchStrategy[PoLineIn]:
        quantity = st.integers(1, 4)
        if PARTS[part] == "serial":
            listed = quantity.flatmap(lambda n: st.none() | st.lists(st.sampled_from(SERIALS), min_size=n, max_size=n,
                                                                      unique=True))
            return st.builds(lambda s, n, where: PoLineIn(part=part, quantity=len(s) if s else n, serials=s,
                                                          unit_price=Decimal("2.50"), location=where),
                             listed, quantity, st.sampled_from(["A", "B"]))
        lot = st.none() | st.sampled_from(["L1", "L2"]) if PARTS[part] == "lot" else st.none()
        return st.builds(lambda n, l, where: PoLineIn(part=part, quantity=n, lot=l, unit_price=Decimal("0.1"),
                                                      location=where), quantity, lot, st.sampled_from(["A", "B"]))

    return st.sampled_from(sorted(PARTS)).flatmap(of)


def receipt(parts: dict[str, list[str]], status: dict[str, str]) -> st.SearchStrategy[tuple[str, Any]]:
    """A receipt against a line of a PO (mostly an open one): its part, a quantity (1 for a unit: a listed
    serial, another one, or none — numbered), where it goes."""
    fitting = sorted(number for number, state in status.items() if state == "open")

    def of(number: str) -> st.SearchStrategy[tuple[str, Any]]:
        def args(line_no: int, quantity: int, serial: str | None, where: str) -> tuple[str, Any]:
            part = parts[number][line_no - 1]
            given: dict[str, Any] = {"part": part, "tracking": PARTS[part], "location": where,
                                     "po_line": f"{number}/{line_no}", "quantity": 1 if PARTS[part] == "serial" else quantity}
            if PARTS[part] == "serial" and serial is not None:
                given["serial"] = serial
            return "receipt", given

        return st.builds(args, st.integers(1, len(parts[number])), st.integers(1, 4),
                         st.none() | st.sampled_from(SERIALS + ["X1"]), st.sampled_from(["A", "B"]))

    return st.sampled_from(fitting * 5 + sorted(status)).flatmap(of)


def step(status: dict[str, str], parts: dict[str, list[str]]) -> st.SearchStrategy[tuple[str, Any]]:
    """The next action: a new draft; opening a draft, closing a line of or cancelling an open PO (mostly one
    where it applies, sometimes any PO: refused); or an operation on stock. `status`: each PO's, as last
    answered."""

    def pick(wanted: str) -> st.SearchStrategy[str]:
        fitting = sorted(number for number, state in status.items() if state == wanted)
        return st.sampled_from(fitting * 5 + sorted(status))

    create = st.tuples(st.just("create"), st.lists(po_line(), min_size=1, max_size=3))
    on_stock = st.tuples(
        st.sampled_from(["receive", "move"]),
        st.tuples(st.sampled_from(["BULK", "LOTP"]), st.sampled_from(["A", "B"]), st.integers(1, 5)),
    )
    kinds = ["create", "create", "open", "open", "close", "close", "cancel", "stock"] if status else ["create", "stock"]
    if "open" in status.values():
        kinds += ["receipt"] * 6
    kind = st.sampled_from(kinds)
    return kind.flatmap(lambda k: {
        "create": create,
        "open": st.tuples(st.just("open"), pick("draft")),
        "close": st.tuples(st.just("close"), st.tuples(pick("open"), st.sampled_from([1, 1, 2, 3]))),
        "cancel": st.tuples(st.just("cancel"), pick("open")),
        "stock": on_stock,
        "receipt": receipt(parts, status) if status else on_stock,
    }[k])


async def open_lines_remaining(db: Database) -> dict[tuple[str, str], int]:
    """Σ remaining of the open lines of open POs, per part and location."""
    async with db.read() as session:
        rows = await session.execute(
            select(Part.part_number, Location.code, PoLine.status, PoLine.quantity, PoLine.received)
            .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id).join(Part, Part.id == PoLine.part_id)
            .join(Location, Location.id == PoLine.location_id).where(PurchaseOrder.status == "open")
        )
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for part, code, status, quantity, received in rows:
            if left := remaining(status, quantity, received):
                sums[part, code] += left
    return dict(sums)


async def snapshot(db: Database) -> Any:
    async with db.read() as session:
        inventory = sorted(map(tuple, (await session.execute(
            select(InventoryRow.id, InventoryRow.quantity, InventoryRow.po_state, InventoryRow.version)
        )).all()))
        orders = sorted(map(tuple, (await session.execute(select(PurchaseOrder.number, PurchaseOrder.status))).all()))
        lines = sorted(map(tuple, (await session.execute(
            select(PoLine.id, PoLine.status, PoLine.version, PoLine.quantity, PoLine.received)
        )).all()))
        ledger = await session.scalar(select(func.count()).select_from(LedgerEntry))
        receipts = await session.scalar(select(func.count()).select_from(PoReceipt))
    return inventory, lines, orders, ledger, receipts


async def check(db: Database) -> None:
    async with db.read() as session:
        by_lot = await on_order_ledger(session)
        assert by_lot == await on_order_rows(session), "on_order ledger != rows on order"
        stock_ledger, stock = await ledger_sums(session), await on_hand(session)
        assert stock_ledger == stock, f"on-hand ledger {stock_ledger} != on hand {stock}"
        await levels_kept_right(session)  # the replenishment list's sums: On order and Available per subtree
        await values_kept_right(session)  # the valuation's: quantity and FIFO value per subtree
    per_place: dict[tuple[str, str], int] = defaultdict(int)
    for (part, code, _lot), quantity in by_lot.items():
        per_place[part, code] += quantity
    assert dict(per_place) == await open_lines_remaining(db), "on_order ledger != open lines' remaining"


async def run_sequence(db: Database, data: st.DataObject) -> None:
    await reset(db)
    purchasing, ops = PurchasingService(db), OpsService(db)
    status: dict[str, str] = {}
    parts: dict[str, list[str]] = {}  # each PO's lines' parts
    for _ in range(data.draw(st.integers(5, 25), label="steps")):
        kind, what = data.draw(step(status, parts))
        before = await snapshot(db)
        try:
            if kind in ("create", "open", "cancel", "close"):
                if kind == "create":
                    po = await purchasing.create(PoIn(supplier="Acme", lines=what), SAM)
                elif kind == "open":
                    po = await purchasing.open(what, SAM)
                elif kind == "cancel":
                    po = await purchasing.cancel(what, SAM)
                else:
                    po = await purchasing.close_line(*what, SAM)
                status[po.number] = po.status
                parts[po.number] = [line.part for line in po.lines]
            elif kind == "receipt":
                await ops.apply_now(OpRequest(op_id=uuid.uuid4(), type="receive", args=what), OLGA)
                status = {number: (await purchasing.get(number)).status for number in status}
            else:
                part, here, quantity = what
                args: dict[str, Any] = {"part": part, "tracking": PARTS[part], "quantity": quantity}
                if part == "LOTP":
                    args["lot"] = "L1"
                if kind == "receive":
                    args["location"] = here
                else:
                    args.update(from_location=here, to_location="B" if here == "A" else "A")
                await ops.apply_now(OpRequest(op_id=uuid.uuid4(), type=kind, args=args), OLGA)
        except DomainError:
            assert await snapshot(db) == before, f"a refused {kind} changed the database"
            continue
        await check(db)


@pytest.mark.parametrize("engine", ENGINES)
def test_on_order_equals_the_open_lines_remaining_after_any_sequence(engine: str, tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        database = fresh_database(engine, tmp_path)
        url = runner.run(database.__aenter__())
        db = Database(Settings(database_url=url, scrypt_log2_n=4))
        try:
            runner.run(create_schema(db))

            @settings(
                max_examples=EXAMPLES[engine], deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(st.data())
            def apply_sequence(data: st.DataObject) -> None:
                runner.run(run_sequence(db, data))

            apply_sequence()
        finally:
            runner.run(db.dispose())
            runner.run(database.__aexit__(None, None, None))
