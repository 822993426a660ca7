"""Wire shapes of kits (/api/kits), as msgspec Structs. Quantities go out as an integer when whole, else a
decimal string (`Amount`), and come in as either (exact)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from typing import Annotated

import msgspec
from msgspec import Meta

from server.ops.args import Amount, Code, Quantity

MAX_LINES = 500
RunRef = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^\S(?:.*\S)?$")]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class KitLineIn(Body, kw_only=True):
    part: Code
    quantity: Quantity


class KitIn(Body, kw_only=True):
    run: RunRef | None = None  # the run it is for (its number): completing the kit issues its contents to it
    location: Code  # where it is staged: its tote is made under it
    lines: Annotated[list[KitLineIn], Meta(min_length=1, max_length=MAX_LINES)]


class Suggestion(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where to pick from: available stock, first expiring first (FEFO) when expiry is known, else oldest."""

    location: str
    quantity: Amount
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None


class KitLineOut(msgspec.Struct, kw_only=True):
    line: int
    part: str
    tracking: str
    unit: str
    quantity: Amount
    picked: Amount
    remaining: Amount
    suggested: list[Suggestion] = []


class ClosedItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What was in a completed kit's tote: issued to its run, or released there (`reason`: why not issued)."""

    part: str
    serial: str | None = None
    lot: str | None = None
    quantity: Amount
    reason: str | None = None
    message: str | None = None


class KitClosing(msgspec.Struct, kw_only=True):
    """A kit for a run, completed: what its tote held went to the run (`issued`) or stayed there (`released`)."""

    run: str | None
    issued: list[ClosedItem] = []
    released: list[ClosedItem] = []
    note: str


class KitOut(msgspec.Struct, kw_only=True):
    id: UUID
    number: str
    status: str  # open, completed, cancelled
    run: str | None
    location: str  # where it is staged
    tote: str  # the kit's own location (its code is the kit's number's, under `location`)
    created_by: str
    created_at: datetime
    closed_by: str | None = None
    closed_at: datetime | None = None
    lines: list[KitLineOut] = []
    closing: KitClosing | None = None  # in the answer of completing a kit for a run: issued or released


class KitSummary(msgspec.Struct, kw_only=True):
    number: str
    status: str
    run: str | None
    location: str
    lines: int
    quantity: Amount  # of every line together
    picked: Amount
    created_by: str
    created_at: datetime


class KitPage(msgspec.Struct, kw_only=True):
    items: list[KitSummary]
    total: int
    limit: int
    offset: int
