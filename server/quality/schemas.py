"""Wire shapes of quality issues (/api/issues) and the `open_issue` op's args, as msgspec Structs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from typing import Annotated

import msgspec
from msgspec import Meta

from server.ops.args import Amount, Args, Code, Text
from server.quality.models import Disposition

Title = Annotated[str, Meta(min_length=1, max_length=200)]


class OpenIssue(Args, kw_only=True):
    """The `open_issue` op's args, and the body of POST /api/issues: a unit, a lot or a row."""

    title: Title
    description: Text | None = None
    serial: Code | None = None
    part: Code | None = None
    lot: Code | None = None
    location: Code | None = None
    isolate: bool = False  # set the stock it names aside (Unavailable) in the same op


class CloseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    disposition: Disposition
    note: Text


class Isolated(msgspec.Struct, kw_only=True, omit_defaults=True):
    location: str
    quantity: Amount
    serial: str | None = None
    lot: str | None = None


class IssueOut(msgspec.Struct, kw_only=True):
    id: UUID
    number: str
    status: str  # open, closed
    title: str
    description: str | None
    part: str
    serial: str | None
    lot: str | None
    location: str | None
    isolate: bool
    isolated: list[Isolated]  # what it set aside when it was opened
    opened_by: str
    opened_at: datetime
    disposition: str | None = None
    note: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None


class IssuePage(msgspec.Struct, kw_only=True):
    items: list[IssueOut]
    total: int
    limit: int
    offset: int
