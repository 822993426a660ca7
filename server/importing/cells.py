"""A cell's text as the value the API would take, by the API's own Structs (server/api/schemas.py,
server/ops/args.py): their field types and constraints decide, each cell on its own so that a row's report
names every cell at fault, not only the first.

Spreadsheets write numbers as text: `12`, `12.0`, `12,5` (a decimal comma, in a `;`-separated file), and with
thousands separators when a cell is formatted so. `1.000` or `2,500` may be a thousand or one and a bit
depending on who wrote it, so such a number is refused rather than guessed. Quantities are whole units
(`12.00` is 12). Yes/no cells take `true`/`false`, `yes`/`no`, `1`/`0` (and `ja`/`nein`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

import msgspec
from msgspec import inspect as mi

from server.rules.text import NUL

TRUE = {"true", "yes", "y", "1", "ja", "j", "x"}
FALSE = {"false", "no", "n", "0", "nein"}
PLAIN = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")  # 1.000, 2,500: a thousands separator, or decimals?


class CellError(ValueError):
    """The cell's text is not a value of its field; the message says why, for people."""


@cache
def _fields(shape: type[msgspec.Struct]) -> dict[str, tuple[Any, Any]]:
    """{field: (annotated type, msgspec.inspect type without None and its metadata)} of a Struct."""
    infos = {info.name: info.type for info in mi.type_info(shape).fields}  # type: ignore[attr-defined]
    found = {}
    for field in msgspec.structs.fields(shape):
        info = infos[field.name]
        if isinstance(info, mi.UnionType):
            info = next(t for t in info.types if not isinstance(t, mi.NoneType))
        if isinstance(info, mi.Metadata):  # Annotated with a description: the type it describes
            info = info.type
        found[field.name] = (field.type, info)
    return found


def number(text: str, delimiter: str) -> Decimal:
    """A decimal number as a spreadsheet writes it: `12`, `-3.5`, or `3,5` in a `;`-separated file."""
    if GROUPED.match(text):
        whole, fraction = re.split(r"[.,]", text.lstrip("+-"))
        raise CellError(
            f"{text!r} may be {int(whole + fraction):,} or {whole}.{fraction} depending on who wrote it: "
            "write it without a thousands separator"
        )
    if delimiter == ";" and DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    if not PLAIN.match(text):
        raise CellError(f"{text!r} is not a number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - PLAIN lets only decimal numbers through
        raise CellError(f"{text!r} is not a number") from None


def whole(value: Decimal) -> int:
    if value != value.to_integral_value():
        raise CellError(f"{value} is not a whole number")
    return int(value)


def day(text: str) -> date:
    """A date as ISO 8601 writes it (`2027-03-31`): the one form that no spreadsheet locale reads two ways."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"{text!r} is not a date: write it as YYYY-MM-DD (2027-03-31)") from None


def boolean(text: str) -> bool:
    folded = text.lower()
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise CellError(f"{text!r} is neither yes nor no: write true or false (yes/no, 1/0)")


def choice(text: str, enum: type[Enum]) -> Enum:
    for member in enum:
        if member.value == text.lower():
            return member
    raise CellError(f"{text!r} is not one of {', '.join(str(member.value) for member in enum)}")


def _bounds(value: Any, info: Any) -> str | None:
    if info.ge is not None and value < info.ge:
        return f"{value:,} is too small: at least {info.ge:,}"
    if info.gt is not None and value <= info.gt:
        return f"{value:,} is too small: more than {info.gt:,}"
    if info.le is not None and value > info.le:
        return f"{value:,} is too large: at most {info.le:,}"
    if info.lt is not None and value >= info.lt:
        return f"{value:,} is too large: less than {info.lt:,}"
    return None


def typed(shape: type[msgspec.Struct], name: str, text: str, delimiter: str = ",") -> Any:
    """The value of `shape`'s field `name` that the cell `text` (not empty) holds, or CellError."""
    annotated, info = _fields(shape)[name]
    if NUL in text:
        raise CellError("must not contain the NUL character (U+0000)")
    if isinstance(info, mi.IntType):
        value: Any = whole(number(text, delimiter))
    elif isinstance(info, mi.FloatType):
        value = float(number(text, delimiter))
    elif isinstance(getattr(info, "type", info), mi.DecimalType):  # Metadata(type=DecimalType) when annotated
        value = number(text, delimiter)  # exact: the text, with a decimal comma read as a point
    elif isinstance(info, mi.BoolType):
        value = boolean(text)
    elif isinstance(info, mi.EnumType):
        value = choice(text, info.cls)
    elif isinstance(info, mi.DateType):
        value = day(text)
    else:
        value = text
    if isinstance(info, (mi.IntType, mi.FloatType)) and (out_of_bounds := _bounds(value, info)):
        raise CellError(out_of_bounds)
    if isinstance(info, mi.StrType) and info.max_length is not None and len(value) > info.max_length:
        raise CellError(f"{len(value)} characters: at most {info.max_length}")
    try:
        return msgspec.convert(value, annotated)
    except msgspec.ValidationError as error:  # a constraint not spelled out above
        raise CellError(str(error).replace("`", "")) from None
