"""Quantities: exact decimals in a part's unit, read from strings or JSON numbers, as fine as the unit counts
and no finer; a bucket holds at most MAX_QUANTITY; packs convert to the unit exactly."""

from __future__ import annotations

import pytest

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from server.errors import Invalid
from server.models import QuantityType
from server.rules.quantities import (
    MAX_QUANTITY, SCALE, canon, check_precision, check_room, from_scaled, in_packs, pack_sizes, parse_quantity,
    part_places, to_scaled, unit_places,
)


def test_a_bucket_may_be_filled_to_the_limit_and_not_one_more() -> None:
    check_room(MAX_QUANTITY - 5, 5, lambda: "A")
    check_room(0, MAX_QUANTITY, lambda: "A")
    with pytest.raises(Invalid) as refused:
        check_room(MAX_QUANTITY - 5, 6, lambda: "A's bucket of PN-U (ea)", "delta")
    assert refused.value.field == "delta"
    assert refused.value.extra == {"holds": MAX_QUANTITY - 5, "max_quantity": MAX_QUANTITY}
    assert refused.value.message == "A's bucket of PN-U (ea) would hold 1,000,000,001; a bucket holds at most 1,000,000,000"


def test_the_limit_fits_numeric_18_6_and_sqlites_integers_of_millionths_with_room_for_sums() -> None:
    assert len(str(2 * MAX_QUANTITY)) + 6 <= 18  # a count line's expected: a bucket and its isolated twin
    assert 2 * MAX_QUANTITY * SCALE * 1000 < 2**63  # a thousand full buckets summed in SQL on SQLite


@pytest.mark.parametrize(("given", "read"), [
    ("2.5", Decimal("2.5")), ("2.500", Decimal("2.5")), (3, 3), ("3", 3), ("3.000", 3), (Decimal("0.75"), Decimal("0.75")),
    (0.1, Decimal("0.1")), ("0.000001", Decimal("0.000001")), (" 12 ", 12), ("1E+3", 1000),
])
def test_a_quantity_is_read_exactly_into_its_one_form(given: object, read: object) -> None:
    value = parse_quantity(given, "args.quantity")
    assert value == read and type(value) is type(read)
    assert str(value) == str(read)  # no trailing zeros, no exponent: "2.5", "1000"


@pytest.mark.parametrize(("given", "minimum", "message"), [
    ("two", 1, "args.quantity: 'two' is not a decimal number"),
    ("NaN", 1, "args.quantity: NaN is not a finite quantity"),
    ("0.0000001", 1, "args.quantity: 0.0000001 has more than 6 decimal places"),
    (0, 1, "args.quantity: a quantity must be more than 0"),
    ("-0.5", 0, "args.quantity: a quantity cannot be negative"),
    ("0.000", -1, "args.quantity must not be 0"),
    (MAX_QUANTITY + 1, 1, "args.quantity: 1000000001 is more than 1,000,000,000"),
    (True, 1, "args.quantity: expected a quantity, got True"),
])
def test_a_quantity_that_is_none_is_refused_naming_the_field(given: object, minimum: int, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_quantity(given, "args.quantity", minimum=minimum)
    assert (refused.value.field, refused.value.message) == ("args.quantity", message)


def test_units_carry_their_precision_and_a_part_may_set_its_own() -> None:
    assert [unit_places(u) for u in ("ea", "pcs", "m", "kg", "l", "box", "furlong")] == [0, 0, 3, 3, 3, 0, 0]
    assert unit_places("m", 1) == 1 and unit_places("ea", 2) == 2
    assert unit_places("m", 3, serialized=True) == 0  # serialized parts stay whole units

    class Part:
        unit, quantity_places, tracking = "kg", None, "lot"
    assert part_places(Part()) == 3


def test_a_quantity_finer_than_its_unit_is_refused_naming_the_precision() -> None:
    check_precision(Decimal("2.5"), 3, "m", "quantity")
    check_precision(Decimal("0.125"), 3, "m", "quantity")
    check_precision(7, 0, "ea", "quantity")
    with pytest.raises(Invalid) as refused:
        check_precision(Decimal("0.1255"), 3, "m", "quantity")
    assert refused.value.field == "quantity"
    assert refused.value.message == "0.1255 m: m is counted to at most 3 decimal places"
    assert refused.value.extra == {"places": 3, "unit": "m"}
    with pytest.raises(Invalid, match=r"^1.5 ea: ea is counted in whole numbers$"):
        check_precision(Decimal("1.5"), 0, "ea", "counted_quantity")


def test_packs_convert_to_the_unit_exactly_and_an_unknown_pack_names_those_there_are() -> None:
    packs = pack_sizes([{"name": "box", "quantity": 100}, {"name": "drum", "quantity": "200.5"}])
    assert packs == [{"name": "box", "quantity": 100}, {"name": "drum", "quantity": Decimal("200.5")}]
    assert in_packs(3, "box", packs, "SCREW") == (300, 100)
    assert in_packs(2, "DRUM", packs, "OIL") == (401, Decimal("200.5"))
    with pytest.raises(Invalid) as refused:
        in_packs(1, "reel", packs, "SCREW")
    assert (refused.value.field, refused.value.message) == ("pack", "pack: SCREW is not bought in 'reel' (its packs: box, drum)")
    with pytest.raises(Invalid, match="named twice"):
        pack_sizes([{"name": "box", "quantity": 1}, {"name": "Box", "quantity": 2}])
    with pytest.raises(Invalid, match="more than 0"):
        pack_sizes([{"name": "box", "quantity": 0}])


QUANTITIES = st.decimals(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY, places=6, allow_nan=False, allow_infinity=False)


@given(QUANTITIES)
def test_every_quantity_goes_through_both_engines_columns_unchanged(value: Decimal) -> None:
    column = QuantityType()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        bound = column.process_bind_param(canon(value), dialect)
        assert column.process_result_value(bound, dialect) == value
    assert from_scaled(to_scaled(canon(value))) == value


def test_sqlite_holds_millionths_and_checks_read_them_so() -> None:
    column = QuantityType()
    assert column.process_bind_param(Decimal("2.5"), sqlite.dialect()) == 2_500_000
    assert column.process_bind_param(1, sqlite.dialect()) == SCALE
    assert column.process_result_value(750_000, sqlite.dialect()) == Decimal("0.75")
    assert type(column.process_result_value(3 * SCALE, sqlite.dialect())) is int
    assert type(column.process_result_value(Decimal("3.000000"), postgresql.dialect())) is int
