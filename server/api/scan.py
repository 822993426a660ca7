"""GET /api/scan (what a code is) and GET /api/scan/misses (codes that matched nothing)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get

from server.api.params import Limit, Offset
from server.api.schemas import InventoryItem, Out
from server.api.security import actor_of, requires
from server.auth import Principal
from server.errors import Invalid
from server.models import Role
from server.ops.args import Amount
from server.scan.service import ScanService

MAX_CODE = 4000
ScanKind = Literal["unit", "lot", "location", "part", "supplier_label", "gtin", "unknown"]


class ScanFields(Out, kw_only=True):
    """What a receive screen pre-fills. `part` is our part number when one matched."""

    part: str | None = None
    supplier_part: str | None = None
    manufacturer_part: str | None = None
    manufacturer: str | None = None
    quantity: Amount | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    po: str | None = None
    po_line: str | None = None
    date_code: str | None = None
    country: str | None = None
    gtin: str | None = None
    sscc: str | None = None
    location: str | None = None


class ScanElement(Out, kw_only=True):
    id: str
    name: str
    value: str


class ScanPart(Out, kw_only=True):
    id: UUID
    part_number: str
    description: str
    revision: str
    unit: str
    tracking: str


class ScanLocation(Out, kw_only=True):
    id: UUID
    code: str
    name: str
    kind: str
    available: bool
    count_locked: bool
    parent: str | None


class StockLine(Out, kw_only=True):
    part: str
    location: str
    lot: str | None
    status: str
    quantity: Amount
    rows: int


class ScanOut(Out, kw_only=True):
    code: str
    kind: ScanKind
    found: bool
    format: Literal["gemba", "gs1", "iso15434", "gtin", "text"]
    fields: ScanFields
    elements: list[ScanElement]
    part: ScanPart | None
    unit: InventoryItem | None
    location: ScanLocation | None
    rows: list[InventoryItem]
    rows_total: int
    stock: list[StockLine]
    errors: list[str]
    warnings: list[str]


class ScanMissOut(Out, kw_only=True):
    code: str
    kind: str
    count: int
    last_user: str
    last_device_id: UUID | None
    first_seen_at: datetime
    last_seen_at: datetime


class ScanMissesPage(Out, kw_only=True):
    items: list[ScanMissOut]
    total: int
    limit: int
    offset: int


class ScanController(Controller):
    path = "/api/scan"
    tags = ["scan"]

    @get("/")
    async def scan(self, code: str, scanner: ScanService, request: Request[Principal, str, object]) -> ScanOut:
        """What a scanned code is: one of our labels (unit, lot, location, part), a supplier label
        (ISO/IEC 15434, GS1), a GTIN, or plain text equal to a serial, location code or part number;
        with the matching inventory and the parsed `fields`. `code` is URL-encoded; control characters
        (GS, RS, EOT) are kept. A code that matches nothing is recorded for review."""
        if not code or len(code) > MAX_CODE:
            raise Invalid(f"code must be 1 to {MAX_CODE} characters", field="code")
        return msgspec.convert(await scanner.scan(code, actor_of(request.user)), ScanOut)

    @get("/misses", guards=[requires(Role.supervisor)])
    async def misses(
        self,
        scanner: ScanService,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ScanMissesPage:
        """Codes that were scanned and matched nothing, most recently seen first, with how often."""
        items, total = await scanner.misses(limit, offset)
        return ScanMissesPage(
            items=msgspec.convert(items, list[ScanMissOut]), total=total, limit=limit, offset=offset
        )
