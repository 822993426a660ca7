"""Every op type, in one place: its args Struct, its handler, and what push, the conflict pages and the
count decisions need to know of it without applying it.

Adding an op type: its args Struct (server/ops/args.py), its handler (server/ops/handlers.py, or the package
it belongs to), its rule (server/rules/), its tests, and one `OpType` line here — docs/decisions.md,
"Adding an op type". A package above the operations registers its own with `register` when it is imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from server.errors import Invalid, UnknownOpType
from server.ops import args as a
from server.ops import handlers as h
from server.ops.args import Args, check_quantities, invalid_from
from server.ops.stock import OpContext
from server.rules.text import nul_at, nul_message

Handler = Callable[[OpContext, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class OpType:
    name: str
    args: type[Args]
    handler: Handler
    places: tuple[str, ...]  # the args that name locations by code
    units: tuple[str, ...] = ("serial",)  # the args that name units by serial
    source: str | None = None  # where the op says its unit is: what a `stale_location` hold is about
    in_unit: bool = False  # acts where a parent unit is, a location no arg names (held for it all the same)
    # adds or takes cost layers of its `part` (server/ops/costs.py), and the args naming ids whose turn it takes
    # (a count's): a push chunk beside others takes these turns up front, in order (server/ops/batch.py)
    costs: bool = False
    turns: tuple[str, ...] = ()


OP_TYPES: dict[str, OpType] = {}


def register(op_type: OpType) -> None:
    OP_TYPES[op_type.name] = op_type


for _op_type in (
    OpType("receive", a.Receive, h.receive, places=("location",), costs=True),
    OpType("move", a.Move, h.move, places=("from_location", "to_location"), source="from_location"),
    OpType("install", a.Install, h.install, places=("from_location",), units=("serial", "parent_serial"), in_unit=True),
    OpType("uninstall", a.Uninstall, h.uninstall, places=("to_location",), units=("serial", "parent_serial"),
           in_unit=True),
    OpType("scrap", a.Scrap, h.scrap, places=("location",), source="location", costs=True),
    OpType("remove", a.Remove, h.remove, places=("location",), source="location", costs=True),
    OpType("isolate", a.Isolate, h.isolate, places=("location",), source="location"),
    OpType("release", a.Release, h.release, places=("location",), source="location"),
    OpType("adjust", a.Adjust, h.adjust, places=("location",), source="location", costs=True),
    OpType("split", a.Split, h.split, places=("location",)),
    OpType("merge", a.Merge, h.merge, places=("location",)),
    OpType("count", a.Count, h.count, places=("location",), turns=("count_id",)),
):
    register(_op_type)


def op_type(name: str) -> OpType:
    found = OP_TYPES.get(name)
    if found is None:
        raise UnknownOpType(f"Unknown operation type {name!r}; known: {', '.join(OP_TYPES)}", field="type")
    return found


def parse_args(name: str, raw: Any) -> Args:
    """Decode an op's args into its Struct, or raise Invalid naming the field and the reason."""
    shape = op_type(name).args
    if (where := nul_at(raw, "args")) is not None:
        raise Invalid(nul_message(where), field=where)
    try:
        args = msgspec.convert(raw, shape, strict=True)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="args") from None
    check_quantities(args)
    return args


def _texts(args: Any, keys: tuple[str, ...]) -> list[str]:
    """The texts an op's args (raw, as sent) give under these keys."""
    if not isinstance(args, dict):
        return []
    return [value for key in keys if isinstance(value := args.get(key), str)]


def places_named(name: str, args: Any) -> list[str]:
    """The location codes an op (raw args, as sent) names; none for an op type the server does not know."""
    known = OP_TYPES.get(name)
    return _texts(args, known.places) if known else []


def units_named(name: str, args: Any) -> list[str]:
    """The serials an op (raw args, as sent) names."""
    known = OP_TYPES.get(name)
    return _texts(args, known.units) if known else []


def turns_named(name: str, args: Any) -> tuple[str | None, list[str]]:
    """What an op (raw args, as sent) takes its turn on while it applies: the part number whose cost layers
    it changes (if it does), and the ids its args name (a count's)."""
    known = OP_TYPES.get(name)
    if known is None:
        return None, []
    part = args.get("part") if known.costs and isinstance(args, dict) else None
    return part if isinstance(part, str) else None, _texts(args, known.turns)
