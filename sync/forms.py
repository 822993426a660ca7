"""What the conflict pages read, as pure functions (no session, no HTTP): an op's args as form fields — one
per argument its type takes, typed from the op's Struct in server/ops/args.py — and back to args. The words
every supervisor page shares are in server/supervisor/words.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec.inspect as mi

from server.errors import DomainError, Invalid
from server.i18n import DEFAULT, text
from server.ops.args import quantity_fields
from server.ops.registry import OP_TYPES, parse_args
from server.rules.quantities import canon, quantity_text
from server.supervisor.words import field_label

def source_key(op_type: str) -> str | None:
    """The arg where an op type says its unit is (the location a stale_location hold is about)."""
    known = OP_TYPES.get(op_type)
    return known.source if known else None


def from_where_it_is(reason: str | None, op_type: str, args: Any, state: Mapping[str, Any]) -> dict[str, Any] | None:
    """For an op held because its unit is not where the operator said: the args as sent with the source
    location replaced by where the server holds the unit now (None when that is not the case)."""
    key = source_key(op_type)
    if reason != "stale_location" or key is None or not isinstance(args, dict) or not args.get("serial"):
        return None
    now = next((row["location"] for row in state.get("inventory", ())
                if row["serial"] == args["serial"] and not row["installed_in"]), None)
    return {**args, key: now} if now is not None and now != args.get(key) else None


@dataclass(frozen=True, slots=True)
class ArgField:
    """One input of the approve form. `kind`: text, int, quantity, decimal (money), bool, choice or list."""

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
    if isinstance(info, mi.Metadata):  # a described type (money)
        info = info.type
    if isinstance(info, mi.IntType):
        return "int", ()
    if isinstance(info, mi.DecimalType):
        return "decimal", ()
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


def arg_fields(op_type: str, values: Mapping[str, Any] | None, lang: str = DEFAULT) -> list[ArgField]:
    """The inputs for an op's args, filled with `values` (args as sent, or as a supervisor typed them)."""
    known = OP_TYPES.get(op_type)
    if known is None:
        return []
    shape = known.args
    values = values or {}
    fields = []
    quantities = {name for name, _ in quantity_fields(shape)}
    for info in mi.type_info(shape).fields:
        kind, choices = ("quantity", ()) if info.name in quantities else _kind(info.type)
        fields.append(
            ArgField(info.name, field_label(info.name, lang), kind,
                     info.required, _shown(kind, values.get(info.name)), choices)
        )
    return fields


def typed_values(form: Mapping[str, str]) -> dict[str, str]:
    """The args inputs of a submitted form, as typed: {name: text}."""
    return {key.removeprefix("args."): value for key, value in form.items() if key.startswith("args.")}


def args_from_form(op_type: str, form: Mapping[str, str], lang: str = DEFAULT) -> dict[str, Any]:
    """The args a supervisor typed, converted by kind; empty inputs are left out. Raises Invalid naming the
    input (`args.quantity`) when a number is not one; the op's own validation does the rest."""
    typed = typed_values(form)
    args: dict[str, Any] = {}
    for field in arg_fields(op_type, None, lang):
        typed_text = typed.get(field.name, "").strip()
        if not typed_text:
            continue
        if field.kind == "int":
            try:
                args[field.name] = int(typed_text)
            except ValueError:
                raise Invalid(text(lang, "form.not_whole", label=field.label, value=repr(typed_text)),
                              field=field.input_name) from None
        elif field.kind == "quantity":
            try:  # in its one form: 8, or "2.5" (exact; the op's validation checks range and places)
                amount = Decimal(typed_text.replace(",", "."))
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite():
                raise Invalid(text(lang, "form.not_number", label=field.label, value=repr(typed_text)),
                              field=field.input_name)
            amount = canon(amount)
            args[field.name] = amount if type(amount) is int else quantity_text(amount)
        elif field.kind == "decimal":
            try:
                args[field.name] = str(Decimal(typed_text))  # exact; the op's validation checks the places
            except InvalidOperation:
                raise Invalid(text(lang, "form.not_number", label=field.label, value=repr(typed_text)),
                              field=field.input_name) from None
        elif field.kind == "bool":
            if typed_text == "yes":
                args[field.name] = True
        elif field.kind == "list":
            args[field.name] = [item.strip() for item in typed_text.replace("\n", ",").split(",") if item.strip()]
        else:
            args[field.name] = typed_text
    return args


def correction(op_type: str, sent: Any, typed: dict[str, Any]) -> dict[str, Any] | None:
    """The corrected args to approve with, or None when the form says the same as the op as sent."""
    try:
        same = parse_args(op_type, typed) == parse_args(op_type, sent)
    except DomainError:  # one of them does not parse: approving says why
        same = typed == sent
    return None if same else typed
