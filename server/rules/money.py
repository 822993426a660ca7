"""Money: exact decimals with at most 6 places, never floats (purchasing-and-costs.md).

The wire carries money as a decimal string (`"12.50"`); inputs may also be JSON numbers, which msgspec
decodes to a Decimal from their text (0.1 stays 0.1). The database holds NUMERIC(18, 6): 12 digits
before the point.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, InvalidOperation

from server.errors import Invalid

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)  # 0.000001
MAX_MONEY = Decimal(10) ** 12 - QUANTUM  # NUMERIC(18, 6)
# Wide enough that products and sums are exact: a line's total (10^9 units × MAX_MONEY) has 28 digits, a PO's
# of thousands of lines a few more; the default context (28 digits) would round them.
EXACT = Context(prec=60)


def exact(value: Decimal) -> Decimal:
    """`value` with exactly PLACES decimal places (as the database holds it)."""
    return value.quantize(QUANTUM, context=EXACT)


def times(quantity: int, price: Decimal) -> Decimal:
    return EXACT.multiply(Decimal(quantity), price)


def total(amounts: Iterable[Decimal]) -> Decimal:
    result = Decimal(0)
    for amount in amounts:
        result = EXACT.add(result, amount)
    return result


def parse_money(value: Decimal | str | int, field: str) -> Decimal:
    """A price as given (a decimal string or number), checked: finite, not negative, at most PLACES decimal
    places and at most MAX_MONEY. Raises Invalid naming `field`."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{field}: {value!r} is not a decimal number", field=field) from None
    if not amount.is_finite():
        raise Invalid(f"{field}: {value} is not a finite amount", field=field)
    if amount < 0:
        raise Invalid(f"{field}: an amount cannot be negative", field=field)
    if amount > MAX_MONEY:
        raise Invalid(f"{field}: {amount} is above the largest amount, {MAX_MONEY}", field=field)
    if amount != amount.quantize(QUANTUM, rounding="ROUND_DOWN"):
        raise Invalid(f"{field}: {amount} has more than {PLACES} decimal places", field=field)
    return exact(abs(amount))  # abs: -0 is 0


def money_text(amount: Decimal) -> str:
    """The wire's form: at least 2 decimal places, at most PLACES, no exponent ("12.50", "0.0125", "3.00")."""
    text = format(exact(amount), "f").rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


SCALE = 10**PLACES  # an amount in integer millionths: the valuation's arithmetic (server/costs/read.py)


def rounded(value: int, unit: int) -> int:
    """value / unit to the nearest integer, a half to the even one: what `exact` does to a Decimal, in integers."""
    whole, rest = divmod(value, unit)
    return whole + 1 if 2 * rest > unit or (2 * rest == unit and whole % 2) else whole


def millionths_text(value: int) -> str:
    """An amount of integer millionths in the wire's form: what `money_text` writes, without a Decimal."""
    whole, fraction = divmod(abs(value), SCALE)
    return f"{'-' if value < 0 else ''}{whole}.{f'{fraction:06d}'.rstrip('0').ljust(2, '0')}"

