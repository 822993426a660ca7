"""What stock cost: the unit cost of a receipt (purchasing-and-costs.md, "Incoming goods")."""

from __future__ import annotations

from decimal import Decimal

from server.errors import Invalid
from server.rules.money import EXACT, exact, money_text, parse_money


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
