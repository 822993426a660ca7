"""The queues of phones that were offline for a shift: receives, moves, installs and counts, numbered
1, 2, 3 … per device, with the `depends_on` the phone app would give them, generated ahead of time so
that the server and the raw-SQL floor apply exactly the same ops.

`depends_on` follows the app (pwa/outbox.js): an op depends on the newest op of the same queue that
touched a row it builds on — a move on the op that put stock in its source row, an install on the ops
that last touched the unit and its parent, a count on the op that last touched the counted row.

Each device works in its own bins with its own serials and lots, so no device takes stock from another
and every op is valid when it arrives: any outcome other than `applied` is a bug (the benchmark checks).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# weights of the op kinds; a kind whose precondition is not met (nothing to move yet) becomes a receipt
MIX = {
    "receive_serial": 20,
    "receive_lot": 8,
    "receive_untracked": 7,
    "move_serial": 15,
    "move_lot": 8,
    "move_untracked": 7,
    "install_serial": 15,
    "count": 20,
}
CLIENT_TIME = "2026-11-23T09:14:03Z"


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # one of MIX (or count_serial / count_lot / count_untracked)
    body: dict[str, Any]  # the op as the phone pushes it


@dataclass
class _Device:
    index: int
    actor: str
    bins: list[str]
    rng: random.Random
    ops: list[Op] = field(default_factory=list)
    free_units: list[tuple[str, str]] = field(default_factory=list)  # (serial, part) not installed
    unit_location: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    lots: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (part, lot, location) -> quantity
    untracked: dict[tuple[str, str], int] = field(default_factory=dict)  # (part, location) -> quantity
    last_op: dict[Any, str] = field(default_factory=dict)  # row key -> op_id of the newest op on it
    counter: int = 0

    def next_name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.index:02d}-{self.counter:06d}"

    def relocate(self, serial: str, location: str) -> None:
        self.unit_location[serial] = location
        for child in self.children.get(serial, []):
            self.relocate(child, location)

    def add(self, kind: str, op_type: str, reads: list[Any], writes: list[Any], **args: Any) -> Op:
        """Queue an op that builds on the rows `reads` and changes the rows `writes`."""
        op_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        depends_on = sorted({self.last_op[key] for key in reads if key in self.last_op})
        body = {
            "op_id": op_id, "seq": len(self.ops) + 1, "type": op_type, "actor": self.actor,
            "client_time": CLIENT_TIME, "depends_on": depends_on, "args": args,
        }
        for key in writes:
            self.last_op[key] = op_id
        op = Op(kind, body)
        self.ops.append(op)
        return op


def generate(
    devices: int, ops_per_device: int, bins: list[str], parts: dict[str, list[str]], seed: int = 11, first: int = 0
) -> list[list[Op]]:
    """One queue per device. `bins`: location codes (shared out between devices); `parts`: part numbers
    by tracking type; `first`: the first device's number (serials and lots are named after it)."""
    kinds, weights = list(MIX), list(MIX.values())
    queues = []
    for d in range(first, first + devices):
        device = _Device(d, f"dev{d:02d}", bins[d - first :: devices], random.Random(seed * 1000 + d))
        while len(device.ops) < ops_per_device:
            _next(device, device.rng.choices(kinds, weights)[0], parts)
        queues.append(device.ops)
    return queues


def _unit(serial: str) -> tuple[str, str]:
    return ("unit", serial)


def _other_bin(d: _Device, source: str) -> str:
    return d.rng.choice([b for b in d.rng.sample(d.bins, 2) if b != source])


