"""Production's rules as pure functions (docs/production.md): BOM lines and the install check, a run's life
cycle, how much demand an issue reverses, which lots a completion consumes first (FEFO).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.errors import Invalid, NotOnBom, RunNotOpen
from server.models import canon
from server.rules.quantities import Number

# action → the states a run may be in for it, and the state it goes to
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": (("planned",), "open"),
    "complete": (("open",), "completed"),
    "fail": (("open",), "failed"),
    "cancel": (("planned", "open", "failed"), "cancelled"),
}
DONE = {"start": "started", "complete": "completed", "fail": "failed", "cancel": "cancelled"}


def check_bom_lines(lines: Sequence[tuple[str, Number]], parent: str) -> None:
    """A BOM lists each component once, never the assembly itself. `lines`: (part number, quantity)."""
    seen: set[str] = set()
    for index, (part, quantity) in enumerate(lines):
        if part == parent:
            raise Invalid(f"lines[{index}].part: {parent} cannot be built of itself", field=f"lines[{index}].part")
        if part in seen:
            raise Invalid(f"lines[{index}].part: {part} is listed twice; give one line with the total quantity",
                          field=f"lines[{index}].part")
        if quantity <= 0:
            raise Invalid(f"lines[{index}].quantity: more than 0", field=f"lines[{index}].quantity")
        seen.add(part)


def check_on_bom(component: str, assembly: str, allowed: Number | None, already: Number, quantity: Number,
                 field: str = "part") -> None:
    """An assembly with a BOM takes a component only as the BOM lists it: `allowed` per assembly (None: the
    component is not on it), `already` installed in this one."""
    if allowed is None:
        raise NotOnBom(f"{component} is not on the BOM of {assembly}", field=field, bom_quantity=0, already=already)
    if already + quantity > allowed:
        raise NotOnBom(
            f"{assembly}'s BOM takes {allowed} of {component}; it has {already}, this adds {quantity}",
            field="quantity", bom_quantity=allowed, already=already,
        )


def check_transition(number: str, state: str, action: str) -> str:
    """The state `action` moves the run to, or RunNotOpen saying why not."""
    allowed, to = TRANSITIONS[action]
    if state not in allowed:
        raise RunNotOpen(f"Run {number} is {state}: it cannot be {DONE[action]}", field="state", state=state)
    return to


def check_open(number: str, state: str, field: str = "run") -> None:
    """Stock is issued to, and built by, an open run only."""
    if state != "open":
        raise RunNotOpen(f"Run {number} is {state}, not open", field=field, state=state)


def demand_back(required: Number, issued_before: Number, quantity: Number) -> Number:
    """How much of a run's demand an issue of `quantity` reverses: what was still required, at most."""
    return canon(max(0, min(quantity, required - issued_before)))


def remaining(required: Number, done: Number) -> Number:
    return canon(max(0, required - done))


@dataclass(frozen=True, slots=True)
class Holding:
    """Stock a completion may consume: a row's lot, expiry and quantity (`ref`: the caller's row)."""

    lot: str | None
    expiry: date | None
    quantity: Number
    ref: Any = None


def fefo(holdings: Sequence[Holding], need: Number) -> list[tuple[Holding, Number]]:
    """What to take of `need` from these holdings: first expired first out (the earliest expiry first, those
    without one last, then by lot), each as much as it holds. Takes less than `need` only if they hold less."""
    order = sorted(holdings, key=lambda h: (h.expiry is None, h.expiry or date.min, h.lot or ""))
    taken: list[tuple[Holding, Number]] = []
    left = need
    for holding in order:
        if left <= 0:
            break
        amount = min(holding.quantity, left)
        if amount > 0:
            taken.append((holding, canon(amount)))
            left -= amount
    return taken


def check_built(tracking: str, quantity: Number, serials: Sequence[str] | None, lot: str | None) -> None:
    """A completion names serials only for a serialized part (one per unit, none twice), a lot only for a
    lot-tracked one."""
    if tracking == "serial":
        if quantity != int(quantity):
            raise Invalid("quantity: a serialized part is built in whole units", field="quantity")
        if lot is not None:
            raise Invalid("lot: a serialized part is built as units: give serials, not a lot", field="lot")
        if serials is not None:
            if len(serials) != quantity:
                raise Invalid(f"serials: {len(serials)} serials for {quantity} units", field="serials")
            if len(set(serials)) != len(serials):
                raise Invalid("serials: a serial is listed twice", field="serials")
    elif serials:
        raise Invalid(f"serials: the part is tracked by {tracking}, not by serial", field="serials")
    elif lot is not None and tracking != "lot":
        raise Invalid("lot: the part is not lot-tracked", field="lot")
