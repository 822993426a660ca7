"""Wire shapes of production (/api/parts/{number}/bom, /api/runs, /api/expiring, /api/trace), as msgspec Structs.
Quantities go out as `Amount` (an integer when whole, else a decimal string), as everywhere."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from server.ops.args import Amount, Code, Quantity

Revision = Annotated[str, Meta(max_length=32)]
Number = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                             description="letters, digits, '.', '_' or '-'")]
MAX_LINES = 1000
MAX_SERIALS = 10_000


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BomLineIn(Body, kw_only=True):
    part: Code
    quantity: Quantity  # per assembly
    made_on_assembly: bool = False


class BomIn(Body, kw_only=True):
    revision: Revision | None = None  # the part's current revision unless given
    lines: Annotated[list[BomLineIn], Meta(max_length=MAX_LINES)]


class BomLineOut(msgspec.Struct, kw_only=True):
    line: int
    part: str
    quantity: Amount
    unit: str
    made_on_assembly: bool


class BomOut(msgspec.Struct, kw_only=True):
    part: str
    revision: str
    lines: list[BomLineOut]


class RunIn(Body, kw_only=True):
    number: Number | None = None  # else RUN-{yyyy}-{seq:04}
    part: Code
    quantity: Quantity
    location: Code  # where the built units go
    serials: Annotated[list[Code], Meta(min_length=1, max_length=MAX_SERIALS)] | None = None
    lot: Code | None = None


class RunLineOut(msgspec.Struct, kw_only=True):
    line: int
    part: str
    unit: str
    tracking: str
    per_unit: Amount
    required: Amount
    issued: Amount
    consumed: Amount
    remaining: Amount  # still to issue
    made_on_assembly: bool


class RunItemOut(msgspec.Struct, kw_only=True):
    at: datetime
    kind: str  # issued, produced, consumed, returned
    part: str
    serial: str | None
    lot: str | None
    quantity: Amount
    into_serial: str | None
    op_id: str


class RunOut(msgspec.Struct, kw_only=True):
    number: str
    part: str
    revision: str
    state: str
    quantity: Amount
    produced: Amount
    location: str
    wip_location: str | None
    serials: list[str] | None
    lot: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    requirements: list[RunLineOut]
    issued: list[RunItemOut]
    produced_items: list[RunItemOut]


class RunSummary(msgspec.Struct, kw_only=True):
    number: str
    part: str
    state: str
    quantity: Amount
    produced: Amount
    location: str
    created_at: datetime


class RunPage(msgspec.Struct, kw_only=True):
    items: list[RunSummary]
    total: int
    limit: int
    offset: int


class ExpiringOut(msgspec.Struct, kw_only=True):
    part: str
    lot: str | None
    serial: str | None
    location: str
    quantity: Amount
    expiry: date
    days_left: int  # negative: expired that many days ago
    status: str


class ExpiringPage(msgspec.Struct, kw_only=True):
    days: int
    items: list[ExpiringOut]


class TraceOut(msgspec.Struct, kw_only=True):
    """The genealogy of a unit or a lot: `down` what it is made of (a tree), `up` the assemblies it is in
    (innermost first) and the runs that touched it, `ops` every op on what the report names."""

    subject: dict[str, Any]
    down: list[dict[str, Any]]
    up: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    ops: list[dict[str, Any]]
