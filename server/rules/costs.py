"""What stock cost, as pure functions: the unit cost of a receipt (purchasing-and-costs.md, "Incoming goods"),
FIFO consumption of cost layers and the moving average price ("Cost layers"). server/ops/costs.py loads the
layers, calls these and writes what they decided."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from server.errors import Invalid
from server.rules.money import EXACT, QUANTUM, exact, money_text, parse_money, times, total
from server.rules.quantities import Number, canon


def receipt_unit_cost(quantity: int, unit_cost: Decimal | None, package_price: Decimal | None) -> Decimal | None:
    """The unit cost of `quantity` received: the package price (of the whole booking) over the quantity,
    rounded half to even to 6 places, or the unit cost given; both must agree (to the 6 places), else Invalid
    naming them. None when neither is given."""
    unit = None if unit_cost is None else parse_money(unit_cost, "unit_cost")
    if package_price is None:
        return unit
    price = parse_money(package_price, "package_price")
    per_unit = exact(EXACT.divide(price, Decimal(quantity)))
    if unit is not None and unit != per_unit:
        raise Invalid(
            f"package_price {money_text(price)} for {quantity} is {money_text(per_unit)} a unit, "
            f"not the unit_cost {money_text(unit)}: give one of them, or both alike",
            field="package_price",
        )
    return per_unit


# ---- cost layers, FIFO and the moving average price (purchasing-and-costs.md, "Cost layers") ----------
@dataclass(frozen=True, slots=True)
class Layer:
    """What the rules read of a cost layer: how much of it is left, at what unit cost."""

    id: Any
    remaining: Number
    unit_cost: Decimal


@dataclass(frozen=True, slots=True)
class Held:
    """What a stock row holds of one layer (server/ops/holdings.py): the holding, its layer, how much, at what
    unit cost."""

    id: Any
    layer_id: Any
    quantity: Number
    unit_cost: Decimal


def take_oldest(held: Sequence[Held], quantity: Number) -> list[tuple[Held, Number]]:
    """`quantity` of a row's holdings (oldest first, as given): each gives what it has until the quantity is
    taken, (holding, how much of it). Less when the row holds less."""
    used = fifo_take([Layer(piece, piece.quantity, piece.unit_cost) for piece in held], quantity, None)
    return [(piece.layer_id, piece.quantity) for piece in used.taken]


@dataclass(frozen=True, slots=True)
class Taken:
    """How much a consumption took of one layer, and what is left of it."""

    layer_id: Any
    quantity: Number
    unit_cost: Decimal
    left: Number


@dataclass(frozen=True, slots=True)
class Consumption:
    """What FIFO took (`taken`, oldest layer first) and its cost. `uncovered`: the quantity no layer held
    (stock older than the layers: costed at the part's average price), 0 when the invariant holds."""

    taken: tuple[Taken, ...]
    uncovered: Number
    cost: Decimal


def fifo_take(layers: Sequence[Layer], quantity: Number, average: Decimal | None) -> Consumption:
    """Take `quantity` from `layers` (oldest first, as given): each layer gives what it has left until the
    quantity is taken. The cost is Σ taken × unit cost (exact), plus what no layer held at `average` (0 without
    one), rounded half to even to 6 places."""
    rest = quantity
    taken: list[Taken] = []
    for layer in layers:
        if rest <= 0:
            break
        if layer.remaining <= 0:
            continue
        share = min(layer.remaining, rest)
        taken.append(Taken(layer.id, canon(share), layer.unit_cost, canon(layer.remaining - share)))
        rest = canon(rest - share)
    amounts = [times(piece.quantity, piece.unit_cost) for piece in taken]
    if rest > 0:
        amounts.append(times(rest, average or Decimal(0)))
    return Consumption(tuple(taken), canon(rest), exact(total(amounts)))


def moving_average(held: Number, average: Decimal | None, quantity: Number, unit_cost: Decimal) -> Decimal:
    """The part's average price after `quantity` at `unit_cost` came to the `held` it had at `average`: the
    weighted average of the two, to 6 places (rounded half to even). With nothing held (or no average yet)
    the new stock's cost."""
    if average is None or held <= 0:
        return exact(unit_cost)
    value = total([times(held, average), times(quantity, unit_cost)])
    return exact(EXACT.divide(value, EXACT.add(Decimal(held), Decimal(quantity))))


def fifo_value(layers: Iterable[Layer]) -> Decimal:
    """Σ remaining × unit cost of the layers, exact (rounded to 6 places only if finer)."""
    return exact(total(times(layer.remaining, layer.unit_cost) for layer in layers))


def spread(value: Decimal, quantity: Number) -> list[tuple[Number, Decimal]]:
    """What `quantity` built for `value` costs a unit (docs/costs.md, "Built stock"): (quantity, unit cost) pieces
    whose Σ quantity × unit cost is `value`. Evenly, to 6 places rounded down, with the remainder on the last
    unit: 10.00 for 3 is 2 at 3.333333 and 1 at 3.333334. A quantity of one unit or less, or one that is not
    whole, is one piece at value / quantity (to 6 places)."""
    if quantity <= 0:
        return []
    even = EXACT.divide(value, Decimal(quantity)).quantize(QUANTUM, rounding=ROUND_DOWN, context=EXACT)
    if times(quantity, even) == value:
        return [(quantity, even)]
    if quantity <= 1 or quantity != int(quantity):
        return [(quantity, exact(EXACT.divide(value, Decimal(quantity))))]
    rest = canon(quantity - 1)
    return [(rest, even), (1, exact(EXACT.subtract(value, times(rest, even))))]
