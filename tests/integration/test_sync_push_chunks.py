"""Push in chunks and runs (sync/push.py): a batch cut into small chunks and optimistic runs gets the same
answers and leaves the same stock as the same ops pushed one at a time; a chunk whose commit fails reports
none of its ops; the ops of a chunk take consecutive versions in seq order."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.clock import CLOCK
from server.counts.models import CountLine
from server.db import Database
from server.models import Counter, Location
from sync.models import SyncOp
import sync.push
from tests.conftest import Api
from tests.integration.sync_helpers import Phone, by_seq, phone, shop, untracked_at  # noqa: F401 - fixtures


def shift(phone: Phone, site: str) -> list[dict[str, Any]]:
    """A shift's queue at `site` (its own locations and serials): mostly ops that apply, with ops that are
    held, rejected or that depend on those in between, so that runs of ops fail in their middle."""
    here = {name: f"{site}-{name}" for name in ("A", "B", "C")}
    ops: list[dict[str, Any]] = []

    def op(op_type: str, depends_on: list[dict[str, Any]] | None = None, **args: Any) -> dict[str, Any]:
        ops.append(phone.op(op_type, depends_on=depends_on, **args))
        return ops[-1]

    untracked = {"part": "PN-U", "tracking": "untracked"}
    for n in range(6):
        received = op("receive", **untracked, location=here["A"], quantity=10)
        op("move", [received], **untracked, from_location=here["A"], to_location=here["B"], quantity=3)
        unit = op("receive", part="PN-S", tracking="serial", location=here["A"], quantity=1, serial=f"{site}-SN-{n}")
        op("move", [unit], part="PN-S", tracking="serial", serial=f"{site}-SN-{n}", from_location=here["A"],
           to_location=here["C"], quantity=1)
        if n % 2:
            held = op("move", **untracked, from_location=here["C"], to_location=here["B"], quantity=1000)
            op("scrap", [held], **untracked, location=here["B"], quantity=1, reason="waits for the held move")
        if n % 3 == 1:
            op("receive", part="PN-S", tracking="serial", location=here["B"], quantity=1, serial=f"{site}-SN-{n}")
            bad = op("receive", **untracked, location=f"{site}-NOWHERE", quantity=1)
            op("move", [bad], **untracked, from_location=here["B"], to_location=here["A"], quantity=1)
        op("count", **untracked, location=here["B"], counted_quantity=7)
        # an assembly: a unit installed into a parent received in the same run, the parent moved (its
        # component follows) and counted where it now is, and every other time the component taken off again
        serial, parent = f"{site}-SN-{n}", f"{site}-ASM-{n}"
        asm = op("receive", part="PN-ASM", tracking="serial", location=here["C"], quantity=1, serial=parent)
        op("install", [asm, unit], parent_serial=parent, part="PN-S", tracking="serial", serial=serial,
           from_location=here["C"], quantity=1)
        op("move", [asm], part="PN-ASM", tracking="serial", serial=parent, from_location=here["C"],
           to_location=here["B"], quantity=1)
        op("count", part="PN-ASM", tracking="serial", serial=parent, location=here["B"], counted_quantity=1)
        if n % 2 == 0:
            op("uninstall", parent_serial=parent, part="PN-S", tracking="serial", serial=serial,
               to_location=here["A"], quantity=1)
        # a component received just before its parent and installed at once: neither row written yet in a run
        component, second = f"{site}-CMP-{n}", f"{site}-ASM2-{n}"
        received = op("receive", part="PN-S", tracking="serial", location=here["C"], quantity=1, serial=component)
        asm = op("receive", part="PN-ASM", tracking="serial", location=here["C"], quantity=1, serial=second)
        op("install", [asm, received], parent_serial=second, part="PN-S", tracking="serial", serial=component,
           from_location=here["C"], quantity=1)
        lot = op("receive", part="PN-L", tracking="lot", lot=f"L{n}", location=here["A"], quantity=20, unit_cost=2.5)
        op("move", [lot], part="PN-L", tracking="lot", lot=f"L{n}", from_location=here["A"], to_location=here["C"],
           quantity=5)
        op("isolate", part="PN-L", tracking="lot", lot=f"L{n}", location=here["C"], quantity=2, reason="inspect")
        op("count", part="PN-L", tracking="lot", lot=f"L{n}", location=here["C"], counted_quantity=4)
    return ops


def outcomes(bodies: list[dict[str, Any]]) -> list[tuple[int, str, str | None]]:
    return [(r["seq"], r["status"], r.get("reason")) for body in bodies for r in body["results"]]


async def count_lines_at(db: Database, site: str) -> dict[tuple[str, str], tuple[int, int]]:
    """{(serial or lot, location): (expected, counted)} of the count lines of serials and lots at `site`."""
    found = {}
    async with db.read() as session:
        rows = await session.execute(
            select(CountLine.serial, CountLine.lot, Location.code, CountLine.expected_quantity, CountLine.counted_quantity)
            .join(Location, Location.id == CountLine.location_id)
            .where(Location.code.startswith(f"{site}-"), (CountLine.serial.is_not(None)) | (CountLine.lot.is_not(None)))
        )
        for serial, lot, code, expected, counted in rows:
            found[((serial or "")[2:] or lot, code)] = (expected, counted)
    return found


async def sites(api: Api, *names: str) -> None:
    for site in names:
        for code in ("A", "B", "C"):
            await api.location(f"{site}-{code}")


async def test_a_batch_in_small_chunks_and_runs_answers_as_ops_pushed_one_by_one(
    db: Database, shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync.push, "CHUNK_OPS", 7)
    monkeypatch.setattr(sync.push, "RUN_MAX", 4)
    await sites(shop, "X", "Y")
    batched, single = await Phone.sign_in(shop), await Phone.sign_in(shop)
    x_ops, y_ops = shift(batched, "X"), shift(single, "Y")
    assert len(x_ops) > 4 * 7

    together = await batched.push(*x_ops)
    one_by_one = [await single.push(op) for op in y_ops]
    assert together["stopped"] is None and together["last_seq"] == len(x_ops)
    assert outcomes([together]) == outcomes(one_by_one)
    assert {status for _, status, _ in outcomes([together])} == {"applied", "held", "rejected"}
    stock = await untracked_at(shop)
    assert {k[2:]: v for k, v in stock.items() if k.startswith("X-")} == {k[2:]: v for k, v in stock.items()
                                                                            if k.startswith("Y-")}
    units = {item["serial"][2:]: (item["location"][2:], item["status"]) for item in await shop.items(part="PN-S")}
    assert units == {
        **{f"SN-{n}": ("A", "available") if n % 2 == 0 else ("B", "installed") for n in range(6)},
        **{f"CMP-{n}": ("C", "installed") for n in range(6)},
    }
    parents = {item["serial"][2:]: item["location"][2:] for item in await shop.items(part="PN-ASM")}
    assert parents == {**{f"ASM-{n}": "B" for n in range(6)}, **{f"ASM2-{n}": "C" for n in range(6)}}
    lots = {(item["lot"], item["location"][:1], item["location"][2:], item["status"]): item["quantity"]
            for item in await shop.items(part="PN-L")}
    assert lots == {(f"L{n}", site, place, status): q for n in range(6) for site in "XY"
                    for place, status, q in (("A", "available", 15), ("C", "available", 3), ("C", "unavailable", 2))}
    for site in "XY":  # the counts saw what the server held at that point: the assembly, and 5 of each lot there
        # (3 free, 2 isolated)
        lines = await count_lines_at(db, site)
        assert lines == {**{(f"ASM-{n}", f"{site}-B"): (1, 1) for n in range(6)},
                         **{(f"L{n}", f"{site}-C"): (5, 4) for n in range(6)}}


async def test_a_chunk_whose_commit_fails_reports_none_of_its_ops(
    shop: Api, phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync.push, "CHUNK_OPS", 3)
    real, calls = sync.push.Chunk.finish, []

    async def finish_then_fail(self: sync.push.Chunk, last_seq: int) -> None:
        calls.append(last_seq)
        await real(self, last_seq)
        if len(calls) == 2:  # the second chunk's writes are all there; the commit is what fails
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(sync.push.Chunk, "finish", finish_then_fail)
    await sites(shop, "Z")
    ops = [phone.op("receive", part="PN-U", tracking="untracked", location="Z-A", quantity=q) for q in (1, 2, 4, 8, 16)]
    body = await phone.push(*ops)
    assert body["stopped"] == {"reason": "retry_later"}
    assert [r["seq"] for r in body["results"]] == [1, 2, 3] and body["last_seq"] == 3
    assert await untracked_at(shop) == {"Z-A": 7}

    monkeypatch.setattr(sync.push.Chunk, "finish", real)
    again = await phone.push(*ops)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3 + ["applied"] * 2
    assert await untracked_at(shop) == {"Z-A": 31}


async def test_the_ops_of_a_chunk_take_consecutive_versions_in_seq_order(db: Database, shop: Api, phone: Phone) -> None:
    await sites(shop, "V")
    cursor = (await phone.pull())["cursor"]
    ops = [phone.op("receive", part="PN-U", tracking="untracked", location="V-A", quantity=1) for _ in range(5)]
    ops.append(phone.op("move", part="PN-U", tracking="untracked", from_location="V-A", to_location="NOWHERE",
                        quantity=1))
    assert [r["status"] for r in by_seq(await phone.push(*ops)).values()] == ["applied"] * 5 + ["rejected"]
    async with db.read() as session:
        versions = list(await session.scalars(select(SyncOp.version).order_by(SyncOp.seq)))
        clock = await session.scalar(select(Counter.value).where(Counter.key == CLOCK))
    assert versions == list(range(versions[0], versions[0] + 6)) and clock == versions[-1]
    page = await phone.pull(cursor)
    # one row, last changed by the 5th op; the part with its average price, at its newest cost layer's version (a
    # late chunk on PostgreSQL stamps layers with provisional versions first, then the real ones)
    assert [(c["entity"], c["version"]) for c in page["changes"]] == [("inventory", versions[4]), ("part", versions[4])]
    assert page["cursor"].endswith(f".{clock}")
