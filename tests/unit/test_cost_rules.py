"""FIFO consumption of cost layers and the moving average price (server/rules/costs.py), exact to the cent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.rules.costs import Held, Layer, fifo_take, fifo_value, moving_average, spread, take_oldest
from server.rules.money import times

D = Decimal


def test_the_specs_example_60_at_2_10_and_50_at_2_00_then_70_used() -> None:
    average = moving_average(0, None, 60, D("2.10"))
    assert average == D("2.10")
    average = moving_average(60, average, 50, D("2.00"))
    assert average == D("2.054545")  # 226.00 / 110 = 2.0545454…, half to even at 6 places
    used = fifo_take([Layer(1, 60, D("2.10")), Layer(2, 50, D("2.00"))], 70, average)
    assert used.cost == D("146.00")  # 60 × 2.10 + 10 × 2.00
    assert [(t.layer_id, t.quantity, t.left) for t in used.taken] == [(1, 60, 0), (2, 10, 40)]
    assert used.uncovered == 0
    assert fifo_value([Layer(2, 40, D("2.00"))]) == D("80.00")


def test_money_stays_exact_point_one_plus_point_two() -> None:
    average = moving_average(1, D("0.1"), 1, D("0.2"))
    assert average == D("0.15")
    used = fifo_take([Layer(1, 1, D("0.1")), Layer(2, 1, D("0.2"))], 2, average)
    assert used.cost == D("0.3")
    assert fifo_value([Layer(1, D("0.5"), D("0.1")), Layer(2, D("0.5"), D("0.2"))]) == D("0.15")


def test_what_no_layer_holds_is_costed_at_the_average_price() -> None:
    used = fifo_take([Layer(1, 2, D("1.00"))], 5, D("3.00"))
    assert used.uncovered == 3 and used.cost == D("11.00")
    assert fifo_take([], 2, None).cost == 0


def test_a_layer_at_the_average_leaves_the_average_as_it_is() -> None:
    assert moving_average(40, D("2.054545"), 5, D("2.054545")) == D("2.054545")
    assert moving_average(0, D("9.99"), 3, D("1.00")) == D("1.00")  # nothing held: the new cost


def test_built_stock_spreads_its_cost_evenly_with_the_remainder_on_the_last_unit() -> None:
    assert spread(D("10.00"), 3) == [(2, D("3.333333")), (1, D("3.333334"))]
    assert spread(D("12.60"), 3) == [(3, D("4.2"))]
    assert spread(D("0.000001"), 2) == [(1, D("0")), (1, D("0.000001"))]
    assert spread(D("7.00"), 1) == [(1, D("7.00"))]
    assert spread(D("10.00"), D("2.5")) == [(D("2.5"), D("4.000000"))]
    assert spread(D("5.00"), 0) == []


@settings(max_examples=200)
@given(st.decimals(D("0"), D("99999"), places=6), st.integers(1, 1000))
def test_built_stock_is_worth_exactly_what_it_consumed(value: Decimal, quantity: int) -> None:
    pieces = spread(value, quantity)
    assert sum(q for q, _ in pieces) == quantity
    assert sum(times(q, c) for q, c in pieces) == value
    assert all(c == c.quantize(D("0.000001")) for _, c in pieces)


def test_stock_leaving_a_row_takes_the_rows_oldest_holdings() -> None:
    held = [Held("h1", "old", 60, D("2.10")), Held("h2", "new", 50, D("2.00"))]
    assert [(h.layer_id, q) for h, q in take_oldest(held, 70)] == [("old", 60), ("new", 10)]
    assert [(h.layer_id, q) for h, q in take_oldest(held, 200)] == [("old", 60), ("new", 50)]  # no more than held


QUANTITIES = st.integers(1, 50) | st.decimals(D("0.01"), D("50"), places=2)
COSTS = st.decimals(D("0"), D("100"), places=2)


@settings(max_examples=200)
@given(st.lists(st.tuples(QUANTITIES, COSTS), min_size=1, max_size=8), st.data())
def test_fifo_cost_plus_what_is_left_is_what_came(received: list[tuple[Decimal, Decimal]], data: st.DataObject) -> None:
    layers = [Layer(i, q, c) for i, (q, c) in enumerate(received)]
    held = sum(q for q, _ in received)
    taken = data.draw(st.decimals(D("0.01"), held, places=2))
    used = fifo_take(layers, taken, None)
    left = {t.layer_id: t.left for t in used.taken}
    rest = [Layer(layer.id, left.get(layer.id, layer.remaining), layer.unit_cost) for layer in layers]
    assert used.uncovered == 0
    assert used.cost + fifo_value(rest) == sum(times(q, c) for q, c in received)
    assert sum(layer.remaining for layer in rest) == held - taken
    # oldest first: every layer before the last one touched is empty
    touched = [t.layer_id for t in used.taken]
    assert all(rest[i].remaining == 0 for i in range(max(touched)))
