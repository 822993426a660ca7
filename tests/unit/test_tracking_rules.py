"""Tracking rules (server/rules/tracking.py): which arguments fit a tracking type, when a part may switch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import TrackingChanged, TrackingMismatch
from server.rules.tracking import blocker_advice, check_declared, check_item_args, switch_blockers

TYPES = ["serial", "lot", "untracked"]


# ---- switching a part's tracking type -------------------------------------------------------------
@pytest.mark.parametrize(("current", "new"), [("serial", "lot"), ("serial", "untracked")])
def test_serial_to_anything_is_refused_while_serialized_rows_exist(current: str, new: str) -> None:
    assert switch_blockers(current, new, {"serial": 3, "untracked": 5}) == (
        3,
        "3 serialized units of this part exist",
    )


@pytest.mark.parametrize(("current", "new"), [("lot", "serial"), ("lot", "untracked")])
def test_lot_to_anything_is_refused_while_lot_rows_exist(current: str, new: str) -> None:
    assert switch_blockers(current, new, {"lot": 2}) == (2, "2 lot-tracked rows of this part exist")


def test_one_blocking_row_is_named_in_the_singular() -> None:
    assert switch_blockers("serial", "lot", {"serial": 1}) == (
        1,
        "1 serialized unit of this part exists",
    )
    assert switch_blockers("lot", "untracked", {"lot": 1})[1].startswith("1 lot-tracked row of this part exists")


def test_the_advice_names_an_existing_op_for_each_kind_of_blocking_row() -> None:
    text, kinds = blocker_advice({"installed": 1, "on_hand": 2})
    assert [(k["kind"], k["rows"]) for k in kinds] == [("on_hand", 2), ("installed", 1)]
    assert text == ("2 on hand: scrap it, or adjust it to zero (a supervisor's adjust); "
                    "1 installed in an assembly: uninstall it from its assembly, then scrap it or adjust it to zero")
    assert "consume" not in text
    assert blocker_advice({"isolated": 3})[1][0]["fix"] == "scrap it with isolated: true, or release it and adjust it to zero"


@pytest.mark.parametrize("new", ["serial", "lot"])
def test_untracked_to_tracked_is_allowed_whatever_rows_exist(new: str) -> None:
    assert switch_blockers("untracked", new, {"untracked": 40}) is None


@pytest.mark.parametrize(("current", "new"), [("serial", "lot"), ("serial", "untracked"), ("lot", "serial")])
def test_a_switch_is_allowed_once_no_row_of_the_old_type_is_left(current: str, new: str) -> None:
    assert switch_blockers(current, new, {}) is None
    assert switch_blockers(current, new, {current: 0}) is None


def test_rows_of_other_types_do_not_block() -> None:
    # A part once untracked, now serial: its old untracked rows stay and do not block serial → lot.
    assert switch_blockers("serial", "lot", {"untracked": 12}) is None
    assert switch_blockers("lot", "serial", {"untracked": 12, "serial": 4}) is None


@given(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(TYPES), st.integers(0, 10_000)))
def test_staying_on_the_same_type_is_never_blocked(tracking: str, counts: dict[str, int]) -> None:
    assert switch_blockers(tracking, tracking, counts) is None


@given(st.sampled_from(TYPES), st.sampled_from(TYPES), st.dictionaries(st.sampled_from(TYPES), st.integers(0, 10_000)))
def test_a_switch_is_blocked_exactly_by_live_rows_of_the_old_tracked_type(
    current: str, new: str, counts: dict[str, int]
) -> None:
    blocked = switch_blockers(current, new, counts)
    should_block = current != new and current != "untracked" and counts.get(current, 0) > 0
    assert (blocked is not None) == should_block
    if blocked is not None:
        rows, why = blocked
        assert rows == counts[current]
        assert why.startswith(f"{rows} ")


# ---- arguments against the tracking type -------------------------------------------------------
def test_serialized_stock_is_one_unit() -> None:
    check_item_args("serial", serial="SN-1", lot=None, quantity=1, lot_allowed_on_serial=False)
    check_item_args("serial", serial=None, lot=None, quantity=1, lot_allowed_on_serial=False)  # generated serial
    check_item_args("serial", serial="SN-1", lot=None, quantity=None, lot_allowed_on_serial=False)
    for quantity in (0, 2, 10):
        with pytest.raises(TrackingMismatch) as refused:
            check_item_args("serial", serial="SN-1", lot=None, quantity=quantity, lot_allowed_on_serial=False)
        assert refused.value.field == "quantity"
        assert refused.value.reason == "tracking_mismatch"
        assert f"not {quantity}" in refused.value.message


def test_a_unit_may_carry_a_lot_only_where_allowed() -> None:
    check_item_args("serial", serial="SN-1", lot="LOT-7", quantity=1, lot_allowed_on_serial=True)
    with pytest.raises(TrackingMismatch) as refused:
        check_item_args("serial", serial="SN-1", lot="LOT-7", quantity=1, lot_allowed_on_serial=False)
    assert refused.value.field == "lot"


def test_lots_have_no_serials() -> None:
    check_item_args("lot", serial=None, lot="LOT-7", quantity=250, lot_allowed_on_serial=True)
    check_item_args("lot", serial=None, lot=None, quantity=250, lot_allowed_on_serial=True)  # generated lot
    with pytest.raises(TrackingMismatch) as refused:
        check_item_args("lot", serial="SN-1", lot="LOT-7", quantity=1, lot_allowed_on_serial=True)
    assert refused.value.field == "serial"


@pytest.mark.parametrize(("serial", "lot", "field"), [("SN-1", None, "serial"), (None, "LOT-7", "lot")])
def test_untracked_stock_has_neither_serial_nor_lot(serial: str | None, lot: str | None, field: str) -> None:
    check_item_args("untracked", serial=None, lot=None, quantity=5000, lot_allowed_on_serial=True)
    with pytest.raises(TrackingMismatch) as refused:
        check_item_args("untracked", serial=serial, lot=lot, quantity=5, lot_allowed_on_serial=True)
    assert refused.value.field == field


def test_the_declared_tracking_must_be_the_servers() -> None:
    check_declared("PN-1", "lot", "lot")
    with pytest.raises(TrackingChanged) as refused:
        check_declared("PN-1", "untracked", "serial")
    assert refused.value.reason == "tracking_changed"
    assert refused.value.field == "tracking"
    assert refused.value.extra == {"server_tracking": "serial"}
