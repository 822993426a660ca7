"""Values as the driver gives them, read without SQLAlchemy's work per value, and made into what the API
sends. The only place that knows how each engine stores ids and times:

- ids: SQLite stores advanced-alchemy's GUID as 16 bytes, asyncpg returns its own UUID (a `uuid.UUID`).
  `raw_id` reads an id column as it comes (no `uuid.UUID` built per row: 50,000 rows' ids then cost
  nothing; the values stay hashable), `uuid_of` makes one a `UUID`, `id_text` its canonical text; `IdText`
  is a column type that reads an id straight into that text (a first pull reads 300,000 of them).
- times: SQLite stores `YYYY-MM-DD HH:MM:SS.ffffff` text (UTC); `raw_time` reads it as that text instead of
  a datetime parsed per row, `rfc3339` writes either form as the API does.
- JSON columns read as text (`json_of`): SQLite's stored text, or asyncpg's decoded value.
- money (server/models.py `Money`): `raw_money` reads it as stored — SQLite's text, asyncpg's Decimal, both with
  6 decimal places — and `money_text_raw` writes that as the wire does, by trimming its text (~10 µs less a value
  than `Money` and `money_text`: the usage CSV writes 100,000 of them).
- quantities (server/models.py `QuantityType`): `raw_quantity` reads one as stored — SQLite's millionths, asyncpg's
  Decimal —, `quantity_reader` gives the function that makes it what `QuantityType` reads (an int when whole):
  without SQLAlchemy's layers per value (the replenishment list reads 16,000).
- writing: `uuid_bytes` (an id as SQLite stores it) and `bind_processor` (a column type's own converter,
  through SQLAlchemy's private per-dialect cache), for server/db/bulk.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Integer, LargeBinary, Numeric, String, case, cast, func, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine, UserDefinedType

from server.models import Number, canon, from_scaled

Processor = Callable[[Any], Any] | None
SCALE = 1_000_000  # SQLite holds quantities and, as text with 6 places, money in millionths (server/models.py)


def _sqlite(session: Any) -> bool:
    """Is `session` (or the dialect named, for a query built once per engine) SQLite's?"""
    return (session if isinstance(session, str) else session.bind.dialect.name) == "sqlite"


def raw_id(session: Any, column: Any) -> Any:
    """An id column read as the driver returns it: bytes on SQLite, asyncpg's UUID on PostgreSQL."""
    return type_coerce(column, LargeBinary) if _sqlite(session) else column


def raw_time(session: Any, column: Any) -> Any:
    """A time column read as SQLite stores it (text, UTC) instead of a datetime parsed per row (~2.5 µs
    each); PostgreSQL's driver gives datetimes at no cost. See `rfc3339`."""
    return type_coerce(column, String) if _sqlite(session) else column


def raw_money(session: Any, column: Any) -> Any:
    """A Money column read as the driver returns it: text with 6 decimal places on SQLite, a Decimal of
    NUMERIC(18, 6) on PostgreSQL. See `money_text_raw`."""
    return type_coerce(column, String) if _sqlite(session) else type_coerce(column, Numeric(18, 6))


def raw_quantity(session: Any, column: Any) -> Any:
    """A quantity column read as the driver returns it: SQLite's integer millionths, PostgreSQL's Decimal. See
    `quantity_reader`."""
    return type_coerce(column, Integer) if _sqlite(session) else type_coerce(column, Numeric(18, 6))


def quantity_reader(session: Any) -> Callable[[Any], Number]:
    """What makes a `raw_quantity` the quantity `QuantityType` reads (NULL stays None)."""
    convert = from_scaled if _sqlite(session) else canon
    return lambda value: None if value is None else convert(value)


def money_text_raw(value: Any) -> str:
    """A raw amount (`raw_money`) in the wire's form, 2 to 6 decimal places ("126.00", "0.0125"): what
    server/rules/money.py `money_text` writes, made from the stored text (always 6 places)."""
    whole, _, fraction = str(value).partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def money_millionths(value: Any) -> int:
    """A raw amount (`raw_money`) as an integer of millionths: SQLite's text has exactly 6 places."""
    return int(value.replace(".", "")) if isinstance(value, str) else int(value.scaleb(6))


def whole_value_sum(session: Any, quantity: Any, money: Any) -> tuple[Any, Any]:
    """(a condition: the row's quantity is whole; the Σ of quantity × money over the rows it holds for, exact): on
    PostgreSQL in NUMERIC; on SQLite in integers — the quantity's millionths / 10^6 × the amount's text without its
    point (its millionths; SQLite's SUM of integers fails rather than round). `money_of_sum` reads the sum."""
    if not _sqlite(session):
        whole = quantity == func.trunc(quantity)
        return whole, func.sum(case((whole, quantity * money)))
    millionths = type_coerce(quantity, Integer)
    whole = millionths % SCALE == 0
    micros = cast(func.replace(type_coerce(money, String), ".", ""), Integer)  # the amount's millionths
    return whole, func.sum(case((whole, millionths // SCALE * micros)))


def money_of_sum(session: Any, value: Any) -> Decimal:
    """A `whole_value_sum` as the amount (none summed: 0)."""
    if value is None:
        return Decimal(0)
    return Decimal(value).scaleb(-6) if _sqlite(session) else Decimal(value)


def uuid_of(value: Any) -> UUID:
    """A raw id (`raw_id`) as a UUID."""
    return UUID(bytes=value) if isinstance(value, bytes) else value


def id_text(value: Any) -> str | None:
    """A raw id (`raw_id`) as its canonical text, `8-4-4-4-12` hex digits."""
    if value is None:
        return None
    if isinstance(value, bytes):
        h = value.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(value)


def rfc3339(value: Any) -> str | None:
    """A time as the API writes it, from SQLite's stored text `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, `raw_time`)
    or a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:]}Z"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class IdText(UserDefinedType[Any]):
    """An id column read for JSON and nothing else: its canonical text on SQLite (from the 16 bytes), asyncpg's
    own UUID (a uuid.UUID, which JSON encodes as that text) on PostgreSQL."""

    cache_ok = True

    def get_col_spec(self) -> str:
        return "UUID"

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return id_text if dialect.name == "sqlite" else None


def id_as_text(column: Any) -> Any:
    """`column` read through `IdText`, under its own name."""
    return type_coerce(column, IdText()).label(column.key)


def json_of(value: str | bytes | Any, into: Any) -> Any:
    """A JSON column read as its text (SQLite), or already decoded by the driver (asyncpg decodes jsonb), as
    `into`."""
    if isinstance(value, (str, bytes)):
        return msgspec.json.decode(value, type=into)
    return msgspec.convert(value, into)


def uuid_bytes(value: Any) -> Any:
    """An id as SQLite stores advanced-alchemy's binary GUID: 16 bytes."""
    if type(value) is UUID:
        return value.int.to_bytes(16, "big")  # what UUID.bytes returns, without the property's call
    if value is None or isinstance(value, bytes):
        return value
    return (value if isinstance(value, UUID) else UUID(str(value))).bytes


def bind_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Processor:
    """The column type's converter of a Python value for the driver, as SQLAlchemy itself applies it (its
    private per-dialect cache `_cached_bind_processor`: see tests/unit/test_sqlalchemy_internals.py)."""
    return column_type._cached_bind_processor(dialect)
