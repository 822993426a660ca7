"""Purchasing and money rules (server/rules/purchasing.py, server/rules/money.py), decided without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import Conflict, Invalid, PoNotOpen, TrackingMismatch
from server.rules import purchasing as rules
from server.rules.money import MAX_MONEY, money_text, parse_money, times, total
from server.rules.patterns import PatternError
from server.rules.purchasing import OrderedRow


# ---- money ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("given_", "stored", "shown"), [
    ("12.5", Decimal("12.500000"), "12.50"), (Decimal("0.1"), Decimal("0.100000"), "0.10"), (3, Decimal(3), "3.00"),
    ("0.000001", Decimal("0.000001"), "0.000001"), ("1E+3", Decimal(1000), "1000.00"), ("-0", Decimal(0), "0.00"),
    ("999999999999.999999", MAX_MONEY, "999999999999.999999"), ("0.1250", Decimal("0.125"), "0.125"),
])
def test_money_is_read_exactly_and_shown_with_two_to_six_places(given_: object, stored: Decimal, shown: str) -> None:
    amount = parse_money(given_, "unit_price")  # type: ignore[arg-type]
    assert amount == stored and money_text(amount) == shown


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "-0.01", "1.0000001", "1000000000000", ""])
def test_money_that_is_not_an_amount_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_money(bad, "lines[3].unit_price")
    assert caught.value.field == "lines[3].unit_price"


@given(st.decimals(min_value=0, max_value=MAX_MONEY, places=6, allow_nan=False, allow_infinity=False))
def test_an_amount_survives_its_wire_form(amount: Decimal) -> None:
    assert parse_money(money_text(amount), "p") == amount


# ---- numbers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["PO-2026-0001", "ACME.77", "a_1", "9"])
def test_a_po_number_is_a_plain_word(number: str) -> None:
    rules.check_number(number)


@pytest.mark.parametrize("number", ["PO/1", " PO-1", "-1", "", "PO 1", "x" * 65])
def test_a_po_number_with_a_slash_space_or_too_long_is_refused(number: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.check_number(number)
    assert caught.value.field == "number"


@pytest.mark.parametrize("pattern", ["PO-{yyyy}-{seq:04}", "B{yy}{mm}{dd}-{seq}", "{seq:06}"])
def test_a_number_pattern_of_dates_and_one_seq(pattern: str) -> None:
    rules.check_number_pattern(pattern)


@pytest.mark.parametrize(("pattern", "says"), [
    ("{part}-{seq}", "means nothing for a PO"), ("PO-{yyyy}", "exactly one {seq}"), ("PO/{seq}", "is 1 to 64"),
])
def test_a_number_pattern_that_cannot_make_po_numbers_is_refused(pattern: str, says: str) -> None:
    with pytest.raises(PatternError, match=says.replace("{", r"\{").replace("}", r"\}")):
        rules.check_number_pattern(pattern)


def test_a_line_is_named_number_slash_line() -> None:
    assert rules.line_name("PO-2026-0001", 2) == "PO-2026-0001/2"


# ---- lines ----------------------------------------------------------------------------------------
def test_a_line_lists_one_serial_per_unit_of_a_serialized_part_or_none() -> None:
    rules.check_line("serial", 2, ["A", "B"], None, "lines[0]")
    rules.check_line("serial", 2, None, "L", "lines[0]")
    rules.check_line("lot", 5, None, "L", "lines[0]")
    with pytest.raises(Invalid) as short:
        rules.check_line("serial", 3, ["A", "B"], None, "lines[1]")
    assert short.value.field == "lines[1].serials"
    with pytest.raises(Invalid) as twice:
        rules.check_line("serial", 2, ["A", "A"], None, "lines[0]")
    assert twice.value.field == "lines[0].serials[1]"
    with pytest.raises(TrackingMismatch) as not_serial:
        rules.check_line("lot", 1, ["A"], None, "lines[0]")
    assert not_serial.value.field == "lines[0].serials"
    with pytest.raises(TrackingMismatch) as no_lots:
        rules.check_line("untracked", 1, None, "L", "lines[2]")
    assert no_lots.value.field == "lines[2].lot"


@pytest.mark.parametrize(("tracking", "serials", "lot", "rows"), [
    ("serial", ["A", "B"], "L", [OrderedRow("serial", 1, "A", "L"), OrderedRow("serial", 1, "B", "L")]),
    ("serial", None, "L", [OrderedRow("untracked", 2)]),  # its serials come with the delivery
    ("lot", None, "L", [OrderedRow("lot", 2, lot="L")]),
    ("lot", None, None, [OrderedRow("untracked", 2)]),  # its lot comes with the delivery
    ("untracked", None, None, [OrderedRow("untracked", 2)]),
])
def test_opening_a_line_makes_a_unit_per_serial_else_one_row(
    tracking: str, serials: list[str] | None, lot: str | None, rows: list[OrderedRow]
) -> None:
    assert rules.ordered_rows(tracking, 2, serials, lot) == rows


@pytest.mark.parametrize(("status", "left"), [("open", 7), ("received", 0), ("closed_short", 0), ("cancelled", 0)])
def test_only_an_open_line_expects_anything(status: str, left: int) -> None:
    assert rules.remaining(status, 10, 3) == left


def test_an_open_po_without_open_lines_is_received() -> None:
    assert rules.status_after_lines(["received", "open"]) == "open"
    assert rules.status_after_lines(["received", "closed_short", "cancelled"]) == "received"


# ---- the life cycle -------------------------------------------------------------------------------
def test_only_a_draft_opens_and_only_a_draft_or_open_po_cancels() -> None:
    rules.check_can_open("P", "draft")
    rules.check_can_cancel("P", "draft")
    rules.check_can_cancel("P", "open")
    for status in ("open", "received", "cancelled"):
        with pytest.raises(Conflict) as caught:
            rules.check_can_open("P", status)
        assert caught.value.extra == {"po_status": status}
    for status in ("received", "cancelled"):
        with pytest.raises(Conflict):
            rules.check_can_cancel("P", status)


@pytest.mark.parametrize(("po", "line", "extra"), [
    ("draft", "open", {"po_status": "draft"}), ("cancelled", "cancelled", {"po_status": "cancelled"}),
    ("open", "closed_short", {"line_status": "closed_short"}), ("open", "received", {"line_status": "received"}),
])
def test_only_an_open_line_of_an_open_po_closes(po: str, line: str, extra: dict[str, str]) -> None:
    rules.check_can_close_line("P/1", "open", "open")
    with pytest.raises(PoNotOpen) as caught:
        rules.check_can_close_line("P/1", po, line)
    assert (caught.value.field, caught.value.extra) == ("line", extra)


# ---- min/max --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("available", "on_order", "minimum", "maximum", "order"), [
    (50, 50, 100, 300, 200), (1, 0, 3, None, 2), (0, 500, 100, 300, 0), (0, 0, 10, None, 10), (120, 0, 100, 300, 180),
])
def test_the_suggested_quantity_fills_up_to_max_else_min(
    available: int, on_order: int, minimum: int, maximum: int | None, order: int
) -> None:
    assert rules.suggested(available, on_order, minimum, maximum) == order


def test_below_min_needs_a_min_and_max_is_not_below_it() -> None:
    assert rules.below_min(9, 10) and not rules.below_min(10, 10) and not rules.below_min(0, None)
    rules.check_min_max(5, 5)
    rules.check_min_max(None, 5)
    with pytest.raises(Invalid) as caught:
        rules.check_min_max(6, 5)
    assert caught.value.field == "max"



def test_totals_of_the_largest_lines_stay_exact() -> None:
    line = times(10**9, MAX_MONEY)  # 27 digits
    assert money_text(line) == "999999999999999999000.00"
    assert money_text(total([line] * 5000 + [Decimal("0.000001")])) == "4999999999999999995000000.000001"  # 31 digits
