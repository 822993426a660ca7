"""What the supervisor pages show and read, as pure functions (no session, no HTTP): every reason in plain
words, an op in one line, and an op's args as form fields — one per argument its type takes, typed from
the op's Struct in server/ops/args.py — and back to args.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec.inspect as mi

from server.errors import DomainError, Invalid
from server.ops.args import ARGS_BY_TYPE, parse_args

# Every reason an op can end with, as a supervisor reads it (sync protocol §3 rule 5, and the extras).
REASON_WORDS: dict[str, str] = {
    "duplicate_serial": "Another unit with this serial already exists",
    "tracking_changed": "The part's tracking type was changed after the phone queued this",
    "tracking_mismatch": "The serial, lot or quantity does not fit how this part is tracked",
    "unknown_reference": "The server does not know a part, location, serial, lot or parent unit it names",
    "dependency_rejected": "An earlier operation it builds on was rejected",
    "dependency_held": "An earlier operation it builds on is waiting for a supervisor",
    "location_locked": "The location is closed for a cycle count",
    "insufficient_quantity": "There is less stock there than this takes",
    "stale_location": "The unit is not where the operator said it was",
    "already_installed": "This unit is already installed in an assembly",
    "invalid": "Some of its details are not valid",
    "unknown_op_type": "The server does not know this kind of operation",
    "op_id_reused": "Another operation was already sent under the same id",
    "forbidden": "The person who sent it may not do this",
    "count_not_open": "The count it belongs to is not open (not started yet, or closed)",
    "conflict": "Someone else changed this first",
    "retry_later": "The database is busy: try again in a moment",
}

FIELD_LABELS = {
    "part": "Part number", "tracking": "Tracking", "serial": "Serial", "lot": "Lot", "location": "Location",
    "from_location": "From location", "to_location": "To location", "quantity": "Quantity",
    "parent_serial": "Parent unit (serial)", "counted_quantity": "Counted quantity", "unit_cost": "Unit cost",
    "package_ref": "Package reference", "po_line": "PO line", "into_lot": "Into lot", "new_lot": "New lot",
    "lots": "Lots (comma separated)", "isolated": "Isolated stock", "count_id": "Count id",
}


def reason_words(reason: str | None) -> str:
    if not reason:
        return ""
    return REASON_WORDS.get(reason, reason.replace("_", " ").capitalize())


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):  # RFC 3339, as the API writes times
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def op_summary(op_type: str, args: Any) -> str:
    """"Move 8 PN-U from A to B", "Receive PN-S serial SN-1 into DOCK", …"""
    if not isinstance(args, dict):
        return op_type.capitalize()
    item = str(args.get("part", "?"))
    if args.get("serial"):
        item += f" serial {args['serial']}"
    elif args.get("lot"):
        item += f" lot {args['lot']}"
    amount = f"{args['quantity']} × " if isinstance(args.get("quantity"), int) and not args.get("serial") else ""
    where = {
        "receive": f"into {args.get('location')}",
        "move": f"from {args.get('from_location')} to {args.get('to_location')}",
        "install": f"into {args.get('parent_serial')}",
        "uninstall": f"from {args.get('parent_serial')} to {args.get('to_location')}",
        "count": f"at {args.get('location')}: counted {args.get('counted_quantity')}",
        "adjust": f"at {args.get('location')} by {args.get('delta')}",
    }.get(op_type, f"at {args['location']}" if "location" in args else "")
    return f"{op_type.capitalize()} {amount}{item} {where}".strip()


@dataclass(frozen=True, slots=True)
class ArgField:
    """One input of the approve form. `kind`: text, int, float, bool, choice or list."""

    name: str
    label: str
    kind: str
    required: bool
    value: str
    choices: tuple[str, ...] = ()

    @property
    def input_name(self) -> str:
        return f"args.{self.name}"


def _kind(info: mi.Type) -> tuple[str, tuple[str, ...]]:
    if isinstance(info, mi.UnionType):
        info = next(member for member in info.types if not isinstance(member, mi.NoneType))
    if isinstance(info, mi.IntType):
        return "int", ()
    if isinstance(info, mi.FloatType):
        return "float", ()
    if isinstance(info, mi.BoolType):
        return "bool", ("no", "yes")
    if isinstance(info, mi.EnumType):
        return "choice", tuple(member.value for member in info.cls)
    if isinstance(info, mi.ListType):
        return "list", ()
    return "text", ()


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "yes" if value is True else "no"
    if kind == "list" and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def arg_fields(op_type: str, values: Mapping[str, Any] | None) -> list[ArgField]:
    """The inputs for an op's args, filled with `values` (args as sent, or as a supervisor typed them)."""
    shape = ARGS_BY_TYPE.get(op_type)
    if shape is None:
        return []
    values = values or {}
    fields = []
    for info in mi.type_info(shape).fields:
        kind, choices = _kind(info.type)
        fields.append(
            ArgField(info.name, FIELD_LABELS.get(info.name, info.name.replace("_", " ").capitalize()), kind,
                     info.required, _shown(kind, values.get(info.name)), choices)
        )
    return fields


def typed_values(form: Mapping[str, str]) -> dict[str, str]:
    """The args inputs of a submitted form, as typed: {name: text}."""
    return {key.removeprefix("args."): value for key, value in form.items() if key.startswith("args.")}


def args_from_form(op_type: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The args a supervisor typed, converted by kind; empty inputs are left out. Raises Invalid naming the
    input (`args.quantity`) when a number is not one; the op's own validation does the rest."""
    typed = typed_values(form)
    args: dict[str, Any] = {}
    for field in arg_fields(op_type, None):
        text = typed.get(field.name, "").strip()
        if not text:
            continue
        if field.kind == "int":
            try:
                args[field.name] = int(text)
            except ValueError:
                raise Invalid(f"{field.label}: {text!r} is not a whole number", field=field.input_name) from None
        elif field.kind == "float":
            try:
                args[field.name] = float(text)
            except ValueError:
                raise Invalid(f"{field.label}: {text!r} is not a number", field=field.input_name) from None
        elif field.kind == "bool":
            if text == "yes":
                args[field.name] = True
        elif field.kind == "list":
            args[field.name] = [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
        else:
            args[field.name] = text
    return args


def correction(op_type: str, sent: Any, typed: dict[str, Any]) -> dict[str, Any] | None:
    """The corrected args to approve with, or None when the form says the same as the op as sent."""
    try:
        same = parse_args(op_type, typed) == parse_args(op_type, sent)
    except DomainError:  # one of them does not parse: approving says why
        same = typed == sent
    return None if same else typed
