"""A mixed receive / move / install workload, generated ahead of time so that the server and the raw-SQL
floor apply exactly the same operations.

Each client works on its own share of the bins and its own serials and lots, so concurrent clients
never take stock from each other and every op is valid when it arrives (any refusal is a bug).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# weights of the op kinds; a kind whose precondition is not met (nothing to move yet) becomes a receipt
MIX = {
    "receive_serial": 25,
    "receive_lot": 10,
    "receive_untracked": 10,
    "move_serial": 20,
    "move_lot": 10,
    "move_untracked": 10,
    "install_serial": 15,
}


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # one of MIX
    body: dict[str, Any]  # the POST /api/ops body


@dataclass
class _Client:
    index: int
    bins: list[str]
    rng: random.Random
    free_units: list[tuple[str, str]] = field(default_factory=list)  # (serial, part) not installed
    unit_location: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    lots: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (part, lot, location) -> quantity
    untracked: dict[tuple[str, str], int] = field(default_factory=dict)  # (part, location) -> quantity
    counter: int = 0

    def next_name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.index:02d}-{self.counter:06d}"

    def relocate(self, serial: str, location: str) -> None:
        self.unit_location[serial] = location
        for child in self.children.get(serial, []):
            self.relocate(child, location)


def _op(kind: str, op_type: str, **args: Any) -> Op:
    return Op(kind, {"op_id": str(uuid.uuid4()), "type": op_type, "args": args})


def generate(
    clients: int, ops_per_client: int, bins: list[str], parts: dict[str, list[str]], seed: int = 7
) -> list[list[Op]]:
    """`clients` lists of ops. `bins`: location codes; `parts`: part numbers by tracking type."""
    kinds, weights = list(MIX), list(MIX.values())
    plans = []
    for c in range(clients):
        state = _Client(c, bins[c::clients], random.Random(seed * 1000 + c))
        plans.append([_next(state, state.rng.choices(kinds, weights)[0], parts) for _ in range(ops_per_client)])
    return plans


def _next(s: _Client, kind: str, parts: dict[str, list[str]]) -> Op:
    rng = s.rng
    if kind == "move_serial" and s.free_units:
        serial, part = rng.choice(s.free_units)
        source = s.unit_location[serial]
        target = rng.choice([b for b in rng.sample(s.bins, 2) if b != source])
        s.relocate(serial, target)
        return _op(kind, "move", part=part, tracking="serial", serial=serial, from_location=source,
                   to_location=target, quantity=1)
    if kind == "install_serial" and len(s.free_units) >= 2:
        (parent, _), (serial, part) = rng.sample(s.free_units, 2)
        source = s.unit_location[serial]
        s.free_units.remove((serial, part))
        s.children.setdefault(parent, []).append(serial)
        s.relocate(serial, s.unit_location[parent])
        return _op(kind, "install", parent_serial=parent, part=part, tracking="serial", serial=serial,
                   from_location=source, quantity=1)
    if kind == "move_lot" and s.lots:
        (part, lot, source), have = rng.choice([item for item in s.lots.items() if item[1] > 1] or [(None, 0)])
        if have > 1:
            quantity = rng.randint(1, have - 1)
            target = rng.choice([b for b in rng.sample(s.bins, 2) if b != source])
            s.lots[(part, lot, source)] -= quantity
            s.lots[(part, lot, target)] = s.lots.get((part, lot, target), 0) + quantity
            return _op(kind, "move", part=part, tracking="lot", lot=lot, from_location=source, to_location=target,
                       quantity=quantity)
    if kind == "move_untracked" and s.untracked:
        (part, source), have = rng.choice([item for item in s.untracked.items() if item[1] > 1] or [(None, 0)])
        if have > 1:
            quantity = rng.randint(1, have - 1)
            target = rng.choice([b for b in rng.sample(s.bins, 2) if b != source])
            s.untracked[(part, source)] -= quantity
            s.untracked[(part, target)] = s.untracked.get((part, target), 0) + quantity
            return _op(kind, "move", part=part, tracking="untracked", from_location=source, to_location=target,
                       quantity=quantity)
    if kind == "receive_lot":
        part, lot, location, quantity = rng.choice(parts["lot"]), s.next_name("LOT"), rng.choice(s.bins), rng.randint(10, 500)
        s.lots[(part, lot, location)] = quantity
        return _op(kind, "receive", part=part, tracking="lot", lot=lot, location=location, quantity=quantity,
                   unit_cost=round(rng.uniform(0.5, 50), 2))
    if kind == "receive_untracked":
        part, location, quantity = rng.choice(parts["untracked"]), rng.choice(s.bins), rng.randint(10, 500)
        s.untracked[(part, location)] = s.untracked.get((part, location), 0) + quantity
        return _op(kind, "receive", part=part, tracking="untracked", location=location, quantity=quantity,
                   unit_cost=round(rng.uniform(0.01, 5), 2))
    part, serial, location = rng.choice(parts["serial"]), s.next_name("SN"), rng.choice(s.bins)
    s.free_units.append((serial, part))
    s.unit_location[serial] = location
    return _op("receive_serial", "receive", part=part, tracking="serial", serial=serial, location=location,
               quantity=1, unit_cost=round(rng.uniform(10, 900), 2))
