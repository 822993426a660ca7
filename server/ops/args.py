"""The wire shapes of operations (sync protocol §2), declared once as msgspec Structs.

Items are named the way operators scan them: serial, part + lot, part; locations by code.
Beyond the protocol's table: `release` (undo isolate), `adjust`, `split` and `merge`, and an optional
`isolated` flag on move/scrap to act on quarantined lot/untracked stock. `count` records a counted
quantity (0 or 1 for a serial: missing or found) and moves nothing. `count_id` on `adjust` and `move`
names the cycle count they settle: a supervisor's may touch the locations that count closed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from server.errors import Invalid, UnknownOpType
from server.models import Tracking

Code = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^\S(?:.*\S)?$")]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]
Quantity = Annotated[int, Meta(ge=1, le=1_000_000_000)]
Delta = Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)]
Cost = Annotated[float, Meta(ge=0, le=1e12)]


class Args(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class ItemArgs(Args, kw_only=True):
    part: Code
    tracking: Tracking
    serial: Code | None = None
    lot: Code | None = None


class Receive(ItemArgs, kw_only=True):
    location: Code
    quantity: Quantity
    supplier: Code | None = None
    unit_cost: Cost | None = None
    package_ref: Code | None = None
    po_line: Code | None = None


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
    counted_quantity: Annotated[int, Meta(ge=0, le=1_000_000_000)]
    count_id: UUID | None = None


ARGS_BY_TYPE: dict[str, type[Args]] = {
    "receive": Receive,
    "move": Move,
    "install": Install,
    "uninstall": Uninstall,
    "scrap": Scrap,
    "isolate": Isolate,
    "release": Release,
    "adjust": Adjust,
    "split": Split,
    "merge": Merge,
    "count": Count,
}


def parse_args(op_type: str, raw: Any) -> Args:
    """Decode an op's args into its Struct, or raise Invalid naming the field and the reason."""
    shape = ARGS_BY_TYPE.get(op_type)
    if shape is None:
        raise UnknownOpType(f"Unknown operation type {op_type!r}; known: {', '.join(ARGS_BY_TYPE)}", field="type")
    try:
        return msgspec.convert(raw, shape, strict=True)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="args") from None


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
