"""The wire shapes of operations (sync protocol §2), declared once as msgspec Structs (each op type's is in
the registry, server/ops/registry.py, which also parses them).

Items are named the way operators scan them: serial, part + lot, part; locations by code.
Beyond the protocol's table: `release` (undo isolate), `adjust`, `split` and `merge`, and an optional
`isolated` flag on move/scrap to act on quarantined lot/untracked stock. `count` records a counted
quantity (0 or 1 for a serial: missing or found) and moves nothing. `count_id` on `adjust` and `move`
names the cycle count they settle: a supervisor's may touch the locations that count closed.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from types import UnionType
from typing import Annotated, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import msgspec
from msgspec import Meta

from server.errors import Invalid
from server.models import Tracking
from server.rules.quantities import MAX_QUANTITY, parse_quantity  # noqa: F401 (MAX_QUANTITY: for the packages' args)

Code = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^\S(?:.*\S)?$")]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]
# Quantities are exact decimals: a decimal string ("2.5") or a JSON number (read from its text, never through a
# float). Their range and places are checked after decoding (`check_quantities`, server/rules/quantities.py)
# and against the part's unit by the handlers; a whole quantity becomes an int (`canon`).
_QUANTITY_DOC = 'a decimal string such as "2.5" or a number; at most 6 decimal places, at most the unit\'s precision'
Quantity = Annotated[Decimal, Meta(description=f"more than 0: {_QUANTITY_DOC}")]
Delta = Annotated[Decimal, Meta(description=f"signed, not 0: {_QUANTITY_DOC}")]
Counted = Annotated[Decimal, Meta(description=f"0 or more: {_QUANTITY_DOC}")]
# A quantity in an answer: an integer when whole (100), else a decimal string ("2.5") — exact either way
Amount = Annotated[int | Decimal, Meta(description='an integer when whole (100), else a decimal string ("2.5")')]
_MINIMUM = {Quantity: 1, Delta: -1, Counted: 0}  # parse_quantity's `minimum` per alias
Cost = Annotated[Decimal, Meta(description='a decimal string such as "12.50" (a JSON number is taken too), '
                                           "at most 6 decimal places")]  # checked by server/rules/money.py


class Args(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class ItemArgs(Args, kw_only=True):
    part: Code
    tracking: Tracking
    serial: Code | None = None
    lot: Code | None = None


class Receive(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity  # of the part's unit, or of packs when `pack` is given
    pack: Code | None = None  # one of the part's packs ("box"): `quantity` boxes, stored as the unit (× its size)
    supplier: Code | None = None
    unit_cost: Cost | None = None
    package_price: Cost | None = None  # of the whole booking: the unit cost is package_price / quantity
    package_ref: Code | None = None
    po_line: Code | None = None
    reason: Text | None = None  # why it came in when it is not a delivery: "opening balance" (server/importing)
    expiry: date | None = None  # the lot's expiry date (GS1 AI 17): Unavailable from that day on


class Move(ItemArgs, kw_only=True):
    from_location: Code
    to_location: Code
    quantity: Quantity
    isolated: bool = False
    count_id: UUID | None = None  # a supervisor's move that settles a line of this (open) count


class Install(ItemArgs, kw_only=True):
    parent_serial: Code
    quantity: Quantity
    from_location: Code | None = None


class Uninstall(ItemArgs, kw_only=True):
    parent_serial: Code
    to_location: Code
    quantity: Quantity


class Scrap(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity
    reason: Text
    isolated: bool = False


class Remove(ItemArgs, kw_only=True):
    """Stock used (maintenance, a customer, a project): it leaves inventory, costed by FIFO (docs/costs.md)."""

    location: Code
    quantity: Quantity
    reason: Text
    reference: Code | None = None  # what it was used for: a work order, a customer, a project


class Isolate(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity
    reason: Text


class Release(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity
    reason: Text | None = None


class Adjust(ItemArgs, kw_only=True):
    location: Code
    delta: Delta
    reason: Text
    count_id: UUID | None = None


class Split(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity
    new_lot: Code | None = None


class Merge(ItemArgs, kw_only=True):
    location: Code
    lots: Annotated[list[Code], Meta(min_length=1, max_length=100)]
    into_lot: Code


class Count(ItemArgs, kw_only=True):
    location: Code
    counted_quantity: Counted
    count_id: UUID | None = None


def quantity_fields(shape: type[msgspec.Struct]) -> tuple[tuple[str, int], ...]:
    """The fields of an args Struct that are quantities (`Quantity`, `Delta`, `Counted`, or one of them | None),
    with the smallest each may be."""
    found = _QUANTITY_FIELDS.get(shape)
    if found is None:
        found = tuple(
            (name, _MINIMUM[hint]) for name, hint in get_type_hints(shape, include_extras=True).items()
            for hint in (hint, *(get_args(hint) if get_origin(hint) in (UnionType, Union) else ()))
            if hint in _MINIMUM
        )
        _QUANTITY_FIELDS[shape] = found
    return found


_QUANTITY_FIELDS: dict[type, tuple[tuple[str, int], ...]] = {}


def check_quantities(args: msgspec.Struct, prefix: str = "args") -> None:
    """Each quantity of `args` within range and places, in its one form (an int when whole). Raises Invalid
    naming the field (`args.quantity`)."""
    for name, minimum in quantity_fields(type(args)):
        value = getattr(args, name)
        if value is not None:
            setattr(args, name, parse_quantity(value, f"{prefix}.{name}", minimum=minimum))


def invalid_from(error: msgspec.ValidationError, *, prefix: str) -> Invalid:
    """`Expected int, got str - at $.quantity` → Invalid(field='args.quantity', message=...)."""
    text = str(error)
    message, found, where = text.rpartition(" - at `")
    if not found:
        message, where = text, "$`"
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    named = re.search(r"field `([^`]+)`", message)
    if named:  # missing or unknown field: name it
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    field = f"{prefix}.{path}" if path else prefix
    return Invalid(f"{field}: {message.replace('`', '')}", field=field)
