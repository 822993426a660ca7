"""Money rules (server/rules/money.py) and the installation's currency setting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.db.codecs import money_text_raw
from server.errors import Invalid
from server.rules.costs import receipt_unit_cost
from server.rules.money import money_text, parse_money
from server.settings import Settings


@pytest.mark.parametrize(("given", "amount"), [
    ("12.5", Decimal("12.5")), (0.1, Decimal("0.1")), (3, Decimal("3")), ("0.000001", Decimal("0.000001")),
    (Decimal("999999999999.999999"), Decimal("999999999999.999999")), ("-0", Decimal("0")),
])
def test_an_amount_is_read_exactly(given: object, amount: Decimal) -> None:
    assert parse_money(given, "unit_cost") == amount  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["0.0000001", "-0.01", "1e12", "NaN", "Infinity", "12,50", ""])
def test_what_is_not_an_amount_is_refused_naming_the_field(given: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_money(given, "unit_cost")
    assert caught.value.field == "unit_cost"


def test_the_wire_shows_2_to_6_places() -> None:
    assert [money_text(Decimal(text)) for text in ("12.5", "3", "0.0125", "0.1234565")] == [
        "12.50", "3.00", "0.0125", "0.123456",
    ]


@pytest.mark.parametrize("amount", ["0", "0.1", "0.0125", "12.5", "126", "0.000001", "999999999999.999999", "100.10"])
def test_money_as_stored_is_written_as_the_wire_shows_it(amount: str) -> None:
    """The usage CSV writes money from its stored text (6 places: SQLite's text, PostgreSQL's NUMERIC(18, 6)) as
    `money_text` writes the Decimal."""
    stored = Decimal(amount).quantize(Decimal("0.000001"))
    assert money_text_raw(format(stored, "f")) == money_text_raw(stored) == money_text(Decimal(amount))


def test_one_currency_per_installation() -> None:
    assert Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite://"}).currency == "EUR"
    assert Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite://", "GEMBA_CURRENCY": "USD"}).currency == "USD"
    with pytest.raises(ValueError, match="GEMBA_CURRENCY='euro'"):
        Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite://", "GEMBA_CURRENCY": "euro"})


def test_a_receipts_unit_cost_is_its_package_price_over_its_quantity() -> None:
    assert receipt_unit_cost(60, None, Decimal("126")) == Decimal("2.1")
    assert receipt_unit_cost(3, None, Decimal("10")) == Decimal("3.333333")  # to 6 places
    assert receipt_unit_cost(3, Decimal("3.333333"), Decimal("10")) == Decimal("3.333333")  # both, alike
    assert receipt_unit_cost(5, Decimal("0.5"), None) == Decimal("0.5")
    assert receipt_unit_cost(5, None, None) is None


def test_a_package_price_and_a_unit_cost_that_disagree_are_refused() -> None:
    with pytest.raises(Invalid) as caught:
        receipt_unit_cost(50, Decimal("2.10"), Decimal("100"))
    assert caught.value.field == "package_price"
    assert "package_price 100.00 for 50 is 2.00 a unit, not the unit_cost 2.10" in str(caught.value)
    with pytest.raises(Invalid) as caught:
        receipt_unit_cost(50, None, Decimal("-1"))
    assert caught.value.field == "package_price"


@given(st.integers(min_value=0, max_value=10**30), st.sampled_from([0, 1, 499_999, 500_000, 500_001, 1_500_000]))
def test_the_valuations_integer_rounding_writes_what_decimals_would(picounits: int, nudge: int) -> None:
    """server/costs/read.py rounds picounits to millionths and writes them without a Decimal: the same text as
    `money_text(exact(...))` — halves to even included (the nudges land on them)."""
    from server.costs.values import picounits as joined, value_of
    from server.rules.money import EXACT, SCALE, millionths_text, money_text, rounded

    value = picounits - picounits % SCALE + nudge
    exactly = Decimal(value).scaleb(-12, context=EXACT)
    assert millionths_text(rounded(value, SCALE)) == money_text(exactly)
    limbs = [(value // 10 ** (6 * k)) % SCALE for k in range(4)] + [value // 10**24]  # the top limb: what is above
    assert joined(limbs) == value and value_of(limbs) == exactly
