"""Wire shapes of purchasing (/api/purchase-orders, /api/constraints, /api/replenishment), as msgspec Structs.

Money goes out as a decimal string (`"12.50"`) and comes in as a string or a JSON number, decoded to a
Decimal from its text (server/rules/money.py checks it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from server.ops.args import Amount, Code, Quantity
from server.rules.quantities import MAX_QUANTITY

Name = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^\S(?:.*\S)?$")]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]
Number = Annotated[str, Meta(min_length=1, max_length=64, description="letters, digits, '.', '_' or '-'")]
Price = Annotated[Decimal, Meta(description='a decimal string such as "12.50" (a JSON number is taken too), '
                                            "at most 6 decimal places")]
Limit = Annotated[int, Meta(ge=0, le=MAX_QUANTITY)]
MAX_LINES = 5000
MAX_SERIALS = 10_000


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class PoLineIn(Body, kw_only=True):
    part: Code
    quantity: Quantity
    unit_price: Price
    serials: Annotated[list[Code], Meta(min_length=1, max_length=MAX_SERIALS)] | None = None
    lot: Code | None = None
    location: Code | None = None  # where it will be received: else the first incoming location (by code)
    expected_date: date | None = None


class PoIn(Body, kw_only=True):
    number: Number | None = None  # else from the pattern (GEMBA_PO_NUMBER_PATTERN, default PO-{yyyy}-{seq:04})
    supplier: Name
    lines: Annotated[list[PoLineIn], Meta(min_length=1, max_length=MAX_LINES)]
    note: Note | None = None


class PoLineOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    line: int
    po_line: str  # NUMBER/LINE
    part: str
    unit: str
    tracking: str  # the part's
    ordered: int
    received: Amount
    remaining: int
    status: str  # open, received, closed_short, cancelled
    unit_price: str
    total: str  # ordered × unit price
    location: str
    serials: list[str] | None = None
    lot: str | None = None
    expected_date: date | None = None


class PoReceiptOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One receipt against a line of the PO (server/purchasing/receiving.py), oldest first."""

    po_line: str
    part: str
    quantity: int
    unit_cost: str | None  # money: the line's unit price unless the receipt gave its own
    received_by: str
    received_at: datetime
    op_id: UUID
    serial: str | None = None
    lot: str | None = None
    note: str | None = None  # an over-delivery a supervisor accepted


class PoOut(msgspec.Struct, kw_only=True):
    number: str
    supplier: str
    status: str  # draft, open, received, cancelled
    currency: str
    total: str
    note: str | None
    created_by: str
    created_at: datetime
    opened_by: str | None
    opened_at: datetime | None
    closed_by: str | None  # who received the last line, or cancelled it
    closed_at: datetime | None
    lines: list[PoLineOut]
    receipts: list[PoReceiptOut] = []


class PoSummary(msgspec.Struct, kw_only=True):
    number: str
    supplier: str
    status: str
    currency: str
    total: str
    line_count: int
    open_lines: int
    next_expected: date | None  # the earliest expected date of its open lines
    created_by: str
    created_at: datetime
    opened_at: datetime | None


class PoPage(msgspec.Struct, kw_only=True):
    items: list[PoSummary]
    total: int
    limit: int
    offset: int


# ---- min/max and replenishment ----------------------------------------------------------------------
class ConstraintIn(Body, kw_only=True):
    """Set a part's min and max stock in a location and below; neither: remove the constraint."""

    part: Code
    location: Code
    min: Limit | None = None
    max: Limit | None = None


class ConstraintOut(msgspec.Struct, kw_only=True):
    part: str
    location: str
    unit: str
    min: int | None
    max: int | None
    updated_by: str | None
    updated_at: datetime | None


class ConstraintsPage(msgspec.Struct, kw_only=True):
    items: list[ConstraintOut]
    total: int
    limit: int
    offset: int


class ReplenishmentItem(msgspec.Struct, kw_only=True):
    part: str
    location: str
    unit: str
    available: Amount  # in the location and below
    on_order: Amount  # on open purchase order lines to be received there or below
    min: int
    max: int | None
    suggested: int  # max (else min) − available − on order, never below 0
    supplier: str | None  # the part's last supplier
    unit_price: str | None  # its last unit price


class ReplenishmentOut(msgspec.Struct, kw_only=True):
    items: list[ReplenishmentItem]
    total: int
    currency: str


class DraftIn(Body, kw_only=True):
    location: Code | None = None  # what is below min there and below (else everywhere)
    supplier: Name | None = None  # only this supplier's PO (and the parts without a last supplier go to it)


class Skipped(msgspec.Struct, kw_only=True):
    part: str
    location: str
    reason: str


class DraftOut(msgspec.Struct, kw_only=True):
    purchase_orders: list[PoOut]
    skipped: list[Skipped]
