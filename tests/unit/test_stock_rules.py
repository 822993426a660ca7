"""Stock rules (server/rules/stock.py): what an op may do to the rows it names, decided without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import (
    AlreadyInstalled,
    Forbidden,
    InsufficientQuantity,
    Invalid,
    LocationLocked,
    StaleLocation,
    TrackingMismatch,
)
from server.rules import stock as rules
from server.rules.stock import UnitAdjustment, Unusable

HERE, THERE = uuid4(), uuid4()


@dataclass
class Unit:
    serial: str = "SN-1"
    quantity: int = 1
    location_id: UUID = HERE
    installed_in_id: UUID | None = None
    scrapped: bool = False
    removed: bool = False
    isolated: bool = False
    po_state: str | None = None
    id: UUID = field(default_factory=uuid4)


# ---- naming stock ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("serial", "lot", "named"), [("S", None, "serial"), ("S", "L", "serial"), (None, "L", "lot"), (None, None, None)]
)
def test_an_op_names_serial_lot_or_neither(serial: str | None, lot: str | None, named: str | None) -> None:
    assert rules.named_tracking(serial, lot) == named


@pytest.mark.parametrize(("tracking", "field"), [("serial", "serial"), ("lot", "lot")])
def test_a_tracked_part_without_untracked_rows_needs_its_identifier(tracking: str, field: str) -> None:
    with pytest.raises(TrackingMismatch) as caught:
        rules.check_untracked_rows("P-1", tracking, has_untracked_rows=False)
    assert caught.value.field == field
    assert caught.value.message == f"P-1 is {tracking}-tracked: name the {field}"


@pytest.mark.parametrize("tracking", ["serial", "lot", "untracked"])
def test_untracked_rows_left_from_a_switch_are_named_by_neither(tracking: str) -> None:
    rules.check_untracked_rows("P-1", tracking, has_untracked_rows=True)
    rules.check_untracked_rows("P-1", "untracked", has_untracked_rows=False)


def test_a_serial_of_another_part_is_refused_naming_both_parts() -> None:
    rules.check_same_part("SN-1", "P-1", "P-1")
    with pytest.raises(TrackingMismatch, match="Serial SN-1 is a P-2, not a P-1") as caught:
        rules.check_same_part("SN-1", "P-2", "P-1")
    assert caught.value.field == "serial"


# ---- free stock -----------------------------------------------------------------------------------
def test_a_free_unit_at_the_named_location_is_usable() -> None:
    assert rules.unusable(Unit(), HERE, isolated_ok=False) is None
    assert rules.unusable(Unit(), None, isolated_ok=False) is None
    assert rules.unusable(Unit(isolated=True), HERE, isolated_ok=True) is None


@pytest.mark.parametrize(
    ("unit", "why"),
    [
        (Unit(installed_in_id=uuid4(), scrapped=True, location_id=THERE), Unusable.installed),
        (Unit(scrapped=True, quantity=0, isolated=True), Unusable.scrapped),
        (Unit(po_state="open", isolated=True, location_id=THERE), Unusable.on_order),
        (Unit(po_state="cancelled", quantity=0, location_id=THERE), Unusable.order_cancelled),
        (Unit(quantity=0, isolated=True, location_id=THERE), Unusable.written_off),
        (Unit(isolated=True, location_id=THERE), Unusable.isolated),
        (Unit(location_id=THERE), Unusable.elsewhere),
    ],
)
def test_the_first_reason_a_unit_is_not_free_stock_decides(unit: Unit, why: Unusable) -> None:
    assert rules.unusable(unit, HERE, isolated_ok=False) == why


def test_each_refusal_is_worded_with_its_reason_and_field() -> None:
    installed = rules.refuse_unusable(Unusable.installed, "SN-1", holder="ASM-9")
    assert (type(installed), installed.message) == (StaleLocation, "SN-1 is installed in ASM-9: uninstall it first")
    elsewhere = rules.refuse_unusable(Unusable.elsewhere, "SN-1", actual="B-2", expected="A-1")
    assert (type(elsewhere), elsewhere.message, elsewhere.extra) == (
        StaleLocation, "SN-1 is at B-2, not A-1", {"actual_location": "B-2"}
    )
    for why, text in [(Unusable.scrapped, "SN-1 is scrapped"), (Unusable.written_off, "SN-1 is written off"),
                      (Unusable.on_order, "SN-1 is on order, not received"),
                      (Unusable.isolated, "SN-1 is isolated: release it first")]:
        error = rules.refuse_unusable(why, "SN-1")
        assert (type(error), error.message, error.field, error.extra) == (
            InsufficientQuantity, text, "serial", {"available": 0}
        )


def test_a_bucket_gives_what_it_holds_and_no_more() -> None:
    rules.check_available(5, 5, "P-1", "A-1", "pcs")
    with pytest.raises(InsufficientQuantity) as caught:
        rules.check_available(4, 5, "P-1 lot L7", "A-1", "pcs")
    assert caught.value.message == "A-1 holds 4 pcs of P-1 lot L7, the operation takes 5"
    assert (caught.value.field, caught.value.extra) == ("quantity", {"available": 4})
    with pytest.raises(InsufficientQuantity) as absent:
        rules.check_available(None, 1, "P-1", "A-1", "pcs")
    assert absent.value.extra == {"available": 0}


def test_a_location_closed_for_a_count_is_locked() -> None:
    rules.check_unlocked(SimpleNamespace(code="A-1", count_locked=False))
    with pytest.raises(LocationLocked, match="A-1 is closed for a cycle count") as caught:
        rules.check_unlocked(SimpleNamespace(code="A-1", count_locked=True), "to_location")
    assert caught.value.field == "to_location"


def test_unit_cost_is_the_weighted_average() -> None:
    assert rules.weighted_cost(10, D("2"), 30, D("4")) == D("3.5")
    assert rules.weighted_cost(0, D("2"), 5, D("4")) == D("4")
    assert rules.weighted_cost(5, None, 5, D("4")) == D("4")
    assert rules.weighted_cost(5, D("2"), 5, None) == D("2")
    assert rules.weighted_cost(0, D("2"), 5, None) == D("2")


def test_the_average_cost_is_exact_to_6_places() -> None:
    assert rules.weighted_cost(1, D("0.1"), 1, D("0.2")) == D("0.15")  # 0.15000000000000002 in floats
    assert rules.weighted_cost(2, D("0.1"), 1, D("0.2")) == D("0.133333")  # 0.4 / 3, rounded half to even
    assert rules.weighted_cost(10**9, D("999999999999.999999"), 1, D("0")) == D("999999999000")  # (10^21 - 10^3) / (10^9 + 1)


MONEY = st.decimals(min_value=0, max_value=10**12 - 1, places=6, allow_nan=False, allow_infinity=False)


# whole units, and metres to 3 places (decimal quantities, issue 15)
QUANTITY = st.integers(1, 10**9) | st.decimals(min_value=D("0.001"), max_value=10**9, places=3, allow_nan=False, allow_infinity=False)


@given(QUANTITY, MONEY, QUANTITY, MONEY)
def test_the_average_cost_lies_between_the_two(q1: int | D, c1: D, q2: int | D, c2: D) -> None:
    average = rules.weighted_cost(q1, c1, q2, c2)
    assert average is not None
    assert min(c1, c2) <= average <= max(c1, c2)
    assert average == average.quantize(D("0.000001"))


# ---- moving, installing ---------------------------------------------------------------------------
def test_a_move_needs_two_locations() -> None:
    rules.check_distinct_locations(HERE, THERE)
    with pytest.raises(Invalid) as caught:
        rules.check_distinct_locations(HERE, HERE)
    assert caught.value.field == "to_location"


@pytest.mark.parametrize("parent", [Unit(scrapped=True), Unit(quantity=0), Unit(po_state="open")])
def test_nothing_is_installed_into_a_scrapped_written_off_or_ordered_unit(parent: Unit) -> None:
    with pytest.raises(StaleLocation) as caught:
        rules.check_parent_usable(parent)
    assert caught.value.field == "parent_serial"


def test_a_unit_is_never_installed_inside_itself() -> None:
    unit, parent = Unit(serial="A"), Unit(serial="B")
    rules.check_not_inside_itself(unit, parent.serial, [parent.id])
    with pytest.raises(Invalid, match="Installing A into B would put a unit inside itself"):
        rules.check_not_inside_itself(unit, parent.serial, [parent.id, unit.id])
    error = rules.refuse_installed("A", "C")
    assert (type(error), error.message, error.field) == (AlreadyInstalled, "A is already installed in C", "serial")


def test_uninstall_takes_a_unit_from_the_unit_it_is_in() -> None:
    parent = Unit(serial="B")
    rules.check_installed_in(Unit(installed_in_id=parent.id), parent)
    with pytest.raises(StaleLocation, match="SN-1 is not installed in B"):
        rules.check_installed_in(Unit(installed_in_id=uuid4()), parent)


@pytest.mark.parametrize(("isolated", "state"), [(True, "already isolated"), (False, "not isolated")])
def test_isolation_that_changes_nothing_is_refused(isolated: bool, state: str) -> None:
    rules.check_isolation_changes(Unit(isolated=not isolated), isolated)
    with pytest.raises(InsufficientQuantity, match=f"SN-1 is {state}"):
        rules.check_isolation_changes(Unit(isolated=isolated), isolated)


# ---- adjusting ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "needed", "ok"), [
    ("operator", "supervisor", False), ("supervisor", "supervisor", True), ("admin", "supervisor", True),
    ("operator", "operator", True), ("supervisor", "admin", False),
])
def test_roles_are_ordered(role: str, needed: str, ok: bool) -> None:
    assert rules.at_least(role, needed) is ok


def test_an_adjustment_is_a_supervisors_nonzero_change() -> None:
    rules.check_adjustment("supervisor", -3)
    with pytest.raises(Forbidden) as forbidden:
        rules.check_adjustment("operator", 0)  # the role is checked first
    assert forbidden.value.field == "type"
    with pytest.raises(Invalid) as zero:
        rules.check_adjustment("admin", 0)
    assert zero.value.field == "delta"
    rules.check_unit_delta(-1)
    with pytest.raises(TrackingMismatch):
        rules.check_unit_delta(2)


@pytest.mark.parametrize(("delta", "existing", "plan"), [
    (-1, Unit(), UnitAdjustment.write_off),
    (1, None, UnitAdjustment.new),
    (1, Unit(quantity=0), UnitAdjustment.restore),
    (1, Unit(), UnitAdjustment.refuse),
    (1, Unit(quantity=0, scrapped=True), UnitAdjustment.refuse),
    (1, Unit(quantity=0, installed_in_id=uuid4()), UnitAdjustment.refuse),
    (1, Unit(quantity=0, po_state="cancelled"), UnitAdjustment.refuse),  # closed short: never came, not found
])
def test_a_unit_adjustment_writes_off_makes_restores_or_refuses(
    delta: int, existing: Unit | None, plan: UnitAdjustment
) -> None:
    assert rules.unit_adjustment(delta, existing) == plan


# ---- lots -----------------------------------------------------------------------------------------
def test_only_lots_split_into_a_new_lot() -> None:
    rules.check_splittable("lot")
    with pytest.raises(TrackingMismatch):
        rules.check_splittable("untracked")
    rules.check_new_lot("L1", "L2")
    with pytest.raises(Invalid) as caught:
        rules.check_new_lot("L1", "L1")
    assert caught.value.field == "new_lot"


def test_a_merge_names_distinct_lots_and_empties_those_other_than_its_target() -> None:
    rules.check_merge("lot", None, None, ["L1", "L2"])
    for tracking, serial, lot in [("serial", None, None), ("lot", "S", None), ("lot", None, "L1")]:
        with pytest.raises(TrackingMismatch):
            rules.check_merge(tracking, serial, lot, ["L1"])
    with pytest.raises(Invalid, match="lots must not repeat"):
        rules.check_merge("lot", None, None, ["L1", "L1"])
    assert rules.merge_sources(["L3", "L1", "L2"], "L1") == ["L3", "L2"]
    with pytest.raises(Invalid, match="name at least one lot other than into_lot"):
        rules.merge_sources(["L1"], "L1")
    rules.check_lot_held(3, "P-1", "L1", "A-1")
    with pytest.raises(InsufficientQuantity, match="A-1 holds no P-1 lot L1"):
        rules.check_lot_held(0, "P-1", "L1", "A-1")