def _next(d: _Device, kind: str, parts: dict[str, list[str]]) -> Op:
    rng = d.rng
    if kind == "move_serial" and d.free_units:
        serial, part = rng.choice(d.free_units)
        source = d.unit_location[serial]
        target = _other_bin(d, source)
        d.relocate(serial, target)
        return d.add(kind, "move", [_unit(serial)], [_unit(serial)], part=part, tracking="serial", serial=serial,
                     from_location=source, to_location=target, quantity=1)
    if kind == "install_serial" and len(d.free_units) >= 2:
        (parent, _), (serial, part) = rng.sample(d.free_units, 2)
        source = d.unit_location[serial]
        d.free_units.remove((serial, part))
        d.children.setdefault(parent, []).append(serial)
        d.relocate(serial, d.unit_location[parent])
        return d.add(kind, "install", [_unit(serial), _unit(parent)], [_unit(serial)], parent_serial=parent,
                     part=part, tracking="serial", serial=serial, from_location=source, quantity=1)
    if kind == "move_lot":
        movable = [item for item in d.lots.items() if item[1] > 1]
        if movable:
            (part, lot, source), have = rng.choice(movable)
            quantity, target = rng.randint(1, have - 1), _other_bin(d, source)
            d.lots[(part, lot, source)] -= quantity
            d.lots[(part, lot, target)] = d.lots.get((part, lot, target), 0) + quantity
            return d.add(kind, "move", [(part, lot, source)], [(part, lot, source), (part, lot, target)], part=part,
                         tracking="lot", lot=lot, from_location=source, to_location=target, quantity=quantity)
    if kind == "move_untracked":
        movable = [item for item in d.untracked.items() if item[1] > 1]
        if movable:
            (part, source), have = rng.choice(movable)
            quantity, target = rng.randint(1, have - 1), _other_bin(d, source)
            d.untracked[(part, source)] -= quantity
            d.untracked[(part, target)] = d.untracked.get((part, target), 0) + quantity
            return d.add(kind, "move", [(part, None, source)], [(part, None, source), (part, None, target)],
                         part=part, tracking="untracked", from_location=source, to_location=target, quantity=quantity)
    if kind == "count" and (d.free_units or d.lots or d.untracked):
        return _count(d)
    if kind == "receive_lot":
        part, lot, location, quantity = rng.choice(parts["lot"]), d.next_name("LOT"), rng.choice(d.bins), rng.randint(10, 500)
        d.lots[(part, lot, location)] = quantity
        return d.add(kind, "receive", [], [(part, lot, location)], part=part, tracking="lot", lot=lot,
                     location=location, quantity=quantity, unit_cost=round(rng.uniform(0.5, 50), 2))
    if kind == "receive_untracked":
        part, location, quantity = rng.choice(parts["untracked"]), rng.choice(d.bins), rng.randint(10, 500)
        d.untracked[(part, location)] = d.untracked.get((part, location), 0) + quantity
        return d.add(kind, "receive", [], [(part, None, location)], part=part, tracking="untracked",
                     location=location, quantity=quantity, unit_cost=round(rng.uniform(0.01, 5), 2))
    part, serial, location = rng.choice(parts["serial"]), d.next_name("SN"), rng.choice(d.bins)
    d.free_units.append((serial, part))
    d.unit_location[serial] = location
    return d.add("receive_serial", "receive", [], [_unit(serial)], part=part, tracking="serial", serial=serial,
                 location=location, quantity=1, unit_cost=round(rng.uniform(10, 900), 2))


def _count(d: _Device) -> Op:
    """A cycle-count line of stock the device holds, counted right (a count moves nothing)."""
    rng = d.rng
    pools = [name for name, pool in (("serial", d.free_units), ("lot", d.lots), ("untracked", d.untracked)) if pool]
    tracking = rng.choice(pools)
    if tracking == "serial":
        serial, part = rng.choice(d.free_units)
        return d.add("count_serial", "count", [_unit(serial)], [], part=part, tracking="serial", serial=serial,
                     location=d.unit_location[serial], counted_quantity=1)
    if tracking == "lot":
        (part, lot, location), have = rng.choice(list(d.lots.items()))
        return d.add("count_lot", "count", [(part, lot, location)], [], part=part, tracking="lot", lot=lot,
                     location=location, counted_quantity=have)
    (part, location), have = rng.choice(list(d.untracked.items()))
    return d.add("count_untracked", "count", [(part, None, location)], [], part=part, tracking="untracked",
                 location=location, counted_quantity=have)
