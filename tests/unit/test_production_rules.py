"""Production's pure rules (server/rules/production.py) and the status order with WIP and expiry
(server/rules/status.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import Invalid, NotOnBom, RunNotOpen
from server.rules import production as rules
from server.rules.status import PoState, Status, StatusInputs, derive_status, is_expired


def test_wip_comes_after_installed_and_before_kitted_on_order_and_unavailable() -> None:
    assert derive_status(StatusInputs(on_open_run=True)) == Status.wip
    assert derive_status(StatusInputs(on_open_run=True, installed=True)) == Status.installed
    assert derive_status(StatusInputs(on_open_run=True, scrapped=True)) == Status.scrapped
    assert derive_status(StatusInputs(on_open_run=True, in_open_kit=True, po_state=PoState.open, isolated=True,
                                      expired=True, quantity=0)) == Status.wip


def test_an_expired_lot_is_unavailable_from_its_expiry_date() -> None:
    today = date(2026, 12, 3)
    assert [is_expired(day, today) for day in (today - timedelta(days=1), today, today + timedelta(days=1), None)] == [
        True, True, False, False]
    assert derive_status(StatusInputs(expired=True)) == Status.unavailable
    assert derive_status(StatusInputs(expired=True, po_state=PoState.open)) == Status.on_order


def test_the_bom_check() -> None:
    rules.check_on_bom("SCREW", "PUMP", 4, 3, 1)
    with pytest.raises(NotOnBom) as beyond:
        rules.check_on_bom("SCREW", "PUMP", 4, 3, 2)
    assert (beyond.value.field, beyond.value.extra) == ("quantity", {"bom_quantity": 4, "already": 3})
    with pytest.raises(NotOnBom) as absent:
        rules.check_on_bom("LABEL", "PUMP", None, 0, 1)
    assert absent.value.field == "part" and "not on the BOM of PUMP" in str(absent.value)


def test_bom_lines_list_each_component_once_never_the_assembly() -> None:
    rules.check_bom_lines([("A", 1), ("B", Decimal("0.5"))], "PUMP")
    for lines, field in (([("PUMP", 1)], "lines[0].part"), ([("A", 1), ("A", 2)], "lines[1].part"),
                         ([("A", 0)], "lines[0].quantity")):
        with pytest.raises(Invalid) as refused:
            rules.check_bom_lines(lines, "PUMP")
        assert refused.value.field == field


@pytest.mark.parametrize(("state", "action", "to"), [
    ("planned", "start", "open"), ("open", "complete", "completed"), ("open", "fail", "failed"),
    ("planned", "cancel", "cancelled"), ("open", "cancel", "cancelled"), ("failed", "cancel", "cancelled"),
])
def test_a_run_moves_on(state: str, action: str, to: str) -> None:
    assert rules.check_transition("R", state, action) == to


@pytest.mark.parametrize(("state", "action"), [
    ("open", "start"), ("planned", "complete"), ("failed", "complete"), ("completed", "cancel"), ("cancelled", "fail"),
])
def test_a_run_does_not_move_from_the_wrong_state(state: str, action: str) -> None:
    with pytest.raises(RunNotOpen) as refused:
        rules.check_transition("R", state, action)
    assert refused.value.extra == {"state": state}


def test_an_issue_reverses_demand_up_to_what_is_still_required() -> None:
    assert rules.demand_back(10, 0, 4) == 4
    assert rules.demand_back(10, 8, 4) == 2
    assert rules.demand_back(10, 12, 4) == 0
    assert rules.demand_back(Decimal("0.5"), Decimal("0.25"), Decimal("0.75")) == Decimal("0.25")


def test_fefo_takes_the_earliest_expiry_first_and_undated_last() -> None:
    late, soon, undated = (rules.Holding("L", date(2027, 5, 1), 5), rules.Holding("S", date(2027, 1, 1), 2),
                           rules.Holding("A", None, 10))
    assert [(h.lot, q) for h, q in rules.fefo([late, undated, soon], 6)] == [("S", 2), ("L", 4)]
    assert [(h.lot, q) for h, q in rules.fefo([late, undated, soon], 20)] == [("S", 2), ("L", 5), ("A", 10)]


@given(st.lists(st.tuples(st.integers(0, 9), st.one_of(st.none(), st.dates())), max_size=6), st.integers(0, 60))
def test_fefo_takes_what_it_can_never_more_and_in_expiry_order(held: list[tuple[int, date | None]], need: int) -> None:
    holdings = [rules.Holding(f"L{n}", expiry, quantity) for n, (quantity, expiry) in enumerate(held)]
    taken = rules.fefo(holdings, need)
    assert sum(q for _, q in taken) == min(need, sum(h.quantity for h in holdings))
    assert all(0 < q <= h.quantity for h, q in taken)
    keys = [(h.expiry is None, h.expiry or date.min) for h, _ in taken]
    assert keys == sorted(keys)


def test_what_a_completion_names_fits_the_parts_tracking() -> None:
    rules.check_built("serial", 2, ["A", "B"], None)
    rules.check_built("lot", Decimal("2.5"), None, "L-1")
    rules.check_built("untracked", 3, None, None)
    for args, field in ((("serial", 2, ["A"], None), "serials"), (("serial", 2, ["A", "A"], None), "serials"),
                        (("serial", 1, None, "L"), "lot"), (("lot", 1, ["A"], None), "serials"),
                        (("untracked", 1, None, "L"), "lot"), (("serial", Decimal("1.5"), None, None), "quantity")):
        with pytest.raises(Invalid) as refused:
            rules.check_built(*args)
        assert refused.value.field == field
