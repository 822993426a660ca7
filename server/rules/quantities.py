"""Quantities: exact decimals in a part's unit of measure, never floats.

A unit carries its precision, the decimal places a quantity of it may have (UNIT_PLACES: `ea`, `pcs`: whole
numbers; `m`, `kg`, `l`: 3 places). A part may set its own (`parts.quantity_places`, 0 to PLACES); a unit not
in the registry counts whole numbers. A serialized part's quantities are whole units whatever its unit says.

In Python a quantity is an `int` when it is whole and a `Decimal` otherwise (`canon`), so that whole
quantities — all of a site's `ea` stock — keep their form on the wire, in op bodies and their hashes; the
two mix exactly in arithmetic. The database holds NUMERIC(18, 6) on PostgreSQL and millionths in an
INTEGER on SQLite (server/models.py `QuantityType`), so sums in SQL stay exact on both engines.

MAX_QUANTITY is 10^9 units, for every bucket and for every quantity an op names: with 6 decimal places 15
digits, inside NUMERIC(18, 6), and 10^15 millionths inside SQLite's 64-bit integers with room for sums. A
count line's expected quantity adds a bucket and its isolated twin: 2 × 10^9 still fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from decimal import Decimal, InvalidOperation

from server.errors import Invalid

from server.models import PLACES, QUANTUM, SCALE, Number, canon, from_scaled, to_scaled  # noqa: F401 (re-exported)

MAX_QUANTITY = 1_000_000_000

# The units whose precision is known; any other counts whole numbers unless its part says otherwise.
UNIT_PLACES: dict[str, int] = {
    **dict.fromkeys(("ea", "pcs", "pc", "each", "pair", "set", "box", "roll", "reel", "pack"), 0),
    **dict.fromkeys(("m", "km", "kg", "t", "l", "m2", "m3", "ft", "lb", "gal"), 3),
    **dict.fromkeys(("cm", "g", "ml"), 1),
    **dict.fromkeys(("mm", "mg"), 0),
}


def unit_places(unit: str, override: int | None = None, *, serialized: bool = False) -> int:
    """The decimal places a quantity of this unit (with a part's own `override`) may have."""
    if serialized:
        return 0
    if override is not None:
        return override
    return UNIT_PLACES.get(unit.strip().lower(), 0)


def part_places(part: Any) -> int:
    """The decimal places of a part's quantities (a Part, or anything with unit, quantity_places, tracking)."""
    return unit_places(part.unit, part.quantity_places, serialized=part.tracking == "serial")


def quantity_text(value: Number) -> str:
    """A quantity as people read it: `2.5`, `100`, `0.125`."""
    value = canon(value)
    return str(value) if type(value) is int else format(value, "f")


def parse_quantity(value: object, field: str, *, minimum: int = 1) -> Number:
    """A quantity as given (a decimal string, or a JSON number), checked: finite, at most PLACES places, within
    ±MAX_QUANTITY, and at least 0 (`minimum=0`), more than 0 (`minimum=1`) or anything but 0 (`minimum=-1`:
    a signed delta). Raises Invalid naming `field`."""
    if isinstance(value, bool):
        raise Invalid(f"{field}: expected a quantity, got {value!r}", field=field)
    if isinstance(value, int):
        amount: Decimal | int = value
    else:
        try:
            amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid(f"{field}: {value!r} is not a decimal number", field=field) from None
        if not amount.is_finite():
            raise Invalid(f"{field}: {value} is not a finite quantity", field=field)
    if abs(amount) > MAX_QUANTITY:
        raise Invalid(f"{field}: {quantity_text(amount)} is more than {MAX_QUANTITY:,}", field=field,
                      max_quantity=MAX_QUANTITY)
    if type(amount) is not int and amount != amount.quantize(QUANTUM, rounding="ROUND_DOWN"):
        raise Invalid(f"{field}: {quantity_text(amount)} has more than {PLACES} decimal places", field=field)
    if minimum == 1 and amount <= 0:
        raise Invalid(f"{field}: a quantity must be more than 0", field=field)
    if minimum == 0 and amount < 0:
        raise Invalid(f"{field}: a quantity cannot be negative", field=field)
    if minimum == -1 and amount == 0:
        raise Invalid(f"{field} must not be 0", field=field)
    return canon(amount + 0)  # + 0: -0 is 0


def check_precision(value: Number, places: int, unit: str, field: str) -> None:
    """Refuse a quantity finer than its unit counts: `invalid`, naming the field and the precision."""
    if type(value) is int or places >= PLACES:
        return
    if value != value.quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN"):
        allowed = "in whole numbers" if places == 0 else f"to at most {places} decimal place{'s' if places > 1 else ''}"
        raise Invalid(f"{quantity_text(value)} {unit}: {unit} is counted {allowed}", field=field, places=places, unit=unit)


def check_room(holds: Number, adding: Number, where: Callable[[], str], field: str = "quantity") -> None:
    """Refuse to add `adding` to a bucket that `holds` already when the sum passes MAX_QUANTITY (`where`
    names the bucket, for the message)."""
    if holds + adding > MAX_QUANTITY:
        raise Invalid(
            f"{where()} would hold {holds + adding:,}; a bucket holds at most {MAX_QUANTITY:,}",
            field=field, holds=holds, max_quantity=MAX_QUANTITY,
        )


def pack_sizes(packs: list[Any], field: str = "packs") -> list[dict[str, Any]]:
    """A part's packs as given ([{"name": "box", "quantity": 100}]), checked: names unique (in any case), each
    size a quantity more than 0. Returns them with sizes in their one form."""
    checked, seen = [], set()
    for i, pack in enumerate(packs):
        if not isinstance(pack, dict) or set(pack) != {"name", "quantity"}:
            raise Invalid(f"{field}[{i}]: a pack is {{name, quantity}}", field=field)
        name = str(pack["name"]).strip()
        if not name or len(name) > 32:
            raise Invalid(f"{field}[{i}].name: 1 to 32 characters", field=field)
        if name.lower() in seen:
            raise Invalid(f"{field}[{i}].name: {name} is named twice", field=field)
        seen.add(name.lower())
        checked.append({"name": name, "quantity": parse_quantity(pack["quantity"], f"{field}[{i}].quantity")})
    return checked


def in_packs(count: Number, pack: str, packs: list[Any], part: str) -> tuple[Number, Number]:
    """`count` packs named `pack` (in any case) of a part bought in `packs`: (the quantity of its unit, the
    pack's size). Refuses a pack the part does not have, naming those it has."""
    for known in packs:
        if known["name"].lower() == pack.strip().lower():
            size = parse_quantity(known["quantity"], "pack")
            total = canon(Decimal(count) * Decimal(size))
            if total > MAX_QUANTITY:
                raise Invalid(f"quantity: {count} × {size} is more than {MAX_QUANTITY:,}", field="quantity")
            return total, size
    names = ", ".join(p["name"] for p in packs) or "none"
    raise Invalid(f"pack: {part} is not bought in {pack!r} (its packs: {names})", field="pack")
