"""Random sequences of operations — many of them ones that must be refused — applied through
`OpsService.apply_now` on a real database. After every op the database must still hold the inventory
rules (asked with SQL) — among them, the stock levels the database keeps per part and location subtree equal those
the status rule makes from the rows —, a refused op must have changed nothing, an applied op must conserve stock
(only receive, adjust and remove change a part's total), and the ledger must equal the stock on hand per part,
location and lot. Costs (docs/costs.md): per part, its layers' remaining quantity equals the stock it holds (not
scrapped or removed; free, isolated or installed), and what came (Σ quantity received × unit cost of its layers)
is what was used (Σ usage cost, each rounded to 6 places) plus what is left (Σ remaining × unit cost): exactly,
but for half a millionth per usage record. Where the layers are: a layer's holdings sum to what is left of it, a
row holds layers for exactly the stock it is, a location's valuation is what its rows hold; and what runs built
is worth exactly the FIFO cost their components took (Σ produced layers = Σ usage of `complete_run`).

Each op is drawn knowing the current stock (mostly naming rows that exist, with quantities around
what they hold, so that most ops get far enough to matter), or blindly from small pools, or with one
defect a phone could send: a stale tracking type, a location closed for a count or unknown, two of a
serialized unit, a serial under the wrong part number. Or it replays the last applied op. Picks into a kit (one open, one
completed) and quality issues (isolating what they name, or not) are among them: what is in the open kit's
tote is Kitted and nothing else is, a kit's line never counts below 0, and an issue changes no part's total.
Three open production runs build ASM (RUN-S of one SER each, RUN-L of one LOTP, RUN-B of half a metre of BULK)
and take `issue` and `complete_run` ops: what is issued is WIP in the run's location A/RUN-…, and a completion
makes ASM units with those components installed.

One database per engine; each Hypothesis example starts from emptied tables and the same catalogue.
Examples run on an event loop of their own (asyncio.Runner): the engine's connections belong to it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import aliased

from server.actor import Actor
from server.api.params import MAX_PAGE
from server.db import Database
from server.errors import DomainError
from server.costs.read import CostQueries
from server.kits.models import Kit, KitLine
from server.models import (
    CostHolding, CostLayer, Counter, InventoryRow, LedgerEntry, Location, Movement, OpRecord, Part, Role, Supplier, UsageRecord,
    is_stock,
)
from server.rules.status import inventory_status_sql
from server.quality.models import Issue
from server.ops.service import OpRequest, OpsService
from server.production.models import Run, RunLine
from server.queries import InventoryQueries
from server.rules.costs import Layer, fifo_value
from server.rules.money import exact, times, total
from server.schema import METADATA
from server.settings import Settings
from tests.dbs import ENGINES, fresh_database
from tests.integration.ops_support import constrain_everywhere, ledger_sums, levels_kept_right, on_hand, values_kept_right

PARTS = {"SER": "serial", "ASM": "serial", "LOTP": "lot", "BULK": "untracked"}
PATTERNS = {"SER": {"serial_pattern": "S{seq}"}, "ASM": {"serial_pattern": "A{seq}"}, "LOTP": {"lot_pattern": "L{seq}"},
            "BULK": {"unit": "m"}}  # BULK is counted in metres, to 3 decimal places: its quantities are decimals
SERIALS = ["S1", "S2", "S3", "A1", "A2"]  # what the patterns generate first
LOTS = ["L1", "L2", "LX"]
ACTORS = {"operator": Actor("olga", Role.operator), "supervisor": Actor("sam", Role.supervisor)}
EXAMPLES = {"sqlite": 200, "postgresql": 100} if os.environ.get("GEMBA_SOAK") else {"sqlite": 10, "postgresql": 6}
Op = tuple[str, str, dict[str, Any]]  # type, role, args
State = dict[str, Any]
VIEW = ("part", "serial", "lot", "location", "isolated", "installed_in", "quantity")  # a row as ops see it

locations = st.sampled_from(["A", "B"])
KITS = ["KIT-1", "KIT-2"]  # open (its tote: K), completed (its tote K2: a plain location now)
titled = {"title": st.just("problem")}
serials = st.sampled_from(SERIALS)
lots = st.sampled_from(LOTS)
reason = st.just("test")
RUNS = {"RUN-S": ("SER", 1), "RUN-L": ("LOTP", 1), "RUN-B": ("BULK", Decimal("0.5"))}  # each builds ASM of this
runs = st.sampled_from(sorted(RUNS))
price = st.decimals(min_value=Decimal(0), max_value=Decimal(20), places=2).map(str)


def compact(op_type: str, role: str, *parts: dict[str, Any]) -> Op:
    return op_type, role, {k: v for part in parts for k, v in part.items() if v is not None}


# ---- ops drawn blindly from the pools -------------------------------------------------------------
def item(part: str) -> st.SearchStrategy[dict[str, Any]]:
    """Args naming stock of `part` the way an operator scans it."""
    named: dict[str, Any] = {"part": st.just(part), "tracking": st.just(PARTS[part])}
    if PARTS[part] == "serial":
        named["serial"] = serials
    elif PARTS[part] == "lot":
        named["lot"] = lots
    return st.fixed_dictionaries(named)


def metres(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=low, max_value=high, places=3, allow_nan=False, allow_infinity=False)


def quantity(part: str) -> st.SearchStrategy[Any]:
    if part == "BULK":
        return metres(Decimal("0.001"), Decimal(4)).map(str)  # as a phone sends it: "2.375"
    return st.just(1) if PARTS[part] == "serial" else st.integers(1, 4)


def blind(op_type: str, parts: list[str], *, name_item: bool = True, **fields: Any) -> st.SearchStrategy[Op]:
    """An op on one of `parts`; `fields` maps arg names to strategies, or to functions of the part."""

    def for_part(part: str) -> st.SearchStrategy[Op]:
        extra = {name: value(part) if callable(value) else value for name, value in fields.items()}
        role = extra.pop("role", st.just("operator"))
        named = item(part) if name_item else st.just({"part": part, "tracking": PARTS[part]})
        return st.tuples(st.just(op_type), role, named, st.fixed_dictionaries(extra)).map(lambda t: compact(*t))

    return st.sampled_from(parts).flatmap(for_part)


ALL = list(PARTS)
receive = blind(
    "receive", ALL, name_item=False, location=locations, quantity=quantity,
    serial=lambda part: st.none() | serials if PARTS[part] == "serial" else st.none(),
    lot=lambda part: st.none() | lots if PARTS[part] == "lot" else st.none(),
    unit_cost=st.none() | price, package_ref=st.none() | st.sampled_from(["DN-1", "DN-2"]),
)
receive_by_package = blind(  # a package price: the unit cost is the price over the quantity (6 places)
    "receive", ALL, name_item=False, location=locations, quantity=quantity, package_price=price,
    serial=lambda part: st.none() | serials if PARTS[part] == "serial" else st.none(),
    lot=lambda part: st.none() | lots if PARTS[part] == "lot" else st.none(),
)
isolated_flag = st.sampled_from([None, None, True])
supervisor_mostly = st.sampled_from(["supervisor", "supervisor", "supervisor", "operator"])
blind_op = st.one_of(
    receive,
    receive_by_package,
    blind("remove", ALL, location=locations, quantity=quantity, reason=reason),
    blind("move", ALL, from_location=locations, to_location=locations, quantity=quantity, isolated=isolated_flag),
    blind("install", ALL, parent_serial=serials, from_location=st.none() | locations, quantity=quantity),
    blind("uninstall", ALL, parent_serial=serials, to_location=locations, quantity=quantity),
    blind("scrap", ALL, location=locations, quantity=quantity, reason=reason, isolated=isolated_flag),
    blind("isolate", ALL, location=locations, quantity=quantity, reason=reason),
    blind("release", ALL, location=locations, quantity=quantity),
    blind("adjust", ALL, location=locations, reason=reason, role=supervisor_mostly,
          delta=lambda part: st.sampled_from([1, -1, 2]) if PARTS[part] == "serial" else
          metres(Decimal(-3), Decimal(3)).map(str) if part == "BULK" else st.integers(-3, 3)),
    blind("split", ["LOTP"], location=locations, quantity=quantity, new_lot=st.none() | lots),
    blind("merge", ["LOTP"], name_item=False, location=locations, lots=st.lists(lots, min_size=1, max_size=3),
          into_lot=lots),
    blind("kit", ALL, kit=st.sampled_from(KITS), from_location=st.sampled_from(["A", "B", "K"]), quantity=quantity),
    st.fixed_dictionaries({**titled, "serial": serials, "isolate": st.booleans()}).map(
        lambda args: ("open_issue", "operator", args)),
    st.fixed_dictionaries({**titled, "part": st.sampled_from(["LOTP", "BULK"]), "lot": st.none() | lots,
                           "location": st.none() | locations, "isolate": st.booleans()}).map(
        lambda args: compact("open_issue", "operator", args)),
    blind("issue", ALL, run=runs, from_location=st.none() | locations, quantity=quantity),
    st.fixed_dictionaries({"run": runs, "quantity": st.integers(1, 2), "location": locations}).map(
        lambda args: ("complete_run", "operator", args)),
)


# ---- ops drawn knowing the stock --------------------------------------------------------------------
def informed(state: State) -> st.SearchStrategy[Op]:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:  # a stable order, so that Hypothesis can replay a draw
        return tuple("" if row[name] is None else row[name] for name in VIEW)

    rows = sorted(state["view"], key=key)
    if not rows:
        return receive
    return st.sampled_from(rows).flatmap(lambda row: on_row(row, state))


def on_row(row: dict[str, Any], state: State) -> st.SearchStrategy[Op]:
    """An op on one existing row, with a quantity up to one more than it holds."""
    part, here = row["part"], row["location"]
    elsewhere = st.sampled_from(["B", "A"] if here == "A" else ["A", "B"])  # mostly the other one
    named = {"part": part, "tracking": PARTS[part], "serial": row["serial"], "lot": row["lot"]}
    unit = row["serial"] is not None
    qty = (st.just(1) if unit else metres(Decimal("0.001"), row["quantity"] + 1).map(str) if part == "BULK"
           else st.integers(1, row["quantity"] + 1))
    isolated = None if unit or not row["isolated"] else True
    units = sorted(r["serial"] for r in state["view"] if r["serial"] and r["serial"] != row["serial"])
    parents = st.sampled_from(units) if units else serials
    same_place_lots = sorted({r["lot"] for r in state["view"] if r["lot"] and r["location"] == here} | set(LOTS))

    def make(op_type: str, role: str = "operator", **strategies: Any) -> st.SearchStrategy[Op]:
        return st.fixed_dictionaries(strategies).map(lambda extra: compact(op_type, role, named, extra))

    if row["installed_in"]:
        return st.one_of(
            make("uninstall", parent_serial=st.just(row["installed_in"]), to_location=locations, quantity=qty),
            make("move", from_location=st.just(here), to_location=elsewhere, quantity=qty),
        )
    choices = [
        make("issue", run=st.sampled_from([r for r, (p, _) in sorted(RUNS.items()) if p == part] or ["RUN-S"]),
             from_location=st.none() | st.just(here), quantity=qty),
        make("move", from_location=st.just(here), to_location=elsewhere, quantity=qty, isolated=st.just(isolated)),
        make("install", parent_serial=parents, from_location=st.none() | st.just(here), quantity=qty),
        make("scrap", location=st.just(here), quantity=qty, reason=reason, isolated=st.just(isolated)),
        make("remove", location=st.just(here), quantity=qty, reason=reason),
        make("isolate", location=st.just(here), quantity=qty, reason=reason),
        *[make("release", location=st.just(here), quantity=qty)] * (3 if row["isolated"] else 1),
        make("adjust", "supervisor", location=st.just(here), reason=reason,
             delta=st.sampled_from([-1, 1]) if unit else
             metres(-row["quantity"] - 1, Decimal(3)).map(str) if part == "BULK" else st.integers(-row["quantity"] - 1, 3)),
    ]
    choices.append(make("kit", kit=st.sampled_from(["KIT-1", "KIT-1", "KIT-2"]), from_location=st.just(here),
                        quantity=qty))
    subject = {"serial": row["serial"]} if unit else {"part": part, "lot": row["lot"], "location": here}
    choices.append(st.booleans().map(lambda isolate: compact(
        "open_issue", "operator", {"title": "problem", "isolate": isolate}, subject)))
    if here.startswith("A/RUN-"):  # on a run: build with it, mostly
        build = st.fixed_dictionaries({"run": st.just(here[2:]), "quantity": st.just(1), "location": locations})
        choices += [build.map(lambda args: ("complete_run", "operator", args))] * 6
    if row["lot"] is not None and not unit:
        choices.append(make("split", location=st.just(here), quantity=qty, new_lot=st.none() | lots))
        named_lots = st.lists(st.sampled_from(same_place_lots), max_size=2).map(lambda more: [row["lot"], *more])
        merge = st.fixed_dictionaries({"lots": named_lots, "into_lot": st.sampled_from(same_place_lots)}).map(
            lambda extra: compact("merge", "operator", {"part": part, "tracking": "lot", "location": here}, extra)
        )
        choices += [merge, merge]  # this lot with others at the same place
    return st.one_of(choices)


def spoil(drawn: tuple[Op, str]) -> Op:
    """One defect a phone could send: a stale tracking type, a locked or unknown place, two units, a
    serial named under another part."""
    (op_type, role, args), defect = drawn
    args = dict(args)
    if "part" not in args:  # a completion names its run, not a part: the place it builds at is the one to spoil
        defect = defect if defect in ("LOCKED", "NOWHERE") else "NOWHERE"
    places = [name for name in ("location", "from_location", "to_location") if name in args]
    if defect == "tracking" and "tracking" in args:
        args["tracking"] = {"serial": "lot", "lot": "untracked", "untracked": "serial"}[args["tracking"]]
    elif defect in ("LOCKED", "NOWHERE") and places:
        args[places[-1]] = defect
    elif defect == "two units" and PARTS.get(args.get("part")) == "serial" and "quantity" in args:
        args["quantity"] = 2
    elif defect == "other part" and args.get("part") in ("SER", "ASM"):  # the right serial, the wrong part number
        args["part"] = "ASM" if args["part"] == "SER" else "SER"
    return op_type, role, args


def building(state: State) -> st.SearchStrategy[Op]:
    """A completion of a run something usable was issued to (else an op on the stock)."""
    ready = sorted({row["location"][2:] for row in state["view"] if row["location"].startswith("A/RUN-")
                    and row["quantity"] and not row["isolated"] and not row["installed_in"]})
    if not ready:
        return informed(state)
    return st.fixed_dictionaries({"run": st.sampled_from(ready), "quantity": st.just(1), "location": locations}).map(
        lambda args: ("complete_run", "operator", args))


def next_op(state: State) -> st.SearchStrategy[Op]:
    kind = st.sampled_from(["informed"] * 5 + ["receive"] * 2 + ["blind", "spoiled", "replay", "building"])
    receipts = st.one_of(receive, receive_by_package)
    defects = st.sampled_from(["tracking", "LOCKED", "NOWHERE", "two units", "other part"])
    spoiled = st.tuples(st.one_of(informed(state), blind_op), defects).map(spoil)
    return kind.flatmap(
        lambda k: {"informed": informed(state), "receive": receipts, "blind": blind_op, "spoiled": spoiled,
                   "replay": st.just(("replay", "operator", {})), "building": building(state)}[k]
    )


# ---- the database ---------------------------------------------------------------------------------
async def create_schema(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)


async def reset(db: Database) -> None:
    """Empty every table and load the catalogue: four parts, locations A, B and one closed for a count; a constraint
    on every part in every location (the sums the database keeps, checked after every op)."""
    tables = list(reversed(METADATA.sorted_tables))
    async with db.write() as session:
        if db.dialect == "postgresql":
            await session.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)}"))
        else:
            for table in tables:
                await session.execute(delete(table))
        parts = {pn: Part(id=uuid.uuid4(), part_number=pn, tracking=t, **PATTERNS.get(pn, {})) for pn, t in PARTS.items()}
        a = Location(id=uuid.uuid4(), code="A")
        tote, done = uuid.uuid4(), uuid.uuid4()
        open_kit, closed_kit = uuid.uuid4(), uuid.uuid4()
        session.add_all([*parts.values(), a, Location(code="B"), Location(code="LOCKED", count_locked=True),
                         Location(id=tote, code="K", parent_id=a.id, kit_id=open_kit), Location(id=done, code="K2")])
        await session.flush()
        session.add_all([Kit(id=open_kit, number="KIT-1", location_id=a.id, tote_id=tote, status="open", created_by="sam"),
                         Kit(id=closed_kit, number="KIT-2", location_id=a.id, tote_id=done, status="completed",
                             created_by="sam")])
        await session.flush()
        session.add_all(KitLine(kit_id=kit, line_no=n, part_id=parts[part].id, quantity=3, picked=0)
                        for kit in (open_kit, closed_kit) for n, part in enumerate(PARTS, start=1))
        for number, (component, each) in RUNS.items():
            wip = Location(id=uuid.uuid4(), code=f"A/{number}", wip=True)
            run = Run(id=uuid.uuid4(), number=number, part_id=parts["ASM"].id, quantity=20, produced=0,
                      location_id=a.id, wip_location_id=wip.id, state="open", created_by="sam")
            session.add_all([wip, run])
            await session.flush()
            session.add(RunLine(run_id=run.id, line_no=1, part_id=parts[component].id, per_unit=each,
                                required=each * 20, issued=0, consumed=0))
        await constrain_everywhere(session)  # every sum kept, for levels_kept_right


async def snapshot(db: Database) -> State:
    """Everything an op may change: every inventory row, the trail's lengths, counters and suppliers;
    and a readable view of the rows to draw the next op from."""
    async with db.read() as session:
        rows = await session.execute(
            select(
                InventoryRow.id, InventoryRow.part_id, InventoryRow.location_id, InventoryRow.quantity,
                InventoryRow.serial, InventoryRow.lot, InventoryRow.tracking, InventoryRow.installed_in_id,
                InventoryRow.scrapped, InventoryRow.isolated, InventoryRow.removed,
            )
        )
        layers = sorted((await session.execute(select(CostLayer.id, CostLayer.quantity_remaining))).all())
        holdings = sorted((await session.execute(
            select(CostHolding.layer_id, CostHolding.inventory_id, CostHolding.quantity)
        )).all())
        counts = {
            model.__name__: await session.scalar(select(func.count()).select_from(model))
            for model in (LedgerEntry, Movement, OpRecord, Supplier, Issue, CostLayer, UsageRecord)
        }
        counters = dict((await session.execute(select(Counter.key, Counter.value))).all())
        parts = dict((await session.execute(select(Part.id, Part.part_number))).all())
        codes = dict((await session.execute(select(Location.id, Location.code))).all())
    by_id = {row.id: row._asdict() for row in rows}
    view = [
        {
            "part": parts[row["part_id"]], "location": codes[row["location_id"]], "serial": row["serial"],
            "lot": row["lot"], "quantity": row["quantity"], "isolated": row["isolated"],
            "installed_in": by_id[row["installed_in_id"]]["serial"] if row["installed_in_id"] else None,
        }
        for row in by_id.values()
        if not row["scrapped"] and not row["removed"]
    ]
    return {"rows": by_id, "counts": counts, "counters": counters, "parts": parts, "codes": codes, "view": view,
            "layers": layers, "holdings": holdings}


def part_totals(state: State) -> dict[str, int]:
    """Quantity per part number over every row (free, isolated, installed, scrapped)."""
    totals = dict.fromkeys(PARTS, 0)
    for row in state["rows"].values():
        totals[state["parts"][row["part_id"]]] += row["quantity"]
    return totals


def stored(state: State) -> State:
    return {key: state[key] for key in ("rows", "counts", "counters", "layers", "holdings")}


async def check_rules(db: Database, state: State) -> None:
    """The inventory rules, asked of the database."""
    parent = aliased(InventoryRow)
    bucket = (
        InventoryRow.part_id, InventoryRow.lot, InventoryRow.location_id, InventoryRow.installed_in_id,
        InventoryRow.scrapped, InventoryRow.isolated,
    )
    async with db.read() as session:
        negative = await session.scalar(select(func.count()).where(InventoryRow.quantity < 0))
        assert negative == 0, "negative quantity"
        duplicates = (
            await session.execute(
                select(InventoryRow.serial).where(InventoryRow.serial.is_not(None))
                .group_by(InventoryRow.serial).having(func.count() > 1)
            )
        ).all()
        assert duplicates == [], f"duplicate serials {duplicates}"
        shared = (
            await session.execute(
                select(*bucket).where(InventoryRow.serial.is_(None)).group_by(*bucket).having(func.count() > 1)
            )
        ).all()
        assert shared == [], f"two rows for one bucket {shared}"
        bad_units = await session.scalar(
            select(func.count()).where(
                InventoryRow.serial.is_not(None),
                (InventoryRow.quantity > 1) | (InventoryRow.tracking != "serial"),
            )
        )
        assert bad_units == 0, "a serial row that is not one unit"
        astray = (
            await session.execute(
                select(InventoryRow.serial, InventoryRow.lot, parent.serial)
                .join(parent, parent.id == InventoryRow.installed_in_id)
                .where((parent.location_id != InventoryRow.location_id) | parent.serial.is_(None))
            )
        ).all()
        assert astray == [], f"installed stock not where its assembly is, or inside a non-unit {astray}"
        ledger, stock = await ledger_sums(session), await on_hand(session)
        assert ledger == stock, f"ledger {ledger} != on hand {stock}"
        # what is in the open kit's tote (not scrapped, not installed) is Kitted, and nothing anywhere else is
        kitted = set((await session.execute(
            select(Location.code, inventory_status_sql(InventoryRow, Location)).join(
                Location, Location.id == InventoryRow.location_id).where(is_stock()).distinct()
        )).all())
        assert {code for code, status in kitted if status == "kitted"} <= {"K"}, kitted
        assert {status for code, status in kitted if code == "K"} <= {"kitted", "scrapped", "removed", "installed"}, kitted
        assert await session.scalar(select(func.min(KitLine.picked))) >= 0  # a kit gives back no more than it had
    balances, _ = await InventoryQueries(db).balances({}, MAX_PAGE, 0)  # GET /api/balances
    listed = {(b["part"], b["location"], b["lot"]): b["quantity"] for b in balances if b["bucket"] == "on_hand"}
    assert listed == {(state["parts"][part], state["codes"][place], lot): n for (part, place, lot), n in stock.items()}
    await check_costs(db, state)
    for row_id, row in state["rows"].items():  # no unit inside itself: every chain of parents ends
        seen = {row_id}
        while (row := state["rows"][row["installed_in_id"]] if row["installed_in_id"] else None) is not None:
            assert row["id"] not in seen, "install cycle"
            seen.add(row["id"])


async def check_costs(db: Database, state: State) -> None:
    """Per part: layers' remaining = stock held; what came = what was used + what is left (FIFO value); the
    valuation's FIFO value is the layers'. Per layer: its holdings sum to its remaining quantity; per row: a row
    that is stock held holds layers for exactly its quantity, any other row none. A location's valuation is what
    the rows of its subtree hold, exactly. What runs built is worth exactly the cost their components took."""
    async with db.read() as session:
        layers = (await session.execute(select(
            CostLayer.id, CostLayer.part_id, CostLayer.kind, CostLayer.quantity_received, CostLayer.quantity_remaining,
            CostLayer.unit_cost,
        ))).all()
        usage = (await session.execute(select(UsageRecord.part_id, UsageRecord.cost, UsageRecord.op_type))).all()
        held = dict((await session.execute(
            select(InventoryRow.part_id, func.sum(InventoryRow.quantity))
            .where(is_stock(), ~InventoryRow.scrapped, ~InventoryRow.removed).group_by(InventoryRow.part_id)
        )).all())
        parents = dict((await session.execute(select(Location.id, Location.parent_id))).all())
    valuation = await CostQueries(db).valuation()
    valued = {item["part"]: Decimal(item["fifo_value"]) for item in valuation["items"]}
    for part_id, part in state["parts"].items():
        mine = [layer for layer in layers if layer.part_id == part_id]
        remaining = sum((layer.quantity_remaining for layer in mine), 0)
        assert remaining == (held.get(part_id) or 0), f"{part}: layers hold {remaining}, the stock {held.get(part_id)}"
        came = total(times(layer.quantity_received, layer.unit_cost) for layer in mine)
        left = total(times(layer.quantity_remaining, layer.unit_cost) for layer in mine)  # exact: not rounded
        used = [cost for owner, cost, _ in usage if owner == part_id]
        slack = Decimal("0.0000005") * len(used)
        assert abs(total(used) + left - came) <= slack, f"{part}: used {total(used)} + left {left} != came {came}"
        assert valued.get(part, Decimal(0)) == fifo_value([Layer(None, 1, left)]), part  # to 6 places
    # where the layers are
    by_layer: dict[Any, Any] = {}
    by_row: dict[Any, Any] = {}
    for layer_id, row_id, quantity in state["holdings"]:
        by_layer[layer_id] = by_layer.get(layer_id, 0) + quantity
        by_row[row_id] = by_row.get(row_id, 0) + quantity
    for layer in layers:
        assert by_layer.get(layer.id, 0) == layer.quantity_remaining, f"layer {layer.kind}: held {by_layer.get(layer.id)}"
    for row_id, row in state["rows"].items():
        stock = row["quantity"] if not (row["scrapped"] or row["removed"]) else 0
        assert by_row.get(row_id, 0) == stock, f"{row['serial'] or row['lot']}: holds {by_row.get(row_id)}, has {stock}"
    # a location's value: what the rows of its subtree hold
    costs = {layer.id: (layer.part_id, layer.unit_cost) for layer in layers}
    for code in ("A", "B"):
        place = next(location for location, name in state["codes"].items() if name == code)

        def within(location: Any) -> bool:
            while location is not None and location != place:
                location = parents.get(location)
            return location == place

        expected: dict[str, list[Decimal]] = {}
        for layer_id, row_id, quantity in state["holdings"]:
            if within(state["rows"][row_id]["location_id"]):
                part_id, cost = costs[layer_id]
                expected.setdefault(state["parts"][part_id], []).append(times(quantity, cost))
        there = {item["part"]: Decimal(item["fifo_value"]) for item in (await CostQueries(db).valuation(code))["items"]}
        assert there == {part: exact(total(values)) for part, values in expected.items() if values}, code  # to 6 places
    # built stock is worth what its components cost, to the millionth; components built in are worth nothing more
    produced = total(times(layer.quantity_received, layer.unit_cost) for layer in layers if layer.kind == "produced")
    consumed = total(cost for _, cost, op_type in usage if op_type == "complete_run")
    assert produced == consumed, f"built {produced} != consumed {consumed}"
    assert all(layer.unit_cost == 0 for layer in layers if layer.kind in ("built_in", "made"))


# ---- the test -------------------------------------------------------------------------------------
async def run_sequence(db: Database, data: st.DataObject) -> None:
    await reset(db)
    service = OpsService(db)
    before = await snapshot(db)
    last_applied: OpRequest | None = None
    for _ in range(data.draw(st.integers(8, 30), label="steps")):
        op_type, role, args = data.draw(next_op(before))
        if op_type == "replay":
            if last_applied is None:
                continue
            outcome = await service.apply_now(last_applied, ACTORS[role])
            after = await snapshot(db)
            assert outcome.replayed
            assert stored(after)["rows"] == stored(before)["rows"] and after["counts"] == before["counts"]
            before = after
            continue
        request = OpRequest(op_id=uuid.uuid4(), type=op_type, args=args)
        try:
            outcome = await service.apply_now(request, ACTORS[role])
        except DomainError:
            assert stored(await snapshot(db)) == stored(before), "a refused op changed the database"
            continue
        assert outcome.status == "applied" and not outcome.replayed
        last_applied = request
        after = await snapshot(db)
        await check_rules(db, after)
        async with db.read() as session:  # the sums the database keeps follow every op: the replenishment list's
            await levels_kept_right(session)  # (server/levels.py) and the valuation's (server/costs/values.py)
            await values_kept_right(session)
        moved = {"receive": args.get("quantity"), "adjust": args.get("delta"), "remove": f"-{args.get('quantity')}",
                 "complete_run": args.get("quantity")}
        change = Decimal(str(moved.get(op_type) or 0))
        made = "ASM" if op_type == "complete_run" else args.get("part")  # a completion makes ASM units of components
        expected = {part: change if part == made else 0 for part in PARTS}
        totals_before, totals_after = part_totals(before), part_totals(after)
        assert {part: totals_after[part] - totals_before[part] for part in PARTS} == expected, "stock not conserved"
        assert after["counts"]["OpRecord"] == before["counts"]["OpRecord"] + 1
        if op_type == "open_issue":  # an issue moves nothing; it logs only what it isolated
            assert after["counts"]["Issue"] == before["counts"]["Issue"] + 1
            assert (after["counts"]["Movement"] > before["counts"]["Movement"]) == bool(outcome.result["isolated"])
        else:
            assert after["counts"]["Movement"] > before["counts"]["Movement"], "no activity log"
            made_ids = outcome.result.get("inventory_ids") or [outcome.result["inventory_id"]]
            assert set(made_ids) <= {str(row_id) for row_id in after["rows"]}
        before = after


@pytest.mark.parametrize("engine", ENGINES)
def test_random_operation_sequences_keep_the_inventory_rules(engine: str, tmp_path: Path) -> None:
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
